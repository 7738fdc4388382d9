import { Prisma, type GraphExecution, type Node, type NodeExecution } from '../../generated/prisma/client.js';
import { limitLiteral, type SqlRunner } from '../../db/sql.js';
import type { NodeExecutionFilter } from '../../generated/graphql.js';
import { graphKeyOfRow, graphKeyTable, type GraphKey } from '../graphs/graph-store.js';
import { alignById, groupBy } from '../shared/by-id.js';
import { NODE_TABLE } from '../graphs/columns.js';
import { columnValue } from '../../db/columns.js';
import {
  graphExecutionColumns,
  nodeExecutionPageColumns,
  runPageColumns,
  runReadColumns,
  nodeExecutionModelColumns,
  prefixedGraphExecutionColumns,
  runFromPrefixed,
  afterKeyset,
  jsonArray,
  nodeExecutionJsonRows,
  rowsFromJson,
  runJsonRows,
  and,
  graphExecutionConditions,
  nodeExecutionConditions,
  orderBy,
  type ExecutionScope,
} from './execution-sql.js';

export type Keyset = { at: Date; id: string };

export type ExecutionPage = ExecutionScope & {
  direction: 'ASC' | 'DESC';
  after: Keyset | null;
  /** Rows to fetch (`pageLimit`): the page size, plus one when `pageInfo` asks whether more exist. */
  limit: number;
  /** Whether the JSON payload columns are read: whole rows (see `graphExecutionColumns`); else `runPageColumns`. */
  wholeRow: boolean;
  /** Without payloads, the optional columns read (`runPageSelection`). */
  optional: readonly string[];
};

/**
 * Lists filtered by owner, status and time ranges are planned for their own parameters on every call: PostgreSQL's
 * generic plan for a prepared `created_at >= $4 AND created_at < $5 … LIMIT $6` guesses a tiny range and picks a
 * bitmap scan plus sort of every run in it (measured 1.8 ms and 490 rows for a 21-row page, against 0.28 ms and
 * 21 rows for the index-order scan its custom plan uses). Key lookups stay prepared.
 */
const PLANNED_PER_CALL = { planPerCall: true } as const;

export async function listGraphExecutions(sql: SqlRunner, page: ExecutionPage): Promise<GraphExecution[]> {
  const where = and([...graphExecutionConditions(page), ...afterKeyset('created_at', page.after, page.direction, 'e')]);
  const statement = Prisma.sql`
    SELECT ${runPageColumns(page)} FROM graph_executions e
    WHERE ${where} ORDER BY ${orderBy('created_at', page.direction, 'e')} LIMIT ${limitLiteral(page.limit)}`;
  return sql.query<GraphExecution>(statement, PLANNED_PER_CALL);
}

export async function countGraphExecutions(sql: SqlRunner, scope: ExecutionScope): Promise<number> {
  const rows = await sql.query<{ count: number }>(
    Prisma.sql`SELECT count(*)::int AS count FROM graph_executions e WHERE ${and(graphExecutionConditions(scope))}`,
    PLANNED_PER_CALL,
  );
  return Number(rows[0]?.count ?? 0);
}

/** The WHERE, ORDER BY and LIMIT of one page of the runs of one graph version (given as SQL: a parent's columns). */
function runsPageOf(page: ExecutionPage, graphId: string, graphVersion: string): Prisma.Sql {
  const where = and([...graphExecutionConditions(page), ...afterKeyset('created_at', page.after, page.direction, 'e')]);
  return Prisma.sql`
    FROM graph_executions e
    WHERE e.graph_id = ${Prisma.raw(graphId)} AND e.graph_version = ${Prisma.raw(graphVersion)} AND ${where}
    ORDER BY ${orderBy('created_at', page.direction, 'e')} LIMIT ${limitLiteral(page.limit)}`;
}

