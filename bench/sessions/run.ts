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
import { generateApiKeySecret } from '../../src/modules/auth/api-key-secret.js';
import { iso, Rng } from '../../src/seed/random.js';
import { TABLES, type Cell } from '../../src/seed/writer.js';
import { copyRows, dropSecondaryIndexes } from '../lib/copy.js';
import { explainAnalyze } from '../lib/explain.js';
import { benchFlags, runBenchmark, type Scenario } from '../lib/harness.js';

const { small } = benchFlags();

const SIZES = small
  ? { users: 200, sessions: 5_000, events: 200_000, bigSession: 10_000, benchUserSessions: 1_000 }
  : { users: 2_000, sessions: 100_000, events: 5_000_000, bigSession: 10_000, benchUserSessions: 2_500 };
const APPS = ['support-bot', 'research-assistant', 'travel-planner', 'code-reviewer', 'sales-copilot'];
const AGENTS = ['lead', 'helper', 'tool_runner', 'critic'];
const WARMUP = 30;
const REQUESTS = 200;
const DAY = 86_400_000;

/** Deterministic data; ids are time-ordered uuids (v7): their `ms` increases for the primary key to be appended to, as in production. */
const rng = new Rng(0x5e55_1015);

type PlannedSession = { id: string; userId: string; appName: string; events: number; createdAt: number; updatedAt: number };

