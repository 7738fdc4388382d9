/**
 * Sessions benchmark: `npm run bench:sessions [-- --small] [-- --keep]`.
 *
 * Creates a fresh PostgreSQL database (TEST_POSTGRES_URL or postgresql://postgres@127.0.0.1:5432/postgres as the
 * admin connection), migrates it, seeds sessions and events with COPY (100,000 sessions / 5,000,000 events, one
 * session with 10,000 events; `--small` seeds 5,000 / 200,000), starts the real server on a free port and measures
 * over HTTP:
 *   1. the first page (50) of a user's sessions of one app, most recently updated first;
 *   2. the newest 50 events of the 10,000-event session (`events(last: 50)`).
 * Prints the EXPLAIN ANALYZE plans of the two SQL statements, a table of p50/p95, writes
 * bench/results/sessions-<date>.md and drops the database (unless --keep).
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
import { generateApiKeySecret } from '../../src/modules/auth/api-key-secret.js';
import { createServer } from '../../src/server/app.js';

const args = process.argv.slice(2);
const small = args.includes('--small');
const keep = args.includes('--keep');
const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

const SIZES = small
  ? { users: 200, sessions: 5_000, events: 200_000, bigSession: 10_000, benchUserSessions: 1_000 }
  : { users: 2_000, sessions: 100_000, events: 5_000_000, bigSession: 10_000, benchUserSessions: 2_500 };
const APPS = ['support-bot', 'research-assistant', 'travel-planner', 'code-reviewer', 'sales-copilot'];
const AGENTS = ['lead', 'helper', 'tool_runner', 'critic'];
const WARMUP = 30;
const REQUESTS = 200;
const DAY = 86_400_000;

// ---- deterministic pseudo-random numbers (mulberry32) ----
let rngState = 0x5e55_1015;
function rand(): number {
  rngState = (rngState + 0x6d2b79f5) | 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

/** Time-ordered uuids (v7 layout): `ms` must increase for the primary key to be appended to, as in production. */
function uuid7(ms: number): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Streams COPY text-format lines produced by `rows` in chunks. */
async function copy(pool: pg.Pool, sql: string, rows: () => Generator<string>): Promise<void> {
  const client = await pool.connect();
  try {
    const iterator = rows();
    const source = Readable.from(
      (function* chunks() {
        let chunk: string[] = [];
        for (const line of iterator) {
          chunk.push(line);
          if (chunk.length >= 5_000) {
            yield chunk.join('');
            chunk = [];
          }
        }
        if (chunk.length) yield chunk.join('');
      })(),
    );
    await pipeline(source, client.query(copyFrom(sql)));
  } finally {
    client.release();
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

type PlannedSession = { id: string; userId: string; appName: string; events: number; createdAt: number; updatedAt: number };

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

async function main() {
  const started = Date.now();
  const dbName = `agentgraph_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  console.log(`bench:sessions ${small ? '(small) ' : ''}on database ${dbName}`);

  const db = await openDatabase({ url: url.toString(), pgliteDataDir: '', poolMax: 10 });
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  let server: Awaited<ReturnType<typeof createServer>> | null = null;
  try {
    await applyMigrations(db);

    // ---- seed ----
    const seedStarted = Date.now();
    const now = Date.now();
    const secret = generateApiKeySecret();
    const benchUser = await db.prisma.user.create({
      data: {
        email: 'bench@example.com',
        name: 'Bench user',
        apiKeys: { create: { name: 'bench', prefix: secret.prefix, secretHash: secret.secretHash, permissions: ['READ_SESSIONS', 'WRITE_SESSIONS'] } },
      },
    });
    const userIds = [benchUser.id];
    for (let i = 1; i < SIZES.users; i++) userIds.push(uuid7(now - 400 * DAY + i));
    await copy(pool, 'COPY users (id, email, name, metadata, created_at, updated_at) FROM STDIN', function* () {
      for (let i = 1; i < userIds.length; i++) yield `${userIds[i]}\tuser${i}@bench.test\tUser ${i}\t{}\t${iso(now - 400 * DAY)}\t${iso(now - 400 * DAY)}\n`;
    });

    // Sessions: the bench user owns `benchUserSessions` of them (spread over the apps), the rest are spread over
    // the other users. Event counts average what is left after the big session, and add up exactly.
    const sessions: PlannedSession[] = [];
    const remainingEvents = SIZES.events - SIZES.bigSession;
    const others = SIZES.sessions - 1;
    // An even split, then pairs trade up to 80% of the average: varied sizes that still add up exactly.
    const counts = Array.from({ length: others }, (_, i) => Math.floor((remainingEvents * (i + 1)) / others) - Math.floor((remainingEvents * i) / others));
    for (let i = 0; i + 1 < others; i += 2) {
      const shift = Math.floor(rand() * 0.8 * Math.min(counts[i]!, counts[i + 1]!));
      counts[i] = counts[i]! - shift;
      counts[i + 1] = counts[i + 1]! + shift;
    }
    for (let i = 0; i < SIZES.sessions; i++) {
      const createdAt = now - 90 * DAY + Math.floor(i * ((89 * DAY) / SIZES.sessions));
      const updatedAt = Math.min(now, createdAt + Math.floor(rand() * 2 * DAY));
      const userId = i === 0 || i % Math.floor(SIZES.sessions / SIZES.benchUserSessions) === 0 ? benchUser.id : userIds[1 + Math.floor(rand() * (userIds.length - 1))]!;
      const events = i === 0 ? SIZES.bigSession : counts[i - 1]!;
      sessions.push({ id: uuid7(createdAt), userId, appName: i === 0 ? APPS[0]! : pick(APPS), events, createdAt, updatedAt });
    }
    sessions.sort((a, b) => a.createdAt - b.createdAt);
    const big = sessions.find((s) => s.events === SIZES.bigSession && s.userId === benchUser.id)!;

    await copy(
      pool,
      'COPY sessions (id, app_name, user_id, agent_id, status, metadata, state, team_session_id, version, last_sequence, created_at, updated_at) FROM STDIN',
      function* () {
        for (const s of sessions) {
          const status = rand() < 0.7 ? 'COMPLETED' : rand() < 0.8 ? 'ACTIVE' : 'FAILED';
          yield `${s.id}\t${s.appName}\t${s.userId}\t${pick(AGENTS)}\t${status}\t{"env": "prod", "channel": "web"}\t{"turns": ${s.events}}\t\\N\t${s.events + 1}\t${s.events}\t${iso(s.createdAt)}\t${iso(s.updatedAt)}\n`;
        }
      },
    );
    const sessionsSeeded = Date.now();

    // Events: secondary indexes are dropped for the load and rebuilt after (much faster than maintaining them
    // row by row); the primary key stays, fed with time-ordered ids.
    const { rows: indexes } = await pool.query<{ name: string; def: string }>(
      `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
        WHERE i.tablename = 'session_events' AND i.indexname <> 'session_events_pkey'`,
    );
    for (const index of indexes) await pool.query(`DROP INDEX ${index.name}`);
    const eventRows = function* (part: number, parts: number): Generator<string> {
      let ms = now - 100 * DAY + part * 1e9;
      for (let si = part; si < sessions.length; si += parts) {
        const s = sessions[si]!;
        const span = Math.max(1, s.updatedAt - s.createdAt);
        let invocation = 0;
        for (let seq = 1; seq <= s.events; seq++) {
          const role = seq % 3 === 1 ? 'user' : 'model';
          if (role === 'user') invocation += 1;
          const author = role === 'user' ? 'user' : pick(AGENTS);
          const ts = s.createdAt + Math.floor((span * seq) / (s.events + 1));
          const content = role === 'user' ? `{"role": "user", "parts": [{"text": "question ${seq} about the order"}]}` : `{"role": "model", "parts": [{"text": "answer ${seq}: checked the order status"}]}`;
          const actions = seq % 7 === 0 ? `{"stateDelta": {"step": ${seq}}}` : '\\N';
          const clientId = role === 'user' ? `cli-${s.id.slice(0, 8)}-${seq}` : '\\N';
          yield `${uuid7(ms++)}\t${s.id}\t${seq}\tinv-${invocation}\t${role === 'user' ? '\\N' : author}\t${author}\t${content}\t${actions}\t{}\troot.${author}\t${iso(ts)}\t${clientId}\n`;
        }
      }
    };
    const eventColumns = 'COPY session_events (id, session_id, sequence, invocation_id, agent_id, author, content, actions, metadata, branch, timestamp, client_event_id) FROM STDIN';
    await Promise.all([0, 1].map((part) => copy(pool, eventColumns, () => eventRows(part, 2))));
    const eventsCopied = Date.now();
    for (const index of indexes) await pool.query(index.def);
    const indexed = Date.now();
    await pool.query('VACUUM (ANALYZE) sessions');
    await pool.query('VACUUM (ANALYZE) session_events');
    await pool.query('ANALYZE users');
    // Flush the load's dirty pages now rather than during the measurements.
    await pool.query('CHECKPOINT');
    const seedMs = Date.now() - seedStarted;
    const [{ count: eventCount } = { count: 0 }] = (await pool.query<{ count: number }>('SELECT count(*)::int AS count FROM session_events')).rows;
    console.log(
      `seeded ${sessions.length} sessions and ${eventCount} events in ${(seedMs / 1000).toFixed(1)} s ` +
        `(sessions ${((sessionsSeeded - seedStarted) / 1000).toFixed(1)} s, events COPY ${((eventsCopied - sessionsSeeded) / 1000).toFixed(1)} s, ` +
        `indexes ${((indexed - eventsCopied) / 1000).toFixed(1)} s, vacuum/analyze ${((Date.now() - indexed) / 1000).toFixed(1)} s)`,
    );

    // ---- query plans ----
    const plans: Record<string, string> = {};
    const explain = async (label: string, sql: string, params: unknown[]) => {
      const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
      plans[label] = rows.map((r) => r['QUERY PLAN']).join('\n');
    };
    await explain(
      'sessions page',
      `SELECT s.* FROM sessions s WHERE s.user_id = $1::uuid AND s.app_name = $2 ORDER BY s.updated_at DESC, s.id DESC LIMIT 51`,
      [benchUser.id, APPS[0]],
    );
    await explain('newest events', `SELECT e.* FROM session_events e WHERE e.session_id = $1::uuid ORDER BY e.sequence DESC LIMIT 51`, [big.id]);
    for (const [label, plan] of Object.entries(plans)) {
      console.log(`\nEXPLAIN ANALYZE — ${label}\n${plan}`);
      if (/Seq Scan|Sort Method/.test(plan)) console.warn(`!! ${label}: the plan reads without a suitable index`);
    }

    // ---- HTTP measurements ----
    server = await createServer({ db, log: pino({ level: 'silent' }), playground: false });
    const { url: base } = await server.listen(0, '127.0.0.1');
    const request = async (query: string, variables: Record<string, unknown>) => {
      const t0 = process.hrtime.bigint();
      const response = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret.key}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { errors?: unknown; data?: unknown };
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
      return { ms, body };
    };
    const scenarios = [
      {
        name: 'sessions(first: 50, filter: { appName }, orderBy: UPDATED_AT DESC)',
        query: `query($app: String!) { sessions(first: 50, filter: { appName: $app }, orderBy: { field: UPDATED_AT, direction: DESC }) {
          pageInfo { hasNextPage endCursor } edges { cursor node { id appName agentId status updatedAt eventCount } } } }`,
        variables: { app: APPS[0] },
        check: (body: { data?: unknown }) => (body.data as { sessions: { edges: unknown[] } }).sessions.edges.length === 50,
      },
      {
        name: `session.events(last: 50) of the ${SIZES.bigSession}-event session`,
        query: `query($id: ID!) { session(id: $id) { eventCount events(last: 50) {
          pageInfo { hasPreviousPage startCursor } edges { cursor node { id sequence author content branch timestamp } } } } }`,
        variables: { id: big.id },
        check: (body: { data?: unknown }) => {
          const edges = (body.data as { session: { events: { edges: Array<{ node: { sequence: number } }> } } }).session.events.edges;
          return edges.length === 50 && edges[49]!.node.sequence === SIZES.bigSession;
        },
      },
    ];
    const results: Array<{ name: string; p50: number; p95: number; mean: number; max: number }> = [];
    for (const scenario of scenarios) {
      for (let i = 0; i < WARMUP; i++) {
        const { body } = await request(scenario.query, scenario.variables);
        if (i === 0 && !scenario.check(body)) throw new Error(`Unexpected answer for ${scenario.name}: ${JSON.stringify(body).slice(0, 500)}`);
      }
      const times: number[] = [];
      for (let i = 0; i < REQUESTS; i++) times.push((await request(scenario.query, scenario.variables)).ms);
      times.sort((a, b) => a - b);
      results.push({
        name: scenario.name,
        p50: percentile(times, 50),
        p95: percentile(times, 95),
        mean: times.reduce((a, b) => a + b, 0) / times.length,
        max: times[times.length - 1]!,
      });
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
      `# Sessions benchmark — ${date}${small ? ' (--small)' : ''}`,
      '',
      `PostgreSQL ${versionRows[0]?.server_version}, Node ${process.version}; ${sessions.length.toLocaleString('en')} sessions, ` +
        `${eventCount.toLocaleString('en')} events (one session with ${SIZES.bigSession.toLocaleString('en')}); the bench user owns ` +
        `${SIZES.benchUserSessions.toLocaleString('en')} sessions. Seeded (COPY, index rebuild, VACUUM ANALYZE) in ${(seedMs / 1000).toFixed(1)} s.`,
      '',
      `${REQUESTS} sequential HTTP requests per query after ${WARMUP} warm-up requests, over the real server (Express + Apollo + auth).`,
      '',
      table,
      '',
      ...Object.entries(plans).flatMap(([label, plan]) => [`## EXPLAIN ANALYZE — ${label}`, '', '```', plan, '```', '']),
    ].join('\n');
    const dir = path.join(projectRoot, 'bench', 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `sessions-${date}${small ? '-small' : ''}.md`);
    fs.writeFileSync(file, report);
    console.log(`wrote ${path.relative(projectRoot, file)}; total ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await server?.stop();
    await pool.end();
    await db.close();
    if (!keep) {
      const dropper = new pg.Client({ connectionString: ADMIN_URL });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await dropper.end();
      console.log(`dropped ${dbName}`);
    } else {
      console.log(`kept ${dbName}`);
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