/** One page of runs per graph version, in one statement: a LATERAL subquery per parent walks its index. */
export async function graphExecutionsByGraphs(sql: SqlRunner, graphs: GraphKey[], page: ExecutionPage): Promise<Map<string, GraphExecution[]>> {
  const rows = await sql.query<GraphExecution>(Prisma.sql`
    SELECT x.* FROM ${graphKeyTable(graphs)} AS p(graph_id, graph_version)
    CROSS JOIN LATERAL (SELECT ${runPageColumns(page)} ${runsPageOf(page, 'p.graph_id', 'p.graph_version')}) x`);
  return groupBy(rows, graphKeyOfRow);
}

/**
 * A JSON column `as` holding one page of the runs of the graph version of the row aliased `g` (`runJsonRows`), with
 * the conditions, order and limit of `graphExecutionsByGraphs`: a graph list and its runs in one statement. ARRAY()
 * keeps the subquery's order.
 */
export function graphRunsPageColumn(page: ExecutionPage, as: string): Prisma.Sql {
  return Prisma.sql`array_to_json(ARRAY(SELECT ${jsonArray(runJsonRows(page))} ${runsPageOf(page, 'g.id', 'g.version')})) AS ${Prisma.raw(`"${as}"`)}`;
}

/** The runs of `graphRunsPageColumn`, back in the model's shape. */
export function graphExecutionsFromJson(value: unknown, page: ExecutionPage, graph: GraphKey): GraphExecution[] {
  return rowsFromJson<GraphExecution>(value, runJsonRows(page), { graphId: graph.id, graphVersion: graph.version, isDeleted: false });
}

export async function countGraphExecutionsByGraphs(sql: SqlRunner, graphs: GraphKey[], scope: ExecutionScope): Promise<Map<string, number>> {
  const rows = await sql.query<{ graphId: string; graphVersion: number; count: number }>(Prisma.sql`
    SELECT e.graph_id AS "graphId", e.graph_version AS "graphVersion", count(*)::int AS count
    FROM graph_executions e
    WHERE (e.graph_id, e.graph_version) IN (SELECT * FROM ${graphKeyTable(graphs)})
      AND ${and(graphExecutionConditions(scope))}
    GROUP BY e.graph_id, e.graph_version`);
  return new Map(rows.map((row) => [graphKeyOfRow(row), Number(row.count)]));
}

export type NodeExecutionPage = {
  filter?: NodeExecutionFilter | null;
  after: Keyset | null;
  limit: number;
  wholeRow: boolean;
  /** Without payloads, the optional columns read (`nodeExecutionPageSelection`). */
  optional: readonly string[];
  /**
   * Each row's node, read along when NodeExecution.node is selected: `full` (the Node model) when the query asks
   * for its JSON columns, `light` (without `inputDefault` and `metadata`) otherwise.
   */
  node: 'none' | NodeForm;
};

/**
 * How much of a node a page reads along: `key` (its id and block id, from the node execution's own trigger-kept
 * copy: no lookup of the node) when the query asks for nothing else of it, `light` (without the JSON columns), or
 * `full` (the Node model).
 */
export type NodeForm = 'key' | 'light' | 'full';
/** A node read along with a page: at least its id and block id (see NodeForm). */
export type NodeRead = Pick<Node, 'id' | 'blockId'> & Partial<Node>;

/**
 * A node execution's node as one JSON value in the Prisma Node model's shape (it has no timestamps, so JSON loses
 * nothing): a page read with its nodes stays one statement. The light form leaves the JSON columns out entirely,
 * so a light node can never be mistaken for a whole one.
 */
const nodeObject = (form: 'light' | 'full', nodeId: string) => {
  const columns = form === 'full' ? NODE_TABLE.columns : NODE_TABLE.columns.filter((column) => column.kind !== 'json');
  return `(SELECT json_build_object(${columns.map((column) => `'${column.key}', ${columnValue(column, 'nd')}`).join(', ')}) FROM nodes nd WHERE nd.id = ${nodeId})`;
};
const nodeJson = (form: NodeForm) =>
  Prisma.raw(form === 'key' ? `json_build_object('id', x."nodeId", 'blockId', x."nodeBlockId") AS node` : `${nodeObject(form, 'x."nodeId"')} AS node`);

