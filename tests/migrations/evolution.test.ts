import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations, defaultMigrationsDir, listMigrationNames } from '../../src/db/migrations.js';
import { generateApiKeySecret } from '../../src/modules/auth/api-key-secret.js';
import { syncBuiltInCatalogue } from '../../src/modules/blocks/block-sync.js';
import { createServer, type AppServer } from '../../src/server/app.js';
import { createPostgresDatabase, testDatabaseKinds } from '../helpers/databases.js';
import { catalogueBlockId } from '../helpers/factories.js';

/**
 * Schema evolution never loses data (the phidata failure: a new column/table shape broke existing session data).
 * The database is built at the FIRST migration only, filled through SQL written against that first schema, then
 * every later migration in prisma/migrations is applied one at a time; after each, every table keeps its rows and
 * the values of every column it had before (counts and checksums). At the end the whole API works on the migrated
 * data. New migrations are picked up automatically.
 */

const MIGRATIONS = listMigrationNames(defaultMigrationsDir);
const TABLES = ['users', 'api_keys', 'graphs', 'nodes', 'links', 'graph_executions', 'node_executions', 'sessions', 'session_events'];

async function sql<T = Record<string, unknown>>(db: Database, text: string, params: unknown[] = []): Promise<T[]> {
  if (db.kind === 'pglite') return (await db.pglite.query<T>(text, params)).rows;
  return (await db.pool.query(text, params)).rows as T[];
}

/** Node executions whose copies of their run's and node's fields (node_execution_stats_copies) disagree with them. */
async function copiesOutOfStep(db: Database): Promise<number> {
  const [row] = await sql<{ n: number }>(
    db,
    `SELECT count(*)::int AS n FROM node_executions n
       JOIN graph_executions e ON e.id = n.graph_execution_id JOIN nodes nd ON nd.id = n.node_id
      WHERE n.user_id IS DISTINCT FROM e.user_id OR n.run_created_at IS DISTINCT FROM e.created_at
         OR n.run_is_deleted IS DISTINCT FROM e.is_deleted OR n.block_id IS DISTINCT FROM nd.block_id`,
  );
  return row!.n;
}

