/**
 * Statistics benchmark: `npm run bench:stats [-- --small] [-- --runs <N>] [-- --keep] [-- --reuse <database>]`.
 * `--reuse` measures again on a database an earlier run kept (migrated to the current migrations, not seeded again).
 *
 * Creates a fresh PostgreSQL database (TEST_POSTGRES_URL or postgresql://postgres@127.0.0.1:5432/postgres as the
 * admin connection), migrates it and loads, with COPY, 1,000,000 graph executions (`--runs N`; `--small`: 50,000) and
 * 5 node executions per run (3 per run from 5,000,000 runs on) over 90 days: 1,000 users with 5 graphs each, graph
 * popularity long-tailed so some users and graphs are much busier than others. Secondary indexes are dropped for the
 * load and rebuilt after it, triggers are off during COPY (the rows arrive uncounted by the statistics rollups, as in
 * a database older than them), then the rollups are back-filled as the server would (timed), then VACUUM ANALYZE.
 * Starts the real server on a free port and measures p50/p95 over HTTP (warm-up, then sequential requests) of:
 *   1. every user's 90-day summary with daily buckets (admin; rollups), and the same with `blocks` and `topGraphs`;
 *   2. one busy graph's 365 days in hourly buckets in Asia/Kathmandu (rows);
 *   3. a user's 90-day summary with daily buckets (the busiest user, and a median one) and 30 days (rows);
 *   4. one graph's 30-day summary with hourly buckets (the busiest graph);
 *   5. a page of 50 graphs with `stats` (admin), and `blocks(limit: 20)` over 90 days for a user (the busiest).
 * Prints the EXPLAIN ANALYZE plans of the row statements, writes bench/results/stats-<date>.md and drops the database
 * (unless --keep).
 */
import type pg from 'pg';
import type { Database } from '../../src/db/database.js';
import type { SqlRunner } from '../../src/db/sql.js';
import type { ApiKeyPermission } from '../../src/generated/prisma/client.js';
import { generateApiKeySecret } from '../../src/modules/auth/api-key-secret.js';
import { blockStats, durationStats, statsByGraphs, statusCounts, timeSeries, type StatsScope } from '../../src/modules/stats/stats-store.js';
import { bucketStarts } from '../../src/modules/stats/time-buckets.js';
import { BLOCKS } from '../../src/seed/catalogue.js';
import { cumulative, pickIndex } from '../../src/seed/executions.js';
import { iso, Rng } from '../../src/seed/random.js';
import { TABLES, type Cell, type TableSpec } from '../../src/seed/writer.js';
import { backfillRollups, markRollupsIncomplete } from '../../src/modules/stats/rollup-backfill.js';
import { catchUpAllQuarters } from '../../src/modules/stats/rollup-folder.js';
import { copyRows, dropSecondaryIndexes } from '../lib/copy.js';
import { capture, explainAnalyze } from '../lib/explain.js';
import { benchFlags, runBenchmark, type Scenario } from '../lib/harness.js';

const { small } = benchFlags();
const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : small ? 50_000 : 1_000_000;
if (!Number.isInteger(RUNS) || RUNS < 1_000) throw new Error('--runs takes a whole number of runs, at least 1000.');
const SIZES = small ? { users: 200, graphsPerUser: 5, runs: RUNS } : { users: 1_000, graphsPerUser: 5, runs: RUNS };
const NODES_PER_RUN = RUNS >= 5_000_000 ? 3 : 5;
/** Rows loaded as a database older than the statistics rollups holds them: uncounted, for the back-fill. */
const uncounted = (table: TableSpec): TableSpec => ({ ...table, columns: [...table.columns, 'in_rollups'] });
const RUN_TABLE = uncounted(TABLES.graphExecutions);
const NODE_TABLE = uncounted(TABLES.nodeExecutions);
const WARMUP = 15;
const REQUESTS = 100;
const DAY = 86_400_000;