const started = Date.now();
await runBenchmark({ name: 'sessions', title: 'Sessions benchmark', warmup: WARMUP, requests: REQUESTS }, async ({ db, pool, startServer, measure, report }) => {
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
  for (let i = 1; i < SIZES.users; i++) userIds.push(rng.uuid7(now - 400 * DAY + i));
  await copyRows(pool, TABLES.users, (function* (): Generator<Cell[]> {
    for (let i = 1; i < userIds.length; i++) yield [userIds[i]!, `user${i}@bench.test`, `User ${i}`, '{}', iso(now - 400 * DAY), iso(now - 400 * DAY)];
  })());

  // Sessions: the bench user owns `benchUserSessions` of them (spread over the apps), the rest are spread over
  // the other users. Event counts average what is left after the big session, and add up exactly.
  const sessions: PlannedSession[] = [];
  const remainingEvents = SIZES.events - SIZES.bigSession;
  const others = SIZES.sessions - 1;
  // An even split, then pairs trade up to 80% of the average: varied sizes that still add up exactly.
  const counts = Array.from({ length: others }, (_, i) => Math.floor((remainingEvents * (i + 1)) / others) - Math.floor((remainingEvents * i) / others));
  for (let i = 0; i + 1 < others; i += 2) {
    const shift = Math.floor(rng.next() * 0.8 * Math.min(counts[i]!, counts[i + 1]!));
    counts[i] = counts[i]! - shift;
    counts[i + 1] = counts[i + 1]! + shift;
  }
  for (let i = 0; i < SIZES.sessions; i++) {
    const createdAt = now - 90 * DAY + Math.floor(i * ((89 * DAY) / SIZES.sessions));
    const updatedAt = Math.min(now, createdAt + Math.floor(rng.next() * 2 * DAY));
    const userId = i === 0 || i % Math.floor(SIZES.sessions / SIZES.benchUserSessions) === 0 ? benchUser.id : userIds[1 + Math.floor(rng.next() * (userIds.length - 1))]!;
    const events = i === 0 ? SIZES.bigSession : counts[i - 1]!;
    sessions.push({ id: rng.uuid7(createdAt), userId, appName: i === 0 ? APPS[0]! : rng.pick(APPS), events, createdAt, updatedAt });
  }
  sessions.sort((a, b) => a.createdAt - b.createdAt);
  const big = sessions.find((s) => s.events === SIZES.bigSession && s.userId === benchUser.id)!;

  await copyRows(pool, TABLES.sessions, (function* (): Generator<Cell[]> {
    for (const s of sessions) {
      const status = rng.next() < 0.7 ? 'COMPLETED' : rng.next() < 0.8 ? 'ACTIVE' : 'FAILED';
      yield [s.id, s.appName, s.userId, rng.pick(AGENTS), status, '{"env": "prod", "channel": "web"}', `{"turns": ${s.events}}`, null, s.events + 1, s.events, iso(s.createdAt), iso(s.updatedAt)];
    }
  })());
  const sessionsSeeded = Date.now();

  // Events: secondary indexes are dropped for the load and rebuilt after; the primary key stays, fed with
  // time-ordered ids. Two concurrent COPYs, each with its own random stream.
  const rebuildIndexes = await dropSecondaryIndexes(pool, ['session_events']);
  const eventRows = function* (part: number, parts: number, random: Rng): Generator<Cell[]> {
    let ms = now - 100 * DAY + part * 1e9;
    for (let si = part; si < sessions.length; si += parts) {
      const s = sessions[si]!;
      const span = Math.max(1, s.updatedAt - s.createdAt);
      let invocation = 0;
      for (let seq = 1; seq <= s.events; seq++) {
        const role = seq % 3 === 1 ? 'user' : 'model';
        if (role === 'user') invocation += 1;
        const author = role === 'user' ? 'user' : random.pick(AGENTS);
        const ts = s.createdAt + Math.floor((span * seq) / (s.events + 1));
        const content = role === 'user' ? `{"role": "user", "parts": [{"text": "question ${seq} about the order"}]}` : `{"role": "model", "parts": [{"text": "answer ${seq}: checked the order status"}]}`;
        const actions = seq % 7 === 0 ? `{"stateDelta": {"step": ${seq}}}` : null;
        const clientId = role === 'user' ? `cli-${s.id.slice(0, 8)}-${seq}` : null;
        yield [random.uuid7(ms++), s.id, seq, `inv-${invocation}`, role === 'user' ? null : author, author, content, actions, '{}', `root.${author}`, iso(ts), clientId];
      }
    }
  };
  const partRngs = [0, 1].map((part) => rng.fork(`events ${part}`));
  await Promise.all(partRngs.map((random, part) => copyRows(pool, TABLES.sessionEvents, eventRows(part, partRngs.length, random))));
  const eventsCopied = Date.now();
  await rebuildIndexes();
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
  const plans: Record<string, string> = {
    'sessions page': await explainAnalyze(pool, {
      text: `SELECT s.* FROM sessions s WHERE s.user_id = $1::uuid AND s.app_name = $2 ORDER BY s.updated_at DESC, s.id DESC LIMIT 51`,
      values: [benchUser.id, APPS[0]],
    }),
    'newest events': await explainAnalyze(pool, { text: `SELECT e.* FROM session_events e WHERE e.session_id = $1::uuid ORDER BY e.sequence DESC LIMIT 51`, values: [big.id] }),
  };
  for (const [label, plan] of Object.entries(plans)) {
    console.log(`\nEXPLAIN ANALYZE — ${label}\n${plan}`);
    if (/Seq Scan|Sort Method/.test(plan)) console.warn(`!! ${label}: the plan reads without a suitable index`);
  }

  // ---- HTTP measurements ----
  const http = await startServer();
  const scenarios: Scenario[] = [
    {
      name: 'sessions(first: 50, filter: { appName }, orderBy: UPDATED_AT DESC)',
      apiKey: secret.key,
      query: `query($app: String!) { sessions(first: 50, filter: { appName: $app }, orderBy: { field: UPDATED_AT, direction: DESC }) {
        pageInfo { hasNextPage endCursor } edges { cursor node { id appName agentId status updatedAt eventCount } } } }`,
      variables: { app: APPS[0] },
      check: (data) => (data as { sessions: { edges: unknown[] } }).sessions.edges.length === 50,
    },
    {
      name: `session.events(last: 50) of the ${SIZES.bigSession}-event session`,
      apiKey: secret.key,
      query: `query($id: ID!) { session(id: $id) { eventCount events(last: 50) {
        pageInfo { hasPreviousPage startCursor } edges { cursor node { id sequence author content branch timestamp } } } } }`,
      variables: { id: big.id },
      check: (data) => {
        const edges = (data as { session: { events: { edges: Array<{ node: { sequence: number } }> } } }).session.events.edges;
        return edges.length === 50 && edges[49]!.node.sequence === SIZES.bigSession;
      },
    },
  ];
  const results = await measure(http.post, scenarios);

  // ---- report ----
  const file = await report(
    `; ${sessions.length.toLocaleString('en')} sessions, ${eventCount.toLocaleString('en')} events (one session with ${SIZES.bigSession.toLocaleString('en')}); ` +
      `the bench user owns ${SIZES.benchUserSessions.toLocaleString('en')} sessions. Seeded (COPY, index rebuild, VACUUM ANALYZE) in ${(seedMs / 1000).toFixed(1)} s.`,
    results,
    plans,
  );
  console.log(`wrote ${file}; total ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