/** Realistic data written with the FIRST migration's columns only (this SQL must never be updated for new columns). */
async function fillFirstSchema(db: Database, keyHash: { prefix: string; secretHash: string }) {
  const statements = [
    `INSERT INTO users (id, email, name, metadata, created_at, updated_at)
       SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'user' || i || '@example.com', 'User ' || i,
              jsonb_build_object('plan', CASE WHEN i % 2 = 0 THEN 'pro' ELSE 'free' END), now() - (i || ' days')::interval, now()
         FROM generate_series(1, 6) i`,
    `INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, permissions, status, created_at, last_used_at, revoked_at)
       SELECT gen_random_uuid(), u.id, 'key of ' || u.name, 'agk_old' || substr(md5(u.id::text), 1, 5), md5(u.email),
              ARRAY['READ_GRAPHS','WRITE_GRAPHS']::"ApiKeyPermission"[], CASE WHEN u.email LIKE 'user6%' THEN 'REVOKED'::"ApiKeyStatus" ELSE 'ACTIVE' END,
              now(), NULL, CASE WHEN u.email LIKE 'user6%' THEN now() END
         FROM users u`,
    `INSERT INTO graphs (id, version, name, description, is_active, user_id, created_at, updated_at)
       SELECT ('10000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, v, 'Graph ' || g || ' «ünïcødé» 🙂', CASE WHEN g % 3 = 0 THEN NULL ELSE 'desc ' || g END,
              v = 2, ('00000000-0000-4000-8000-' || lpad((g % 6 + 1)::text, 12, '0'))::uuid, now() - ((30 - g) || ' days')::interval - (v || ' hours')::interval, now()
         FROM generate_series(1, 24) g, generate_series(1, 2) v`,
    `INSERT INTO nodes (id, graph_id, graph_version, block_id, label, node_type, input_default, metadata)
       SELECT gen_random_uuid(), g.id, g.version, 'block-' || n, 'node ' || n,
              (CASE n WHEN 1 THEN 'INPUT' WHEN 4 THEN 'OUTPUT' ELSE 'STANDARD' END)::"NodeType",
              jsonb_build_object('temperature', n / 10.0), jsonb_build_object('position', jsonb_build_array(n * 10, 0))
         FROM graphs g, generate_series(1, 4) n`,
    `INSERT INTO links (id, graph_id, graph_version, source_id, sink_id, source_name, sink_name, is_static)
       SELECT gen_random_uuid(), a.graph_id, a.graph_version, a.id, b.id, 'out', 'in', false
         FROM nodes a JOIN nodes b ON a.graph_id = b.graph_id AND a.graph_version = b.graph_version
          AND substr(b.block_id, 7)::int = substr(a.block_id, 7)::int + 1`,
    `INSERT INTO graph_executions (id, graph_id, graph_version, user_id, status, inputs, outputs, stats, cost, error_message, is_deleted, created_at, updated_at, started_at, ended_at)
       SELECT gen_random_uuid(), g.id, g.version, g.user_id,
              (ARRAY['COMPLETED','FAILED','RUNNING','QUEUED','TERMINATED']::"ExecutionStatus"[])[1 + r % 5],
              jsonb_build_object('prompt', 'run ' || r), CASE WHEN r % 5 = 0 THEN '{"answer": 42}'::jsonb END, '{"tokens": 10}'::jsonb,
              r % 17, CASE WHEN r % 5 = 1 THEN 'boom' END, r % 11 = 0,
              now() - (r || ' hours')::interval, now(), now() - (r || ' hours')::interval + interval '1 second',
              CASE WHEN r % 5 IN (0, 1, 4) THEN now() - (r || ' hours')::interval + interval '5 seconds' END
         FROM graphs g, generate_series(1, 6) r`,
    `INSERT INTO node_executions (id, graph_execution_id, node_id, status, inputs, outputs, stats, cost, error_message, added_at, queued_at, started_at, ended_at)
       SELECT gen_random_uuid(), e.id, n.id, e.status, '{}'::jsonb, NULL, NULL, e.cost, NULL, e.created_at, e.created_at, e.started_at, e.ended_at
         FROM graph_executions e JOIN nodes n ON n.graph_id = e.graph_id AND n.graph_version = e.graph_version`,
    `INSERT INTO sessions (id, app_name, user_id, agent_id, status, metadata, state, team_session_id, version, last_sequence, created_at, updated_at)
       SELECT ('20000000-0000-4000-8000-' || lpad(s::text, 12, '0'))::uuid, 'app-' || (s % 3), ('00000000-0000-4000-8000-' || lpad((s % 6 + 1)::text, 12, '0'))::uuid,
              'agent-' || s, (ARRAY['ACTIVE','COMPLETED','FAILED']::"SessionStatus"[])[1 + s % 3],
              jsonb_build_object('topic', 'topic ' || s), jsonb_build_object('step', s), NULL, 1 + s % 4, 0,
              now() - (s || ' hours')::interval, now() - (s || ' minutes')::interval
         FROM generate_series(1, 30) s`,
    // Team sessions: each member belongs to a team session of the same user (the shape the phidata upgrade broke).
    `UPDATE sessions m SET team_session_id = t.id FROM sessions t
      WHERE m.user_id = t.user_id AND m.id <> t.id AND t.id = (SELECT min(id::text)::uuid FROM sessions x WHERE x.user_id = m.user_id)`,
    `INSERT INTO session_events (id, session_id, sequence, invocation_id, agent_id, author, content, actions, metadata, branch, timestamp, client_event_id)
       SELECT gen_random_uuid(), s.id, q, 'inv-' || (q / 5), s.agent_id, CASE WHEN q % 2 = 0 THEN 'user' ELSE 'agent' END,
              jsonb_build_object('text', 'message ' || q || ' — ✓'), CASE WHEN q % 4 = 0 THEN jsonb_build_object('stateDelta', jsonb_build_object('k' || q, q)) END,
              '{}'::jsonb, 'root' || CASE WHEN q % 3 = 0 THEN '.a' ELSE '' END, s.created_at + (q || ' seconds')::interval,
              CASE WHEN q % 2 = 0 THEN 'client-' || q END
         FROM sessions s, generate_series(1, 25) q WHERE q <= 5 + (substr(s.id::text, 25)::int % 21)`,
    `UPDATE sessions s SET last_sequence = (SELECT count(*) FROM session_events e WHERE e.session_id = s.id)`,
    // One key the test knows, for the API check at the end.
    `INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, permissions, status, created_at)
       VALUES (gen_random_uuid(), '00000000-0000-4000-8000-000000000002', 'evolution', $1, $2,
               ARRAY['READ_GRAPHS','WRITE_GRAPHS','EXECUTE_GRAPHS','READ_SESSIONS','WRITE_SESSIONS']::"ApiKeyPermission"[], 'ACTIVE', now())`,
  ];
  for (const statement of statements) await sql(db, statement, statement.includes('$1') ? [keyHash.prefix, keyHash.secretHash] : []);
}

