/**
 * The floor of the comparison: `node:http` + `pg`, no GraphQL, no auth, no validation beyond what the SQL needs.
 * Each question is one hand-written statement (LATERAL joins for the per-parent limits); rows are assembled in
 * JavaScript and sent with JSON.stringify. Run: `node --import tsx bench/compare/floor-server.ts` (DATABASE_URL, PORT).
 */
import http from 'node:http';
import pg from 'pg';

const port = Number(process.env.PORT ?? 5200);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10) });

type Row = Record<string, unknown>;
type Run = { id: string; status: string; createdAt: Date; startedAt: Date | null; endedAt: Date | null; cost: number };

const RUN_COLUMNS = 'e.id, e.status, e.created_at AS "createdAt", e.started_at AS "startedAt", e.ended_at AS "endedAt", e.cost';
const OUTER_RUN_COLUMNS = 'e.id, e.status, e."createdAt", e."startedAt", e."endedAt", e.cost';
const LATEST_RUNS = `LEFT JOIN LATERAL (
    SELECT ${RUN_COLUMNS} FROM graph_executions e
    WHERE e.graph_id = g.id AND e.graph_version = g.version AND NOT e.is_deleted
    ORDER BY e.created_at DESC, e.id DESC LIMIT 10) e ON true`;

const runOf = (r: Row): Run | null =>
  r.id === null ? null : { id: r.id as string, status: r.status as string, createdAt: r.createdAt as Date, startedAt: r.startedAt as Date | null, endedAt: r.endedAt as Date | null, cost: r.cost as number };

/** Groups flat join rows (already in order) into parents with child lists. */
function group<P>(rows: Row[], keyOf: (r: Row) => string, make: (r: Row) => P, add: (parent: P, r: Row) => void): P[] {
  const out: P[] = [];
  let lastKey: string | null = null;
  let current: P | null = null;
  for (const r of rows) {
    const key = keyOf(r);
    if (key !== lastKey) {
      current = make(r);
      out.push(current);
      lastKey = key;
    }
    add(current!, r);
  }
  return out;
}

const cursorOf = (r: { createdAt: Date; id: string }) => Buffer.from(JSON.stringify([r.createdAt.toISOString(), r.id])).toString('base64url');

