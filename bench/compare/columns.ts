/**
 * What agentgraph's full-row reads cost the Node process, against selection-aware column lists:
 * `tsx bench/compare/columns.ts postgresql://…/agentgraph_cmp_…` (a database kept with `npm run bench -- --keep-db`).
 *
 * Reads the runs of question d (100 graphs × 10 latest runs) and the node executions of question b (32 runs) with
 * agentgraph's column lists (GRAPH_EXECUTION_COLUMNS / NODE_EXECUTION_COLUMNS: jsonb inputs, outputs, stats
 * included) and with only the columns the questions select, through plain `pg`, sequentially; reports bytes on
 * the wire (from pg_column_size) and client time per statement.
 */
import pg from 'pg';

const url = process.argv[2];
if (!url) throw new Error('usage: tsx bench/compare/columns.ts <database url>');
const client = new pg.Client({ connectionString: url });
await client.connect();

const RUN_ALL = `e.id, e.graph_id AS "graphId", e.graph_version AS "graphVersion", e.user_id AS "userId", e.status::text AS status,
   e.inputs, e.outputs, e.stats, e.cost, e.error_message AS "errorMessage", e.is_deleted AS "isDeleted",
   e.parent_id AS "parentId", e.created_at AS "createdAt", e.updated_at AS "updatedAt", e.started_at AS "startedAt", e.ended_at AS "endedAt"`;
// What Graph.executions { id status createdAt startedAt endedAt cost } needs, plus the keys loaders use.
const RUN_NARROW = `e.id, e.graph_id AS "graphId", e.graph_version AS "graphVersion", e.user_id AS "userId", e.status::text AS status,
   e.cost, e.is_deleted AS "isDeleted", e.created_at AS "createdAt", e.started_at AS "startedAt", e.ended_at AS "endedAt"`;
const NODE_ALL = `n.id, n.graph_execution_id AS "graphExecutionId", n.node_id AS "nodeId", n.status::text AS status, n.inputs,
   n.outputs, n.stats, n.cost, n.error_message AS "errorMessage", n.added_at AS "addedAt", n.queued_at AS "queuedAt",
   n.started_at AS "startedAt", n.ended_at AS "endedAt"`;
const NODE_NARROW = `n.id, n.graph_execution_id AS "graphExecutionId", n.node_id AS "nodeId", n.status::text AS status, n.cost,
   n.added_at AS "addedAt", n.started_at AS "startedAt", n.ended_at AS "endedAt"`;

const graphs = await client.query<{ id: string; version: number }>(
  `SELECT g.id, g.version FROM (SELECT id FROM users ORDER BY id LIMIT 20) u
   CROSS JOIN LATERAL (SELECT id, version FROM graphs g WHERE g.user_id = u.id AND g.is_active ORDER BY created_at DESC, id DESC LIMIT 5) g`,
);
const runs = await client.query<{ id: string }>(`SELECT id FROM graph_executions WHERE status = 'COMPLETED' ORDER BY id LIMIT 32`);

const runsSql = (cols: string) => `SELECT x.* FROM unnest($1::uuid[], $2::int[]) AS p(graph_id, graph_version) CROSS JOIN LATERAL (
  SELECT ${cols} FROM graph_executions e WHERE e.graph_id = p.graph_id AND e.graph_version = p.graph_version AND NOT e.is_deleted
  ORDER BY e.created_at DESC, e.id DESC LIMIT 11) x`;
const nodesSql = (cols: string) => `SELECT x.* FROM unnest($1::uuid[]) AS p(graph_execution_id) CROSS JOIN LATERAL (
  SELECT ${cols} FROM node_executions n WHERE n.graph_execution_id = p.graph_execution_id ORDER BY n.added_at, n.id LIMIT 101) x`;
const bytesSql = (sql: string) => `SELECT count(*)::int AS rows, sum(pg_column_size(q.*))::int AS bytes FROM (${sql}) q`;

async function measure(label: string, sql: string, params: unknown[]) {
  const size = (await client.query<{ rows: number; bytes: number }>(bytesSql(sql), params)).rows[0]!;
  for (let i = 0; i < 30; i++) await client.query(sql, params);
  const n = 300;
  const started = performance.now();
  for (let i = 0; i < n; i++) await client.query(sql, params);
  const ms = (performance.now() - started) / n;
  console.log(`${label.padEnd(44)} ${String(size.rows).padStart(5)} rows ${String(Math.round(size.bytes / 1024)).padStart(5)} KiB  ${ms.toFixed(2)} ms/statement`);
}

const gParams = [graphs.rows.map((g) => g.id), graphs.rows.map((g) => g.version)];
await measure('d runs: agentgraph columns (16, jsonb incl.)', runsSql(RUN_ALL), gParams);
await measure('d runs: selected columns (10)', runsSql(RUN_NARROW), gParams);
const rParams = [runs.rows.map((r) => r.id)];
await measure('b×32 node executions: agentgraph columns (13)', nodesSql(NODE_ALL), rParams);
await measure('b×32 node executions: selected columns (8)', nodesSql(NODE_NARROW), rParams);
await client.end();