/** Deterministic data; ids are time-ordered uuids (v7). */
const rng = new Rng(0x57a7_5eed);

type Graph = { id: string; userId: string; nodes: Array<{ id: string; blockId: string }>; popularity: number; createdAt: number };

const spec = {
  name: 'stats',
  title: 'Statistics benchmark',
  warmup: WARMUP,
  requests: REQUESTS,
  note: "Every user's questions read the statistics rollups (kept by triggers in each write's transaction) plus raw rows at the range's edges; one graph's over more than a week read its rollups (quarter-hours of its busy days) and its other days' runs; a user's read rows. Nothing is cached.",
};

/** Seeds the database (COPY), back-fills the rollups and says what it took. */
async function seed(db: Database, pool: pg.Pool): Promise<Seeded> {
  const seedStarted = Date.now();
  const now = Date.now();
  const start = now - 90 * DAY;
  const adminSecret = generateApiKeySecret();
  await db.prisma.user.create({
    data: { email: 'admin@bench.test', apiKeys: { create: { name: 'bench', prefix: adminSecret.prefix, secretHash: adminSecret.secretHash, permissions: ['ADMIN', 'READ_GRAPHS'] } } },
  });
  const userIds = Array.from({ length: SIZES.users }, (_, i) => rng.uuid7(start - 30 * DAY + i));
  const userSecrets = userIds.map(() => generateApiKeySecret());
  // FK triggers are off during every COPY (the executions and their node executions are loaded concurrently).
  const load = (table: TableSpec, rows: Iterable<Cell[]>) => copyRows(pool, table, rows, { withoutTriggers: true });
  await load(TABLES.users, userIds.map((id, i): Cell[] => [id, `user${i}@bench.test`, `User ${i}`, '{}', iso(start - 30 * DAY), iso(start - 30 * DAY)]));
  await load(
    TABLES.apiKeys,
    userIds.map((id, i): Cell[] => [rng.uuid7(start), id, 'bench', userSecrets[i]!.prefix, userSecrets[i]!.secretHash, '{READ_GRAPHS}', 'ACTIVE', iso(start), null, null]),
  );

  const blocks = BLOCKS.filter((b) => b.nodeType === 'STANDARD');
  const graphs: Graph[] = [];
  for (const userId of userIds) {
    for (let g = 0; g < SIZES.graphsPerUser; g++) {
      const createdAt = start - 20 * DAY + Math.floor(rng.next() * 10 * DAY);
      const nodes = [BLOCKS[0]!, ...Array.from({ length: NODES_PER_RUN - 2 }, () => rng.pick(blocks)), BLOCKS[1]!];
      graphs.push({ id: rng.uuid7(createdAt), userId, createdAt, popularity: rng.logNormal(1, 1.2), nodes: nodes.map((b) => ({ id: rng.uuid7(createdAt), blockId: b.id })) });
    }
  }
  await load(TABLES.graphs, graphs.map((g, i): Cell[] => [g.id, 1, `Graph ${i}`, null, true, g.userId, false, false, null, iso(g.createdAt), iso(g.createdAt)]));
  await load(TABLES.nodes, graphs.flatMap((g) => g.nodes.map((n): Cell[] => [n.id, g.id, 1, n.blockId, null, 'STANDARD', '{}', '{}'])));

  // Graph executions and their node executions; secondary indexes dropped for the load, rebuilt after.
  const rebuildIndexes = await dropSecondaryIndexes(pool, ['graph_executions', 'node_executions']);
  const sums = cumulative(graphs);
  const pickGraph = () => graphs[pickIndex(sums, rng.next())]!;
  const runRows: Cell[][] = [];
  const nodeRows: Cell[][] = [];
  const flushAt = 20_000;
  const flush = async () => {
    await Promise.all([load(RUN_TABLE, runRows), load(NODE_TABLE, nodeRows)]);
    runRows.length = 0;
    nodeRows.length = 0;
  };
  for (let r = 0; r < SIZES.runs; r++) {
    const createdAt = start + Math.floor(((now - start - 60_000) * (r + rng.next())) / SIZES.runs);
    const g = pickGraph();
    const u = rng.next();
    const status = u < 0.8 ? 'COMPLETED' : u < 0.89 ? 'FAILED' : u < 0.92 ? 'TERMINATED' : createdAt > now - DAY ? (u < 0.96 ? 'RUNNING' : 'QUEUED') : 'COMPLETED';
    const startedAt = status === 'QUEUED' ? null : createdAt + Math.round(rng.logNormal(400, 1));
    const finished = status === 'COMPLETED' || status === 'FAILED' || status === 'TERMINATED';
    const endedAt = finished && startedAt !== null ? startedAt + Math.round(Math.min(rng.logNormal(15_000, 1.2), 6 * 3_600_000)) : null;
    const stop = status === 'COMPLETED' ? NODES_PER_RUN : 1 + Math.floor(rng.next() * (NODES_PER_RUN - 1));
    const id = rng.uuid7(createdAt);
    let cost = 0;
    let cursor = startedAt ?? createdAt;
    const span = endedAt !== null && startedAt !== null ? endedAt - startedAt : 10_000;
    const runNodes: Cell[][] = [];
    for (let i = 0; i < NODES_PER_RUN; i++) {
      const node = g.nodes[i]!;
      let ns: string;
      if (status === 'QUEUED' || i > stop) ns = 'INCOMPLETE';
      else if (i < stop || status === 'COMPLETED') ns = 'COMPLETED';
      else ns = status;
      if (ns === 'INCOMPLETE' || startedAt === null) {
        runNodes.push([rng.uuid7(createdAt), id, node.id, ns, '{}', null, null, 0, null, iso(createdAt), null, null, null]);
        continue;
      }
      const nodeCost = ns === 'COMPLETED' ? Math.round(rng.next() * 20) : 0;
      cost += nodeCost;
      const segEnd = cursor + Math.floor(span / NODES_PER_RUN);
      const ended = ns === 'RUNNING' || ns === 'REVIEW' ? null : iso(segEnd);
      runNodes.push([rng.uuid7(createdAt), id, node.id, ns, '{}', null, null, nodeCost, null, iso(cursor), null, iso(cursor), ended]);
      cursor = segEnd;
    }
    const deleted = finished && rng.next() < 0.02;
    // The run's and node's copies (triggers are off during the load).
    runNodes.forEach((row, i) => nodeRows.push([...row, g.userId, iso(createdAt), deleted, g.nodes[i]!.blockId, false]));
    const updated = endedAt ?? startedAt ?? createdAt;
    runRows.push([
      id, g.id, 1, g.userId, status, '{}', null, null, cost, null, deleted, null,
      iso(createdAt), iso(updated), startedAt === null ? null : iso(startedAt), endedAt === null ? null : iso(endedAt), false,
    ]);
    if (runRows.length >= flushAt) await flush();
  }
  await flush();
  const copied = Date.now();
  await rebuildIndexes();
  const indexed = Date.now();
  const seedMs = Date.now() - seedStarted;
  // The back-fill, as the server runs it at boot (bigger batches: nothing else runs here).
  await markRollupsIncomplete(db.sql);
  const backfillStarted = Date.now();
  const backfill = await backfillRollups(db.sql, { batchSize: 20_000 });
  const backfillMs = Date.now() - backfillStarted;
  const vacuumStarted = Date.now();
  for (const table of ['graph_executions', 'node_executions', 'graphs', 'nodes', 'users', 'api_keys', 'run_rollups', 'graph_run_rollups', 'graph_quarter_rollups', 'block_rollups']) {
    await pool.query(`VACUUM (ANALYZE) ${table}`);
  }
  await pool.query('CHECKPOINT');
  const vacuumMs = Date.now() - vacuumStarted;
  const sizeLine = await tableSizes(pool);
  const backfillLine =
    `back-filled the rollups (${backfill.runs.toLocaleString('en')} runs, ${backfill.nodeExecutions.toLocaleString('en')} node executions) in ${(backfillMs / 1000).toFixed(1)} s, ` +
    `then VACUUM ANALYZE ${(vacuumMs / 1000).toFixed(1)} s; sizes: ${sizeLine}`;
  console.log(backfillLine);
  const count = async (table: string) => (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
  const [runCount, nodeCount] = [await count('graph_executions'), await count('node_executions')];
  const seedLine =
    `seeded ${runCount.toLocaleString('en')} graph executions and ${nodeCount.toLocaleString('en')} node executions in ${(seedMs / 1000).toFixed(1)} s ` +
    `(COPY ${((copied - seedStarted) / 1000).toFixed(1)} s, indexes ${((indexed - copied) / 1000).toFixed(1)} s)`;
  console.log(seedLine);
  return { now, adminKey: adminSecret.key, keyOf: async (userId: string) => userSecrets[userIds.indexOf(userId)]!.key, seedLine, backfillLine };
}

/** Rows and size on disk (indexes and TOAST included) of the executions and the rollups. */
async function tableSizes(pool: pg.Pool): Promise<string> {
  const { rows: sizes } = await pool.query<{ name: string; rows: number; bytes: string }>(
    `SELECT c.relname AS name, c.reltuples::bigint AS rows, pg_total_relation_size(c.oid) AS bytes FROM pg_class c
     WHERE c.relname IN ('run_rollups', 'graph_run_rollups', 'graph_quarter_rollups', 'block_rollups', 'graph_executions', 'node_executions') ORDER BY 1`,
  );
  const mb = (bytes: string | number) => `${(Number(bytes) / 1048576).toFixed(0)} MB`;
  return sizes.map((t) => `${t.name} ${Number(t.rows).toLocaleString('en')} rows, ${mb(t.bytes)}`).join('; ');
}

/**
 * A database an earlier run seeded and kept (`--reuse`): its runs end about when it was seeded; its keys are new ones
 * (secrets are never stored).
 */
async function reuseSeeded(db: Database, pool: pg.Pool, name: string): Promise<Seeded> {
  const { rows } = await pool.query<{ t: Date }>('SELECT max(created_at) AS t FROM graph_executions');
  if (!rows[0]?.t) throw new Error(`${name} holds no runs: seed it with --keep first.`);
  const now = rows[0].t.getTime() + 60_000;
  const keyFor = async (userId: string, permissions: ApiKeyPermission[]) => {
    const secret = generateApiKeySecret();
    await db.prisma.apiKey.create({ data: { userId, name: 'bench (reused)', prefix: secret.prefix, secretHash: secret.secretHash, permissions } });
    return secret.key;
  };
  const admin = await db.prisma.user.create({ data: { email: `admin-${Date.now()}@bench.test` } });
  // Days counted before a migration kept busy ones per quarter-hour: caught up as a server's folder would.
  const catchUpStarted = Date.now();
  const caughtUp = await catchUpAllQuarters(db.sql);
  if (caughtUp) await pool.query('VACUUM (ANALYZE) graph_quarter_rollups, graph_run_rollups');
  const catchUpLine = caughtUp ? `; caught up ${caughtUp} days of busy graphs per quarter-hour in ${((Date.now() - catchUpStarted) / 1000).toFixed(1)} s` : '';
  return {
    now,
    adminKey: await keyFor(admin.id, ['ADMIN', 'READ_GRAPHS']),
    keyOf: (userId) => keyFor(userId, ['READ_GRAPHS']),
    seedLine: `reused ${name} (seeded by an earlier run; runs end at ${new Date(now).toISOString()})`,
    backfillLine: `rollups back-filled by that run${catchUpLine}; sizes now: ${await tableSizes(pool)}`,
  };
}

type Seeded = { now: number; adminKey: string; keyOf(userId: string): Promise<string>; seedLine: string; backfillLine: string };

await runBenchmark(spec, async ({ db, pool, startServer, measure, report, reused }) => {
  const { now, adminKey, keyOf, seedLine, backfillLine } = reused ? await reuseSeeded(db, pool, benchFlags().reuse!) : await seed(db, pool);

  // ---- who to measure ----
  const { rows: perUser } = await pool.query<{ user_id: string; n: number }>(
    `SELECT user_id, count(*)::int AS n FROM graph_executions WHERE NOT is_deleted AND created_at >= $1 GROUP BY user_id ORDER BY n DESC`,
    [new Date(now - 90 * DAY)],
  );
  const busiest = perUser[0]!;
  const median = perUser[Math.floor(perUser.length / 2)]!;
  const [busiestKey, medianKey] = [await keyOf(busiest.user_id), await keyOf(median.user_id)];
  const { rows: perGraph } = await pool.query<{ graph_id: string; n: number }>(
    `SELECT graph_id, count(*)::int AS n FROM graph_executions WHERE NOT is_deleted AND created_at >= $1 GROUP BY graph_id ORDER BY n DESC LIMIT 1`,
    [new Date(now - 30 * DAY)],
  );
  const busiestGraph = perGraph[0]!;
  const range90 = { from: new Date(now - 90 * DAY), to: new Date(now) };
  const range30 = { from: new Date(now - 30 * DAY), to: new Date(now) };
  const range365 = { from: new Date(now - 365 * DAY), to: new Date(now) };
  const { rows: busiestOverall } = await pool.query<{ graph_id: string; n: number }>(
    `SELECT graph_id, count(*)::int AS n FROM graph_executions WHERE NOT is_deleted AND created_at >= $1 GROUP BY graph_id ORDER BY n DESC LIMIT 1`,
    [range365.from],
  );

  // ---- query plans ----
  const plans: Record<string, string> = {};
  const explain = async (label: string, run: (sql: SqlRunner) => Promise<unknown>) => {
    plans[label] = await explainAnalyze(pool, await capture(run));
  };
  const userScope: StatsScope = { userId: busiest.user_id, ...range90 };
  const graphScope: StatsScope = { userId: null, graphId: busiestGraph.graph_id, ...range30 };
  const dayStarts = bucketStarts('DAY', 'UTC', range90.from.getTime(), range90.to.getTime(), 10_000)!;
  const hourStarts = bucketStarts('HOUR', 'UTC', range30.from.getTime(), range30.to.getTime(), 10_000)!;
  await explain('busiest user, 90 days: counts by status', (p) => statusCounts(p, userScope));
  await explain('busiest user, 90 days: duration percentiles', (p) => durationStats(p, userScope));
  await explain('busiest user, 90 days: daily series', (p) => timeSeries(p, userScope, dayStarts));
  await explain('busiest graph, 30 days: hourly series', (p) => timeSeries(p, graphScope, hourStarts));
  const { rows: page } = await pool.query<{ id: string; version: number }>(`SELECT id, version FROM graphs WHERE is_active ORDER BY created_at DESC, id DESC, version DESC LIMIT 50`);
  await explain('Graph.stats of 50 graphs (admin)', (p) => statsByGraphs(p, page, { userId: null, ...range30 }));
  await explain('busiest user, 90 days: blocks(limit: 20)', (p) => blockStats(p, userScope, 20, 1));
  for (const [label, plan] of Object.entries(plans)) console.log(`\nEXPLAIN ANALYZE — ${label}\n${plan}`);

  // ---- HTTP measurements ----
  const http = await startServer();
  const SUMMARY = `query($f: ExecutionStatsFilter!, $b: TimeBucket, $tz: String) { executionStats(filter: $f, bucket: $b, timezone: $tz) {
    total byStatus { status count } successRate duration { count avgMs p50Ms p90Ms p95Ms p99Ms maxMs } cost { total avg }
    timeSeries { bucketStart total completed failed p95DurationMs cost } } }`;
  const WIDE = `query($f: ExecutionStatsFilter!, $b: TimeBucket, $tz: String) { executionStats(filter: $f, bucket: $b, timezone: $tz) {
    percentileRelativeError total byStatus { status count } successRate duration { count avgMs p50Ms p90Ms p95Ms p99Ms maxMs } cost { total avg }
    timeSeries { bucketStart total completed failed p95DurationMs cost }
    blocks(limit: 20) { blockId runs failures failureRate p95DurationMs } topGraphs(limit: 10) { graph { id name } runs completed failures successRate cost p95DurationMs } } }`;
  const scenarios: Scenario[] = [
    { name: "every user's 90-day summary, daily buckets (admin, UTC)", apiKey: adminKey, query: SUMMARY, variables: { f: range90, b: 'DAY', tz: 'UTC' } },
    { name: "every user's 90-day summary, daily buckets (admin, Europe/Paris)", apiKey: adminKey, query: SUMMARY, variables: { f: range90, b: 'DAY', tz: 'Europe/Paris' } },
    { name: "every user's 90-day summary + blocks(limit: 20) + topGraphs(limit: 10) (admin, UTC)", apiKey: adminKey, query: WIDE, variables: { f: range90, b: 'DAY', tz: 'UTC' } },
    {
      name: `one busy graph's 365 days, hourly buckets, Asia/Kathmandu (${busiestOverall[0]!.n.toLocaleString('en')} runs)`,
      apiKey: adminKey,
      query: SUMMARY,
      variables: { f: { ...range365, graphId: busiestOverall[0]!.graph_id }, b: 'HOUR', tz: 'Asia/Kathmandu' },
    },
    { name: `a user's 30-day summary, daily buckets (busiest user; rows)`, apiKey: busiestKey, query: SUMMARY, variables: { f: range30, b: 'DAY', tz: 'UTC' } },
    { name: `user's 90-day summary, daily buckets (busiest user: ${busiest.n.toLocaleString('en')} runs)`, apiKey: busiestKey, query: SUMMARY, variables: { f: range90, b: 'DAY', tz: 'Europe/Paris' } },
    { name: `user's 90-day summary, daily buckets (median user: ${median.n.toLocaleString('en')} runs)`, apiKey: medianKey, query: SUMMARY, variables: { f: range90, b: 'DAY', tz: 'Europe/Paris' } },
    {
      name: `one graph's 30-day summary, hourly buckets (busiest graph: ${busiestGraph.n.toLocaleString('en')} runs)`,
      apiKey: adminKey,
      query: SUMMARY,
      variables: { f: { ...range30, graphId: busiestGraph.graph_id }, b: 'HOUR', tz: 'America/New_York' },
    },
    {
      name: 'graphs(first: 50) { stats(30 days) } (admin: every user’s runs)',
      apiKey: adminKey,
      query: `query($from: DateTime!, $to: DateTime!) { graphs(first: 50) { nodes { id name stats(from: $from, to: $to) { runs completed failed successRate lastRunAt p95DurationMs } } } }`,
      variables: range30,
    },
    {
      name: `executionStats.blocks(limit: 20), 90 days (busiest user)`,
      apiKey: busiestKey,
      query: `query($f: ExecutionStatsFilter!) { executionStats(filter: $f) { blocks(limit: 20) { blockId runs failures failureRate p95DurationMs } } }`,
      variables: { f: range90 },
    },
  ];
  const results = await measure(http.post, scenarios);

  // ---- report ----
  const file = await report(`, ${SIZES.users.toLocaleString('en')} users × ${SIZES.graphsPerUser} graphs; ${seedLine}; ${backfillLine}.`, results, plans);
  console.log(`wrote ${file}`);
});
