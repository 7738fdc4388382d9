/**
 * Statistics benchmark: `npm run bench:stats [-- --small] [-- --keep]`.
 *
 * Creates a fresh PostgreSQL database (TEST_POSTGRES_URL or postgresql://postgres@127.0.0.1:5432/postgres as the
 * admin connection), migrates it and loads, with COPY, 1,000,000 graph executions and 5,000,000 node executions
 * (5 per run) over 90 days (`--small`: 50,000 / 250,000): 1,000 users with 5 graphs each, graph popularity
 * long-tailed so some users and graphs are much busier than others. Secondary indexes are dropped for the load and
 * rebuilt after it, FK triggers are off during COPY, then VACUUM ANALYZE. Starts the real server on a free port and
 * measures p50/p95 over HTTP (warm-up, then sequential requests) of:
 *   1. a user's 90-day summary with daily buckets (the busiest user, and a median one);
 *   2. one graph's 30-day summary with hourly buckets (the busiest graph);
 *   3. a page of 50 graphs with `stats` (admin);
 *   4. `blocks(limit: 20)` over 90 days for a user (the busiest).
 * Prints the EXPLAIN ANALYZE plans of the statements, writes bench/results/stats-<date>.md and drops the database
 * (unless --keep).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pino } from 'pino';
import { projectRoot } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrations.js';
import { Prisma, type PrismaClient } from '../../src/generated/prisma/client.js';
import { generateApiKeySecret } from '../../src/modules/auth/api-key-secret.js';
import { BLOCKS } from '../../src/seed/catalogue.js';
import { blockStats, durationStats, statsByGraphs, statusCounts, timeSeries, type StatsScope } from '../../src/modules/stats/stats-store.js';
import { bucketStarts } from '../../src/modules/stats/time-buckets.js';
import { createServer } from '../../src/server/app.js';

const args = process.argv.slice(2);
const small = args.includes('--small');
const keep = args.includes('--keep');
const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const SIZES = small ? { users: 200, graphsPerUser: 5, runs: 50_000 } : { users: 1_000, graphsPerUser: 5, runs: 1_000_000 };
const NODES_PER_RUN = 5;
const WARMUP = 15;
const REQUESTS = 100;
const DAY = 86_400_000;

// ---- deterministic pseudo-random numbers (mulberry32) ----
let rngState = 0x57a7_5eed;
function rand(): number {
  rngState = (rngState + 0x6d2b79f5) | 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const logNormal = (median: number, sigma: number) => median * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()));

function uuid7(ms: number): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

async function copy(pool: pg.Pool, sql: string, rows: () => Generator<string>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SET session_replication_role = replica'); // no FK triggers during the load
    const iterator = rows();
    const source = Readable.from(
      (function* chunks() {
        let chunk: string[] = [];
        for (const line of iterator) {
          chunk.push(line);
          if (chunk.length >= 10_000) {
            yield chunk.join('');
            chunk = [];
          }
        }
        if (chunk.length) yield chunk.join('');
      })(),
    );
    await pipeline(source, client.query(copyFrom(sql)));
    await client.query('SET session_replication_role = origin');
  } finally {
    client.release();
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
const N = '\\N';

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

type Graph = { id: string; userId: string; nodes: Array<{ id: string; blockId: string }>; popularity: number; createdAt: number };

/** Captures what a store function sends to `$queryRaw`, to EXPLAIN the very same statement. */
async function capture(run: (prisma: PrismaClient) => Promise<unknown>): Promise<Prisma.Sql> {
  let sql: Prisma.Sql | null = null;
  const fake = {
    $queryRaw: (strings: TemplateStringsArray, ...values: unknown[]) => {
      sql = Prisma.sql(strings, ...values);
      return Promise.resolve([]);
    },
  } as unknown as PrismaClient;
  await run(fake);
  return sql!;
}