type Fingerprint = Record<string, { count: number; digest: string; columns: string[] }>;

async function columnsOf(db: Database, table: string): Promise<string[]> {
  const rows = await sql<{ column_name: string }>(db, `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, [table]);
  return rows.map((r) => r.column_name);
}

/** Count and md5 of every row over the given columns (or all current ones), ordered by the primary key columns. */
async function fingerprint(db: Database, only?: Fingerprint): Promise<Fingerprint> {
  const result: Fingerprint = {};
  for (const table of TABLES) {
    const columns = only?.[table]?.columns ?? (await columnsOf(db, table));
    const row = `concat_ws('|', ${columns.map((c) => `coalesce("${c}"::text, '∅')`).join(', ')})`;
    const key = table === 'graphs' ? 'id, version' : 'id';
    const [r] = await sql<{ n: number | string; digest: string | null }>(db, `SELECT count(*)::int AS n, md5(string_agg(${row}, E'\\n' ORDER BY ${key})) AS digest FROM "${table}"`);
    result[table] = { count: Number(r!.n), digest: r!.digest ?? '', columns };
  }
  return result;
}

describe.each(testDatabaseKinds)('schema evolution on %s', (kind) => {
  const migrationsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-evolution-'));
  let db: Database;
  let dropDatabase: (() => Promise<void>) | null = null;
  let server: AppServer | null = null;
  const secret = generateApiKeySecret();
  let initial: Fingerprint;

  beforeAll(async () => {
    expect(MIGRATIONS.length).toBeGreaterThan(0);
    fs.copyFileSync(path.join(defaultMigrationsDir, 'migration_lock.toml'), path.join(migrationsDir, 'migration_lock.toml'));
    fs.cpSync(path.join(defaultMigrationsDir, MIGRATIONS[0]!), path.join(migrationsDir, MIGRATIONS[0]!), { recursive: true });
    if (kind === 'pglite') {
      db = await openDatabase({ pgliteDataDir: 'memory://', poolMax: 1 });
    } else {
      const created = await createPostgresDatabase('agentgraph_evolution');
      db = await openDatabase({ url: created.url, pgliteDataDir: '', poolMax: 5 });
      dropDatabase = created.drop;
    }
    expect((await applyMigrations(db, { migrationsDir })).applied).toEqual([MIGRATIONS[0]]);
    await fillFirstSchema(db, secret);
    initial = await fingerprint(db);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.close();
    await dropDatabase?.();
    fs.rmSync(migrationsDir, { recursive: true, force: true });
  });

  it('the first schema holds realistic data in every table', () => {
    for (const table of TABLES) expect(initial[table]!.count, table).toBeGreaterThan(0);
  });

  it.each(MIGRATIONS.slice(1).map((name, i) => [i + 1, name] as const))('migration %i (%s) keeps every row and every prior column value', async (_, name) => {
    const before = await fingerprint(db);
    fs.cpSync(path.join(defaultMigrationsDir, name), path.join(migrationsDir, name), { recursive: true });
    expect((await applyMigrations(db, { migrationsDir })).applied).toEqual([name]);
    const after = await fingerprint(db, before);
    for (const table of TABLES) {
      expect(after[table]!.count, `${name}: rows of ${table}`).toBe(before[table]!.count);
      expect(after[table]!.digest, `${name}: values of ${table} (columns ${before[table]!.columns.join(', ')})`).toBe(before[table]!.digest);
    }
  });

  it('after every migration, the data of the first schema is intact and the database is up to date', async () => {
    const now = await fingerprint(db, initial);
    for (const table of TABLES) expect(now[table], table).toEqual(initial[table]);
    expect((await applyMigrations(db)).applied).toEqual([]);
    // Columns copied from other tables by a later migration were backfilled for the existing rows.
    expect(await copiesOutOfStep(db)).toBe(0);
  });

  it('the full API works on the migrated data: reads, writes, statistics', async () => {
    server = await createServer({ db, log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
    const { url } = await server.listen(0, '127.0.0.1');
    const post = async <T,>(query: string, variables?: unknown) => {
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${secret.key}` }, body: JSON.stringify({ query, variables }) });
      return { res, body: (await res.json()) as { data: T; errors?: Array<{ extensions?: Record<string, unknown> }> } };
    };
    const gql = async <T,>(query: string, variables?: unknown): Promise<T> => {
      const { res, body } = await post<T>(query, variables);
      expect(body.errors, `${query.slice(0, 80)}: ${JSON.stringify(body.errors)}`).toBeUndefined();
      expect(res.status).toBe(200);
      return body.data;
    };
    const userId = '00000000-0000-4000-8000-000000000002';
    const expectedGraphs = Number((await sql<{ n: number }>(db, `SELECT count(*)::int AS n FROM graphs WHERE user_id = $1 AND is_active`, [userId]))[0]!.n);
    // A page of 4: each graph is priced at the schema's maxima (500 nodes, 2,000 links); totalCount still counts all.
    const graphs = await gql<{ graphs: { totalCount: number; nodes: Array<{ id: string; version: number; nodes: unknown[]; links: unknown[]; versions: { totalCount: number } }> } }>(
      '{ graphs(first: 4) { totalCount nodes { id version name nodes { id blockId inputDefault } links { id source { id } sink { id } } versions { totalCount } } } }',
    );
    expect(graphs.graphs.totalCount).toBe(expectedGraphs);
    for (const g of graphs.graphs.nodes) {
      expect(g.nodes).toHaveLength(4);
      expect(g.links).toHaveLength(3);
      expect(g.versions.totalCount).toBe(2);
    }
    // The block catalogue arrives with its migration and the sync `db:migrate` runs. Graphs stored before it name
    // blocks it does not have: they stay readable (and, below, runnable); `problems` says what the rules would refuse.
    await syncBuiltInCatalogue(db.prisma);
    const legacy = await gql<{ graph: { nodes: Array<{ id: string; block: unknown }>; problems: Array<{ rule: string; nodeId: string }> } }>(
      'query($id: ID!) { graph(id: $id) { nodes { id block { id } } problems { rule nodeId } } }',
      { id: graphs.graphs.nodes[0]!.id },
    );
    expect(legacy.graph.nodes.map((n) => n.block)).toEqual([null, null, null, null]);
    const unknownBlocks = legacy.graph.problems.filter((p) => p.rule === 'UNKNOWN_BLOCK').map((p) => p.nodeId);
    expect(unknownBlocks.sort()).toEqual(legacy.graph.nodes.map((n) => n.id).sort());
    const expectedRuns = Number((await sql<{ n: number }>(db, `SELECT count(*)::int AS n FROM graph_executions WHERE user_id = $1 AND NOT is_deleted`, [userId]))[0]!.n);
    const runs = await gql<{ graphExecutions: { totalCount: number; nodes: Array<{ id: string; nodeExecutions: { totalCount: number } }> } }>(
      '{ graphExecutions(first: 100) { totalCount nodes { id status cost durationMs graph { id } nodeExecutions(first: 10) { totalCount nodes { id status node { blockId } } } } } }',
    );
    expect(runs.graphExecutions.totalCount).toBe(expectedRuns);
    for (const run of runs.graphExecutions.nodes) expect(run.nodeExecutions.totalCount).toBe(4);

    const sessions = await gql<{ sessions: { totalCount: number; nodes: Array<{ id: string; eventCount: number; events: { totalCount: number }; teamSession: { id: string } | null }> } }>(
      '{ sessions(first: 100) { totalCount nodes { id status eventCount teamSession { id } memberSessions { totalCount } events(last: 5) { totalCount nodes { sequence author content } } } } }',
    );
    const expectedSessions = await sql<{ id: string; n: number }>(db, `SELECT s.id, (SELECT count(*)::int FROM session_events e WHERE e.session_id = s.id) AS n FROM sessions s WHERE s.user_id = $1`, [userId]);
    expect(sessions.sessions.totalCount).toBe(expectedSessions.length);
    for (const s of sessions.sessions.nodes) {
      const n = expectedSessions.find((e) => e.id === s.id)!.n;
      expect(s.eventCount).toBe(n);
      expect(s.events.totalCount).toBe(n);
    }
    expect(sessions.sessions.nodes.some((s) => s.teamSession)).toBe(true);

    await gql('query($from: DateTime!, $to: DateTime!) { executionStats(filter: { from: $from, to: $to }) { total successRate byStatus { status count } duration { p50Ms p95Ms } cost { total } timeSeries { total } topGraphs { runs graph { id } } blocks { blockId runs } } }', {
      from: new Date(Date.now() - 30 * 86_400_000).toISOString(),
      to: new Date(Date.now() + 86_400_000).toISOString(),
    });

    // Writes on the migrated rows: an append continues the old sequence; a run of an old graph gets its node executions.
    const active = sessions.sessions.nodes.find((s) => expectedSessions.some((e) => e.id === s.id));
    await sql(db, `UPDATE sessions SET status = 'ACTIVE' WHERE id = $1`, [active!.id]);
    const appended = await gql<{ appendSessionEvents: { events: Array<{ sequence: number }> } }>(
      'mutation($id: ID!) { appendSessionEvents(sessionId: $id, events: [{ author: "user", content: { text: "after the migration" }, actions: { stateDelta: { migrated: true } } }]) { events { sequence } session { state } } }',
      { id: active!.id },
    );
    expect(appended.appendSessionEvents.events[0]!.sequence).toBe(active!.eventCount + 1);
    const graphId = graphs.graphs.nodes[0]!.id;
    const executed = await gql<{ executeGraph: { graphExecution: { nodeExecutions: { totalCount: number } } } }>(
      'mutation($id: ID!) { executeGraph(graphId: $id, inputs: { q: 1 }) { graphExecution { id status nodeExecutions { totalCount } } } }',
      { id: graphId },
    );
    expect(executed.executeGraph.graphExecution.nodeExecutions.totalCount).toBe(4);
    // A version written now is checked against the catalogue (a made-up block is refused), and so are its runs.
    const { body: refused } = await post('mutation($id: ID!) { updateGraph(id: $id, input: { name: "v3", nodes: [{ key: "a", blockId: "b" }] }) { graph { version } } }', { id: graphId });
    expect(refused.errors?.[0]?.extensions?.problems).toEqual([expect.objectContaining({ rule: 'UNKNOWN_BLOCK', node: 'a' })]);
    const inputBlock = catalogueBlockId('AgentInputBlock');
    const updated = await gql<{ updateGraph: { graph: { version: number } } }>(
      `mutation($id: ID!) { updateGraph(id: $id, input: { name: "v3", nodes: [{ key: "a", blockId: "${inputBlock}", nodeType: INPUT, inputDefault: { name: "q" } }] }) { graph { version } } }`,
      { id: graphId },
    );
    expect(updated.updateGraph.graph.version).toBe(3);
    expect((await db.prisma.graph.findMany({ where: { id: graphId }, orderBy: { version: 'asc' } })).map((g) => g.blocksChecked)).toEqual([false, false, true]);
    await gql('mutation($id: ID!) { executeGraph(graphId: $id, inputs: { q: 2 }) { graphExecution { id } } }', { id: graphId });
    await gql('mutation { createSession(input: { appName: "after" }) { session { id version } } }');
    expect(await copiesOutOfStep(db)).toBe(0);
  });
});