/** One page of a run's node executions (the run's id given as SQL), in the order added, each with its node if asked. */
function nodePageOf(page: NodeExecutionPage, runId: string): Prisma.Sql {
  // The node is looked up per row of the limited page.
  return Prisma.sql`
    SELECT x.*${page.node !== 'none' ? Prisma.sql`, ${nodeJson(page.node)}` : Prisma.empty} FROM (
      SELECT ${nodeExecutionPageColumns(page)}${page.node === 'key' ? Prisma.raw(`, n.block_id AS "nodeBlockId"`) : Prisma.empty}
      ${nodePageConditions(page, runId)}
    ) x`;
}

/** The FROM, WHERE, ORDER BY and LIMIT of one page of a run's node executions (alias `n`). */
function nodePageConditions(page: NodeExecutionPage, runId: string): Prisma.Sql {
  const where = and([...nodeExecutionConditions(page.filter), ...afterKeyset('added_at', page.after, 'ASC', 'n')]);
  return Prisma.sql`FROM node_executions n
      WHERE n.graph_execution_id = ${Prisma.raw(runId)} AND ${where}
      ORDER BY ${orderBy('added_at', 'ASC', 'n')} LIMIT ${limitLiteral(page.limit)}`;
}

/**
 * A page of node executions as one JSON value (`nodeExecutionJsonRows`), each row's array ending with its node when
 * asked: the block id alone for the key form, else the node as an object. PostgreSQL evaluates the node's subquery
 * only for the rows the LIMIT keeps. ARRAY() keeps the subquery's order.
 */
function nodePageJson(page: NodeExecutionPage, runId: string): Prisma.Sql {
  const node = page.node === 'none' ? [] : [page.node === 'key' ? 'n.block_id' : nodeObject(page.node, 'n.node_id')];
  return Prisma.sql`array_to_json(ARRAY(SELECT ${jsonArray(nodeExecutionJsonRows(page), ...node)} ${nodePageConditions(page, runId)}))`;
}

/** The rows and nodes of a `nodePageJson` value, in the loaders' shapes. */
function nodeExecutionsFromJson(value: unknown, page: NodeExecutionPage, runId: string): { rows: NodeExecution[]; nodes: NodeRead[] } {
  const arrays = value as unknown[][];
  const shape = nodeExecutionJsonRows(page);
  const rows = rowsFromJson<NodeExecution>(arrays, shape, { graphExecutionId: runId });
  if (page.node === 'none') return { rows, nodes: [] };
  const at = shape.keys.length;
  const nodes = arrays.map((values, i): NodeRead => (page.node === 'key' ? { id: rows[i]!.nodeId, blockId: values[at] as string } : (values[at] as NodeRead)));
  return { rows, nodes };
}

/** Takes the nodes read along (`page.node`) out of node-execution rows. */
function splitNodes(rows: Array<NodeExecution & { node?: NodeRead | null; nodeBlockId?: string }>): { rows: NodeExecution[]; nodes: NodeRead[] } {
  const nodes: NodeRead[] = [];
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- `nodeBlockId` only feeds the key form's node
  const executions = rows.map(({ node, nodeBlockId, ...row }) => {
    if (node) nodes.push(node);
    return row;
  });
  return { rows: executions, nodes };
}

/** Node executions in the order they were added, one page per run, in one statement. */
export async function nodeExecutionsByGraphExecutions(
  sql: SqlRunner,
  executionIds: string[],
  page: NodeExecutionPage,
): Promise<{ groups: Map<string, NodeExecution[]>; nodes: NodeRead[] }> {
  const read = await sql.query<NodeExecution & { node?: NodeRead | null }>(Prisma.sql`
    SELECT y.* FROM unnest(${executionIds}::uuid[]) AS p(graph_execution_id)
    CROSS JOIN LATERAL (${nodePageOf(page, 'p.graph_execution_id')}) y`);
  const { rows, nodes } = page.node !== 'none' ? splitNodes(read) : { rows: read, nodes: [] };
  return { groups: groupBy(rows, (row) => row.graphExecutionId), nodes };
}