async function main() {
  const dbName = `agentgraph_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  console.log(`bench:stats ${small ? '(small) ' : ''}on database ${dbName}`);

  const db = await openDatabase({ url: url.toString(), pgliteDataDir: '', poolMax: 10 });
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  let server: Awaited<ReturnType<typeof createServer>> | null = null;
  try {
    await applyMigrations(db);

    // ---- seed ----
    const seedStarted = Date.now();
    const now = Date.now();
    const start = now - 90 * DAY;
    const adminSecret = generateApiKeySecret();
    await db.prisma.user.create({
      data: { email: 'admin@bench.test', apiKeys: { create: { name: 'bench', prefix: adminSecret.prefix, secretHash: adminSecret.secretHash, permissions: ['ADMIN', 'READ_GRAPHS'] } } },
    });
    const userIds = Array.from({ length: SIZES.users }, (_, i) => uuid7(start - 30 * DAY + i));
    const userSecrets = userIds.map(() => generateApiKeySecret());
    await copy(pool, 'COPY users (id, email, name, metadata, created_at, updated_at) FROM STDIN', function* () {
      for (let i = 0; i < userIds.length; i++) yield `${userIds[i]}\tuser${i}@bench.test\tUser ${i}\t{}\t${iso(start - 30 * DAY)}\t${iso(start - 30 * DAY)}\n`;
    });
    await copy(pool, 'COPY api_keys (id, user_id, name, prefix, secret_hash, permissions, status, created_at) FROM STDIN', function* () {
      for (let i = 0; i < userIds.length; i++) yield `${uuid7(start)}\t${userIds[i]}\tbench\t${userSecrets[i]!.prefix}\t${userSecrets[i]!.secretHash}\t{READ_GRAPHS}\tACTIVE\t${iso(start)}\n`;
    });

    const blocks = BLOCKS.filter((b) => b.nodeType === 'STANDARD');
    const graphs: Graph[] = [];
    for (const userId of userIds) {
      for (let g = 0; g < SIZES.graphsPerUser; g++) {
        const createdAt = start - 20 * DAY + Math.floor(rand() * 10 * DAY);
        const nodes = [BLOCKS[0]!, ...Array.from({ length: NODES_PER_RUN - 2 }, () => blocks[Math.floor(rand() * blocks.length)]!), BLOCKS[1]!];
        graphs.push({ id: uuid7(createdAt), userId, createdAt, popularity: logNormal(1, 1.2), nodes: nodes.map((b) => ({ id: uuid7(createdAt), blockId: b.id })) });
      }
    }
    await copy(pool, 'COPY graphs (id, version, name, description, is_active, user_id, created_at, updated_at) FROM STDIN', function* () {
      for (const [i, g] of graphs.entries()) yield `${g.id}\t1\tGraph ${i}\t${N}\tt\t${g.userId}\t${iso(g.createdAt)}\t${iso(g.createdAt)}\n`;
    });
    await copy(pool, 'COPY nodes (id, graph_id, graph_version, block_id, label, node_type, input_default, metadata) FROM STDIN', function* () {
      for (const g of graphs) for (const n of g.nodes) yield `${n.id}\t${g.id}\t1\t${n.blockId}\t${N}\tSTANDARD\t{}\t{}\n`;
    });

    // Graph executions and their node executions; secondary indexes dropped for the load, rebuilt after.
    const { rows: indexes } = await pool.query<{ name: string; def: string }>(
      `SELECT indexname AS name, indexdef AS def FROM pg_indexes
        WHERE tablename IN ('graph_executions', 'node_executions') AND indexname NOT LIKE '%_pkey'`,
    );
    for (const index of indexes) await pool.query(`DROP INDEX ${index.name}`);
    const sums: number[] = [];
    let total = 0;
    for (const g of graphs) sums.push((total += g.popularity));
    const pickGraph = () => {
      const target = rand() * total;
      let lo = 0;
      let hi = sums.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sums[mid]! > target) hi = mid;
        else lo = mid + 1;
      }
      return graphs[lo]!;
    };
    const runLines: string[] = [];
    const nodeLines: string[] = [];
    const flushAt = 20_000;
    const runColumns = 'COPY graph_executions (id, graph_id, graph_version, user_id, status, inputs, cost, is_deleted, created_at, updated_at, started_at, ended_at) FROM STDIN';
    const nodeColumns = 'COPY node_executions (id, graph_execution_id, node_id, status, inputs, cost, added_at, started_at, ended_at) FROM STDIN';
    const flush = async () => {
      await Promise.all([copy(pool, runColumns, function* () { yield* runLines; }), copy(pool, nodeColumns, function* () { yield* nodeLines; })]);
      runLines.length = 0;
      nodeLines.length = 0;
    };
    for (let r = 0; r < SIZES.runs; r++) {
      const createdAt = start + Math.floor(((now - start - 60_000) * (r + rand())) / SIZES.runs);
      const g = pickGraph();
      const u = rand();
      const status = u < 0.8 ? 'COMPLETED' : u < 0.89 ? 'FAILED' : u < 0.92 ? 'TERMINATED' : createdAt > now - DAY ? (u < 0.96 ? 'RUNNING' : 'QUEUED') : 'COMPLETED';
      const startedAt = status === 'QUEUED' ? null : createdAt + Math.round(logNormal(400, 1));
      const finished = status === 'COMPLETED' || status === 'FAILED' || status === 'TERMINATED';
      const endedAt = finished && startedAt !== null ? startedAt + Math.round(Math.min(logNormal(15_000, 1.2), 6 * 3_600_000)) : null;
      const stop = status === 'COMPLETED' ? NODES_PER_RUN : 1 + Math.floor(rand() * (NODES_PER_RUN - 1));
      const id = uuid7(createdAt);
      let cost = 0;
      let cursor = startedAt ?? createdAt;
      const span = endedAt !== null && startedAt !== null ? endedAt - startedAt : 10_000;
      for (let i = 0; i < NODES_PER_RUN; i++) {
        const node = g.nodes[i]!;
        let ns: string;
        if (status === 'QUEUED' || i > stop) ns = 'INCOMPLETE';
        else if (i < stop || status === 'COMPLETED') ns = 'COMPLETED';
        else ns = status;
        if (ns === 'INCOMPLETE' || startedAt === null) {
          nodeLines.push(`${uuid7(createdAt)}\t${id}\t${node.id}\t${ns}\t{}\t0\t${iso(createdAt)}\t${N}\t${N}\n`);
          continue;
        }
        const nodeCost = ns === 'COMPLETED' ? Math.round(rand() * 20) : 0;
        cost += nodeCost;
        const segEnd = cursor + Math.floor(span / NODES_PER_RUN);
        const ended = ns === 'RUNNING' || ns === 'REVIEW' ? N : iso(segEnd);
        nodeLines.push(`${uuid7(createdAt)}\t${id}\t${node.id}\t${ns}\t{}\t${nodeCost}\t${iso(cursor)}\t${iso(cursor)}\t${ended}\n`);
        cursor = segEnd;
      }
      const deleted = finished && rand() < 0.02 ? 't' : 'f';
      const updated = endedAt ?? startedAt ?? createdAt;
      runLines.push(
        `${id}\t${g.id}\t1\t${g.userId}\t${status}\t{}\t${cost}\t${deleted}\t${iso(createdAt)}\t${iso(updated)}\t${startedAt === null ? N : iso(startedAt)}\t${endedAt === null ? N : iso(endedAt)}\n`,
      );
      if (runLines.length >= flushAt) await flush();
    }
    await flush();
    const copied = Date.now();
    for (const index of indexes) await pool.query(index.def);
    const indexed = Date.now();
    for (const table of ['graph_executions', 'node_executions', 'graphs', 'nodes', 'users', 'api_keys']) await pool.query(`VACUUM (ANALYZE) ${table}`);
    await pool.query('CHECKPOINT');
    const seedMs = Date.now() - seedStarted;
    const count = async (table: string) => (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
    const [runCount, nodeCount] = [await count('graph_executions'), await count('node_executions')];
    const seedLine =
      `seeded ${runCount.toLocaleString('en')} graph executions and ${nodeCount.toLocaleString('en')} node executions in ${(seedMs / 1000).toFixed(1)} s ` +
      `(COPY ${((copied - seedStarted) / 1000).toFixed(1)} s, indexes ${((indexed - copied) / 1000).toFixed(1)} s, vacuum/analyze ${((Date.now() - indexed) / 1000).toFixed(1)} s)`;
    console.log(seedLine);

    // ---- who to measure ----
    const { rows: perUser } = await pool.query<{ user_id: string; n: number }>(
      `SELECT user_id, count(*)::int AS n FROM graph_executions WHERE NOT is_deleted AND created_at >= $1 GROUP BY user_id ORDER BY n DESC`,
      [new Date(now - 90 * DAY)],
    );
    const busiest = perUser[0]!;
    const median = perUser[Math.floor(perUser.length / 2)]!;
    const keyOf = (userId: string) => userSecrets[userIds.indexOf(userId)]!.key;
    const { rows: perGraph } = await pool.query<{ graph_id: string; n: number }>(
      `SELECT graph_id, count(*)::int AS n FROM graph_executions WHERE NOT is_deleted AND created_at >= $1 GROUP BY graph_id ORDER BY n DESC LIMIT 1`,
      [new Date(now - 30 * DAY)],
    );
    const busiestGraph = perGraph[0]!;
    const range90 = { from: new Date(now - 90 * DAY), to: new Date(now) };
    const range30 = { from: new Date(now - 30 * DAY), to: new Date(now) };

    // ---- query plans ----
    const plans: Record<string, string> = {};
    const explain = async (label: string, run: (prisma: PrismaClient) => Promise<unknown>) => {
      const sql = await capture(run);
      const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql.text}`, sql.values as unknown[]);
      plans[label] = rows.map((r) => r['QUERY PLAN']).join('\n');
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
    server = await createServer({ db, log: pino({ level: 'silent' }), playground: false });
    const { url: base } = await server.listen(0, '127.0.0.1');
    const request = async (key: string, query: string, variables: Record<string, unknown>) => {
      const t0 = process.hrtime.bigint();
      const response = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { errors?: unknown; data?: unknown };
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
      return { ms, body };
    };
    const SUMMARY = `query($f: ExecutionStatsFilter!, $b: TimeBucket, $tz: String) { executionStats(filter: $f, bucket: $b, timezone: $tz) {
      total byStatus { status count } successRate duration { count avgMs p50Ms p90Ms p95Ms p99Ms maxMs } cost { total avg }
      timeSeries { bucketStart total completed failed p95DurationMs cost } } }`;
    const scenarios = [
      { name: `user's 90-day summary, daily buckets (busiest user: ${busiest.n.toLocaleString('en')} runs)`, key: keyOf(busiest.user_id), query: SUMMARY, variables: { f: range90, b: 'DAY', tz: 'Europe/Paris' } },
      { name: `user's 90-day summary, daily buckets (median user: ${median.n.toLocaleString('en')} runs)`, key: keyOf(median.user_id), query: SUMMARY, variables: { f: range90, b: 'DAY', tz: 'Europe/Paris' } },
      {
        name: `one graph's 30-day summary, hourly buckets (busiest graph: ${busiestGraph.n.toLocaleString('en')} runs)`,
        key: adminSecret.key,
        query: SUMMARY,
        variables: { f: { ...range30, graphId: busiestGraph.graph_id }, b: 'HOUR', tz: 'America/New_York' },
      },
      {
        name: 'graphs(first: 50) { stats(30 days) } (admin: every user’s runs)',
        key: adminSecret.key,
        query: `query($from: DateTime!, $to: DateTime!) { graphs(first: 50) { nodes { id name stats(from: $from, to: $to) { runs completed failed successRate lastRunAt p95DurationMs } } } }`,
        variables: range30,
      },
      {
        name: `executionStats.blocks(limit: 20), 90 days (busiest user)`,
        key: keyOf(busiest.user_id),
        query: `query($f: ExecutionStatsFilter!) { executionStats(filter: $f) { blocks(limit: 20) { blockId runs failures failureRate p95DurationMs } } }`,
        variables: { f: range90 },
      },
    ];
    const results: Array<{ name: string; p50: number; p95: number; mean: number; max: number }> = [];
    for (const scenario of scenarios) {
      for (let i = 0; i < WARMUP; i++) await request(scenario.key, scenario.query, scenario.variables);
      const times: number[] = [];
      for (let i = 0; i < REQUESTS; i++) times.push((await request(scenario.key, scenario.query, scenario.variables)).ms);
      times.sort((a, b) => a - b);
      results.push({ name: scenario.name, p50: percentile(times, 50), p95: percentile(times, 95), mean: times.reduce((a, b) => a + b, 0) / times.length, max: times.at(-1)! });
      console.log(`${scenario.name}: p50 ${results.at(-1)!.p50.toFixed(1)} ms, p95 ${results.at(-1)!.p95.toFixed(1)} ms`);
    }

    // ---- report ----
    const table = [
      '| query | p50 (ms) | p95 (ms) | mean (ms) | max (ms) |',
      '|---|---:|---:|---:|---:|',
      ...results.map((r) => `| ${r.name} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.mean.toFixed(2)} | ${r.max.toFixed(2)} |`),
    ].join('\n');
    console.log(`\n${table}\n`);
    const { rows: versionRows } = await pool.query<{ server_version: string }>('SHOW server_version');
    const date = new Date().toISOString().slice(0, 10);
    const report = [
      `# Statistics benchmark — ${date}${small ? ' (--small)' : ''}`,
      '',
      `PostgreSQL ${versionRows[0]?.server_version}, Node ${process.version}, ${SIZES.users.toLocaleString('en')} users × ${SIZES.graphsPerUser} graphs; ${seedLine}.`,
      '',
      `${REQUESTS} sequential HTTP requests per query after ${WARMUP} warm-up requests, over the real server (Express + Apollo + auth). ` +
        'Every figure is computed from the rows at request time (no rollups, no cache).',
      '',
      table,
      '',
      ...Object.entries(plans).flatMap(([label, plan]) => [`## EXPLAIN ANALYZE — ${label}`, '', '```', plan, '```', '']),
    ].join('\n');
    const dir = path.join(projectRoot, 'bench', 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `stats-${date}${small ? '-small' : ''}.md`);
    fs.writeFileSync(file, report);
    console.log(`wrote ${path.relative(projectRoot, file)}`);
  } finally {
    await server?.stop();
    await pool.end();
    await db.close();
    if (!keep) {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await client.end();
      console.log(`dropped ${dbName}`);
    } else {
      console.log(`kept ${dbName}`);
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