const handlers: Record<string, (input: Row) => Promise<unknown>> = {
  async a() {
    const { rows } = await pool.query(`
      SELECT g.id AS gid, g.version, g.name, ${OUTER_RUN_COLUMNS}
      FROM (SELECT id, version, name, created_at FROM graphs WHERE is_active ORDER BY created_at DESC, id DESC, version DESC LIMIT 20) g
      ${LATEST_RUNS}
      ORDER BY g.created_at DESC, g.id DESC, g.version DESC, e."createdAt" DESC, e.id DESC`);
    const graphs = group(
      rows,
      (r) => `${r.gid}:${r.version}`,
      (r) => ({ id: r.gid, version: r.version, name: r.name, executions: [] as Run[] }),
      (g, r) => {
        const run = runOf(r);
        if (run) g.executions.push(run);
      },
    );
    return { graphs };
  },

  async b(input) {
    const { rows } = await pool.query(
      `SELECT e.id, e.status, e.created_at AS "createdAt", e.cost,
              n.id AS nid, n.status AS nstatus, n.started_at AS "startedAt", n.ended_at AS "endedAt", n.cost AS ncost, d.block_id AS "blockId"
       FROM graph_executions e
       LEFT JOIN node_executions n ON n.graph_execution_id = e.id
       LEFT JOIN nodes d ON d.id = n.node_id
       WHERE e.id = $1 AND NOT e.is_deleted
       ORDER BY n.added_at, n.id`,
      [input.id],
    );
    const first = rows[0];
    if (!first) return { run: null };
    return {
      run: {
        id: first.id,
        status: first.status,
        createdAt: first.createdAt,
        cost: first.cost,
        nodeExecutions: rows
          .filter((r) => r.nid !== null)
          .map((r) => ({ id: r.nid, status: r.nstatus, startedAt: r.startedAt, endedAt: r.endedAt, cost: r.ncost, blockId: r.blockId })),
      },
    };
  },

  async c(input) {
    const first = Number(input.first);
    const params: unknown[] = [input.userId, input.statuses, input.from, input.to, first + 1];
    let after = '';
    if (input.after) {
      const [at, id] = JSON.parse(Buffer.from(String(input.after), 'base64url').toString('utf8')) as [string, string];
      params.push(at, id);
      after = 'AND (e.created_at, e.id) < ($6::timestamptz, $7::uuid)';
    }
    const { rows } = await pool.query(
      `SELECT e.id, e.status, e.created_at AS "createdAt", e.graph_version AS "graphVersion", e.cost
       FROM graph_executions e
       WHERE e.user_id = $1 AND NOT e.is_deleted AND e.status = ANY($2::"ExecutionStatus"[]) AND e.created_at >= $3 AND e.created_at < $4 ${after}
       ORDER BY e.created_at DESC, e.id DESC LIMIT $5`,
      params,
    );
    const page = rows.slice(0, first);
    const last = page[page.length - 1];
    return { nodes: page, pageInfo: { hasNextPage: rows.length > first, endCursor: last ? cursorOf(last) : null } };
  },

  async d() {
    const { rows } = await pool.query(`
      SELECT u.id AS uid, u.email, g.id AS gid, g.version, g.name, ${OUTER_RUN_COLUMNS}
      FROM (SELECT id, email FROM users ORDER BY id LIMIT 20) u
      LEFT JOIN LATERAL (
        SELECT g.id, g.version, g.name, g.created_at FROM graphs g WHERE g.user_id = u.id AND g.is_active
        ORDER BY g.created_at DESC, g.id DESC, g.version DESC LIMIT 5) g ON true
      ${LATEST_RUNS}
      ORDER BY u.id, g.created_at DESC, g.id DESC, g.version DESC, e."createdAt" DESC, e.id DESC`);
    type G = { id: unknown; version: unknown; name: unknown; executions: Run[] };
    const users = group(
      rows,
      (r) => r.uid as string,
      (r) => ({ id: r.uid, email: r.email, graphs: [] as G[] }),
      (u, r) => {
        if (r.gid === null) return;
        let g = u.graphs[u.graphs.length - 1];
        if (!g || g.id !== r.gid || g.version !== r.version) u.graphs.push((g = { id: r.gid, version: r.version, name: r.name, executions: [] }));
        const run = runOf(r);
        if (run) g.executions.push(run);
      },
    );
    return { users };
  },

  async execute(input) {
    const { rows } = await pool.query(
      `WITH g AS (
         SELECT g.id, g.version FROM graphs g WHERE g.id = $1 ORDER BY g.is_active DESC, g.version DESC LIMIT 1
       ), e AS (
         INSERT INTO graph_executions (id, graph_id, graph_version, user_id, status, inputs, updated_at)
         SELECT gen_random_uuid(), g.id, g.version, $2, 'QUEUED', $3, now() FROM g
         RETURNING id, status, graph_version
       ), n AS (
         INSERT INTO node_executions (id, graph_execution_id, node_id, status, inputs, added_at)
         SELECT gen_random_uuid(), e.id, d.id, 'INCOMPLETE', '{}', now()
         FROM e JOIN nodes d ON d.graph_id = $1 AND d.graph_version = e.graph_version ORDER BY d.id
       )
       SELECT id, status, graph_version AS "graphVersion" FROM e`,
      [input.graphId, input.userId, JSON.stringify({ topic: 'benchmark' })],
    );
    return rows[0] ?? null;
  },

  async status(input) {
    const { rows } = await pool.query(
      `UPDATE graph_executions SET status = $2, updated_at = now() WHERE id = $1 AND status = $3 AND NOT is_deleted RETURNING id, status`,
      [input.id, input.status, input.from],
    );
    if (!rows[0]) throw new Error(`run ${String(input.id)} is not ${String(input.from)}`);
    return rows[0];
  },
};

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const handler = handlers[(req.url ?? '/').slice(1)];
    if (!handler || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    let input: Row;
    try {
      input = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Row) : {};
    } catch {
      res.writeHead(400).end();
      return;
    }
    handler(input).then(
      (result) => {
        const body = JSON.stringify(result);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      },
      (err: unknown) => {
        const body = JSON.stringify({ error: err instanceof Error ? err.message : String(err) });
        res.writeHead(500, { 'content-type': 'application/json' }).end(body);
      },
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => console.log(`floor listening on http://127.0.0.1:${port}`));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close();
    pool.end().finally(() => process.exit(0));
  });
}