/**
 * One run by id with pages of its node executions, in one statement: each page is a JSON array column built
 * with the page's own conditions, order and limit (the same as `nodeExecutionsByGraphExecutions`), so a query
 * for a run and its node executions is one round trip. Rows come back in the loaders' shape; the run whole when
 * `runRead.wholeRow`, else with the columns the query asks of it (`runReadColumns`).
 */
export async function runWithNodeExecutionPages(
  sql: SqlRunner,
  id: string,
  pages: NodeExecutionPage[],
  runRead: { wholeRow: boolean; optional: readonly string[] },
): Promise<{ run: GraphExecution | null; pages: Array<{ rows: NodeExecution[]; nodes: NodeRead[] }> }> {
  const pageColumns = pages.map((page, i) => Prisma.sql`${nodePageJson(page, 'e.id')} AS ${Prisma.raw(`"page.${i}"`)}`);
  const [row] = await sql.query<Record<string, unknown>>(Prisma.sql`
    SELECT ${runReadColumns(runRead)}, ${Prisma.join(pageColumns)} FROM graph_executions e WHERE e.id = ${id}::uuid`);
  if (!row) return { run: null, pages: pages.map(() => ({ rows: [], nodes: [] })) };
  const read = pages.map((page, i) => {
    const read = nodeExecutionsFromJson(row[`page.${i}`], page, id);
    // Emptied, not deleted: deleting would turn the run into a slow dictionary-mode object.
    row[`page.${i}`] = undefined;
    return read;
  });
  return { run: row as GraphExecution, pages: read };
}

export async function countNodeExecutionsByGraphExecutions(sql: SqlRunner, executionIds: string[], filter?: NodeExecutionFilter | null): Promise<Map<string, number>> {
  const rows = await sql.query<{ graphExecutionId: string; count: number }>(Prisma.sql`
    SELECT n.graph_execution_id AS "graphExecutionId", count(*)::int AS count FROM node_executions n
    WHERE n.graph_execution_id = ANY(${executionIds}::uuid[]) AND ${and(nodeExecutionConditions(filter))}
    GROUP BY n.graph_execution_id`);
  return new Map(rows.map((row) => [row.graphExecutionId, Number(row.count)]));
}

export async function graphExecutionsByIds(sql: SqlRunner, ids: readonly string[]): Promise<Array<GraphExecution | null>> {
  const rows = await sql.query<GraphExecution>(Prisma.sql`SELECT ${graphExecutionColumns()} FROM graph_executions e WHERE e.id = ANY(${[...ids]}::uuid[])`);
  return alignById(ids, rows);
}

const RUN_PREFIX = 'run.';

/** Node executions by id (all model columns), each with its run (all columns): both loaders are fed by one statement. */
export async function nodeExecutionsWithRunsByIds(sql: SqlRunner, ids: readonly string[]): Promise<{ nodeExecutions: Array<NodeExecution | null>; runs: GraphExecution[] }> {
  const rows = await sql.query<Record<string, unknown>>(Prisma.sql`
    SELECT ${nodeExecutionModelColumns()}, ${prefixedGraphExecutionColumns({ table: 'e' }, RUN_PREFIX)}
    FROM node_executions n JOIN graph_executions e ON e.id = n.graph_execution_id
    WHERE n.id = ANY(${[...ids]}::uuid[])`);
  const split = rows.map((row) => runFromPrefixed<NodeExecution, GraphExecution>(row, RUN_PREFIX));
  return { nodeExecutions: alignById(ids, split.map((s) => s.rest)), runs: split.flatMap((s) => (s.run ? [s.run] : [])) };
}
