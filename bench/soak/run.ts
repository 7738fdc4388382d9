/**
 * Soak test: a mixed workload at a fixed request rate against the real server (a child process on a fresh, seeded
 * PostgreSQL database) for `--minutes N` (default 10): dashboard reads, execution writes and status updates, and
 * session event appends from 50 concurrent agents. Reports per-minute p50/p99, errors, server RSS and database
 * connections in use, and writes bench/results/soak-<date>.md. Goal: zero errors, p99 stable, RSS flat.
 *
 *   npm run bench:soak -- --minutes 1 [--rate 40]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { projectRoot } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrations.js';
import { seedDatabase } from '../../src/seed/index.js';
import { percentile, request, rssMb, sleep, spawnServer, type Outcome } from '../../tests/faults/helpers.js';
import { createPostgresDatabase, POSTGRES_ADMIN_URL } from '../../tests/helpers/databases.js';
import { numberFlag } from '../lib/harness.js';

const arg = numberFlag;
const MINUTES = arg('minutes', 10);
const RATE = arg('rate', 40); // requests per second, open loop
const AGENTS = 50;

const Q = {
  dashboardGraphs: 'query { graphs(first: 20) { totalCount nodes { id name version updatedAt executions(first: 5) { nodes { id status cost durationMs } } } } }',
  dashboardRuns: 'query { graphExecutions(first: 50) { totalCount nodes { id status createdAt durationMs cost graph { id name } } } }',
  dashboardStats: 'query($from: DateTime!, $to: DateTime!) { executionStats(filter: { from: $from, to: $to }) { total successRate duration { p50Ms p95Ms } cost { total } byStatus { status count } timeSeries { total failed } topGraphs(limit: 5) { runs graph { id } } } }',
  dashboardSessions: 'query { sessions(first: 20) { totalCount nodes { id appName status eventCount updatedAt events(last: 3) { nodes { sequence author } } } } }',
  execute: 'mutation($g: ID!) { executeGraph(graphId: $g, inputs: { prompt: "soak" }) { graphExecution { id nodeExecutions(first: 100) { nodes { id } } } } }',
  status: 'mutation($id: ID!, $s: ExecutionStatus!) { updateGraphExecution(id: $id, status: $s) { graphExecution { id status } } }',
  nodeStatus: 'mutation($id: ID!, $s: ExecutionStatus!, $c: NonNegativeInt) { updateNodeExecution(id: $id, status: $s, cost: $c) { nodeExecution { id status } } }',
  createSession: 'mutation($app: String!) { createSession(input: { appName: $app, agentId: "soak" }) { session { id } } }',
  append: 'mutation($id: ID!, $e: [SessionEventInput!]!) { appendSessionEvents(sessionId: $id, events: $e) { session { eventCount } events { sequence } } }',
};

async function main() {
  const started = new Date();
  console.log(`soak: ${MINUTES} min at ${RATE} req/s, ${AGENTS} agents`);
  const database = await createPostgresDatabase('agentgraph_soak');
  const seedDb = await openDatabase({ url: database.url, pgliteDataDir: '', poolMax: 2 });
  await applyMigrations(seedDb);
  const seed = await seedDatabase(seedDb, { users: 5, graphsPerUser: 6, executions: 3_000, sessions: 200, maxEventsPerSession: 200, seed: 7, days: 30 });
  const key = seed.apiKeys.find((k) => !k.permissions.includes('ADMIN') && k.permissions.includes('EXECUTE_GRAPHS') && k.permissions.includes('WRITE_SESSIONS'))?.key ?? seed.apiKeys[0]!.key;
  const poolMax = 10;
  await seedDb.close();
  console.log(`seeded: ${JSON.stringify(seed.counts)}`);

  const server = await spawnServer({ DATABASE_URL: database.url, MIGRATE_ON_START: '1', DB_POOL_MAX: String(poolMax) });
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();

  const graphs = await request(server.url, key, 'graphs', 'query { graphs(first: 50) { nodes { id } } }', {});
  const graphIds: string[] = graphs.data.graphs.nodes.map((g: { id: string }) => g.id);
  if (graphIds.length === 0) throw new Error('the soak user has no graphs');

  type Minute = { latencies: number[]; byOp: Map<string, number[]>; errors: number; errorKinds: Map<string, number>; rss: number[]; pool: number[]; requests: number };
  const minutes: Minute[] = [];
  const minuteOf = (t: number) => {
    const i = Math.min(Math.ceil(MINUTES) - 1, Math.floor((t - runStart) / 60_000));
    while (minutes.length <= i) minutes.push({ latencies: [], byOp: new Map(), errors: 0, errorKinds: new Map(), rss: [], pool: [], requests: 0 });
    return minutes[i]!;
  };
  const record = (o: Outcome) => {
    const m = minuteOf(o.started);
    m.requests += 1;
    m.latencies.push(o.ms);
    m.byOp.set(o.op, [...(m.byOp.get(o.op) ?? []), o.ms]);
    if (!o.ok) {
      m.errors += 1;
      const kind = `${o.op}: ${o.code ?? o.networkError ?? `HTTP ${o.status}`}`;
      m.errorKinds.set(kind, (m.errorKinds.get(kind) ?? 0) + 1);
    }
  };

  // Executions move QUEUED → RUNNING → (node executions) → COMPLETED/FAILED.
  type Run = { id: string; nodes: string[] };
  const queued: Run[] = [];
  const running: Run[] = [];
  // 50 agents, each with its own session; an agent appends one batch at a time.
  const agents = Array.from({ length: AGENTS }, (_, i) => ({ i, sessionId: null as string | null, busy: false, seq: 0 }));

  const tasks: Array<[number, () => Promise<void>]> = [
    [6, async () => record(await request(server.url, key, 'dashboard.graphs', Q.dashboardGraphs, {}))],
    [6, async () => record(await request(server.url, key, 'dashboard.runs', Q.dashboardRuns, {}))],
    [3, async () => record(await request(server.url, key, 'dashboard.stats', Q.dashboardStats, { from: new Date(Date.now() - 30 * 86_400_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() }))],
    [4, async () => record(await request(server.url, key, 'dashboard.sessions', Q.dashboardSessions, {}))],
    [
      6,
      async () => {
        const o = await request(server.url, key, 'executeGraph', Q.execute, { g: graphIds[Math.floor(Math.random() * graphIds.length)] });
        record(o);
        if (o.ok) queued.push({ id: o.data.executeGraph.graphExecution.id, nodes: o.data.executeGraph.graphExecution.nodeExecutions.nodes.map((n: { id: string }) => n.id) });
      },
    ],
    [
      7,
      async () => {
        const finishing = running.length > 0 && (queued.length === 0 || Math.random() < 0.5);
        const run = finishing ? running.shift() : queued.shift();
        if (!run) return;
        if (!finishing) {
          const o = await request(server.url, key, 'updateGraphExecution', Q.status, { id: run.id, s: 'RUNNING' });
          record(o);
          if (o.ok) running.push(run);
          return;
        }
        for (const node of run.nodes.slice(0, 3)) {
          record(await request(server.url, key, 'updateNodeExecution', Q.nodeStatus, { id: node, s: 'RUNNING', c: 0 }));
          record(await request(server.url, key, 'updateNodeExecution', Q.nodeStatus, { id: node, s: 'COMPLETED', c: 3 }));
        }
        record(await request(server.url, key, 'updateGraphExecution', Q.status, { id: run.id, s: Math.random() < 0.9 ? 'COMPLETED' : 'FAILED' }));
      },
    ],
    [
      18,
      async () => {
        const idle = agents.filter((a) => !a.busy);
        const agent = idle[Math.floor(Math.random() * idle.length)];
        if (!agent) return;
        agent.busy = true;
        try {
          if (!agent.sessionId || agent.seq >= 400) {
            const o = await request(server.url, key, 'createSession', Q.createSession, { app: `soak-agent-${agent.i}` });
            record(o);
            if (o.ok) {
              agent.sessionId = o.data.createSession.session.id;
              agent.seq = 0;
            }
            return;
          }
          const size = 1 + Math.floor(Math.random() * 5);
          const events = Array.from({ length: size }, (_, k) => ({
            author: k % 2 ? 'user' : 'agent',
            invocationId: `inv-${agent.seq}`,
            branch: 'root',
            clientEventId: `${agent.i}-${agent.seq + k}`,
            content: { text: 'tool call result '.repeat(8), n: agent.seq + k },
            actions: k === size - 1 ? { stateDelta: { step: agent.seq + k } } : undefined,
          }));
          const o = await request(server.url, key, 'appendSessionEvents', Q.append, { id: agent.sessionId, e: events });
          record(o);
          if (o.ok) agent.seq += size;
        } finally {
          agent.busy = false;
        }
      },
    ],
  ];
  const totalWeight = tasks.reduce((sum, [w]) => sum + w, 0);
  const pick = () => {
    let r = Math.random() * totalWeight;
    for (const [w, task] of tasks) if ((r -= w) < 0) return task;
    return tasks[0]![1];
  };

  const runStart = Date.now();
  const end = runStart + MINUTES * 60_000;
  const inFlight = new Set<Promise<void>>();
  let dropped = 0;
  const sampler = setInterval(async () => {
    const m = minuteOf(Date.now());
    m.rss.push(rssMb(server.pid));
    try {
      const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database.name]);
      m.pool.push(rows[0]!.n);
    } catch {
      // sampling is best effort
    }
  }, 2_000);
  const reporter = setInterval(() => {
    const i = Math.floor((Date.now() - runStart) / 60_000) - 1;
    const m = minutes[i];
    if (m) console.log(`minute ${i + 1}: ${m.requests} req, p50 ${percentile(m.latencies, 50)} ms, p99 ${percentile(m.latencies, 99)} ms, errors ${m.errors}, rss ${Math.max(0, ...m.rss)} MB, db connections ≤ ${Math.max(0, ...m.pool)}`);
  }, 60_000);

  // Open loop at a fixed rate: a request starts every 1000/RATE ms whatever the previous ones are doing.
  const interval = 1000 / RATE;
  let next = Date.now();
  while (Date.now() < end) {
    if (inFlight.size > 500) {
      dropped += 1; // the server fell far behind; counted, not queued
    } else {
      const p: Promise<void> = pick()().catch((err) => record({ op: 'client', started: Date.now(), ms: 0, status: 0, ok: false, networkError: String(err) }));
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    next += interval;
    await sleep(Math.max(0, next - Date.now()));
  }
  await Promise.all(inFlight);
  clearInterval(sampler);
  clearInterval(reporter);

  // Integrity at the end: every session's last_sequence is its event count.
  const check = new pg.Client({ connectionString: database.url });
  await check.connect();
  const torn = await check.query(`SELECT s.id FROM sessions s LEFT JOIN session_events e ON e.session_id = s.id GROUP BY s.id HAVING s.last_sequence <> count(e.id)`);
  await check.end();

  server.child.kill('SIGTERM');
  const exitCode = await server.exited;
  await admin.end();
  await database.drop();

  // ---- report ----
  const all = minutes.flatMap((m) => m.latencies);
  const errors = minutes.reduce((sum, m) => sum + m.errors, 0);
  const rssFirst = Math.max(0, ...(minutes[0]?.rss ?? [0]));
  const rssLast = Math.max(0, ...(minutes.at(-1)?.rss ?? [0]));
  const p99s = minutes.map((m) => percentile(m.latencies, 99));
  const lines = [
    `# Soak ${started.toISOString()}`,
    '',
    `${MINUTES} min at ${RATE} req/s (open loop), ${AGENTS} concurrent session agents, PostgreSQL (fresh db, seeded ${JSON.stringify(seed.counts)}), server as a child process (\`node --import tsx src/main.ts\`, pool max ${poolMax}), node ${process.version}, ${os.cpus().length} cores.`,
    '',
    `Total: ${all.length} requests, p50 ${percentile(all, 50)} ms, p99 ${percentile(all, 99)} ms, **errors ${errors}**, dropped (client backlog > 500) ${dropped}; sessions with last_sequence ≠ event count: ${torn.rowCount}; server exit code on SIGTERM: ${exitCode}.`,
    `RSS first minute ${rssFirst} MB → last minute ${rssLast} MB; p99 per minute min ${Math.min(...p99s)} / max ${Math.max(...p99s)} ms.`,
    '',
    '| minute | requests | p50 ms | p99 ms | errors | RSS MB (max) | DB connections (max) |',
    '|---|---|---|---|---|---|---|',
    ...minutes.map((m, i) => `| ${i + 1} | ${m.requests} | ${percentile(m.latencies, 50)} | ${percentile(m.latencies, 99)} | ${m.errors} | ${Math.max(0, ...m.rss)} | ${Math.max(0, ...m.pool)} |`),
    '',
    '## Per operation (whole run)',
    '',
    '| operation | requests | p50 ms | p99 ms |',
    '|---|---|---|---|',
    ...[...new Set(minutes.flatMap((m) => [...m.byOp.keys()]))].sort().map((op) => {
      const values = minutes.flatMap((m) => m.byOp.get(op) ?? []);
      return `| ${op} | ${values.length} | ${percentile(values, 50)} | ${percentile(values, 99)} |`;
    }),
    '',
    ...(errors ? ['## Errors', '', ...Object.entries(minutes.reduce<Record<string, number>>((acc, m) => { for (const [k, n] of m.errorKinds) acc[k] = (acc[k] ?? 0) + n; return acc; }, {})).map(([k, n]) => `- ${k}: ${n}`), ''] : []),
  ];
  const file = path.join(projectRoot, 'bench', 'results', `soak-${started.toISOString().slice(0, 10)}.md`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  console.log(lines.join('\n'));
  console.log(`written to ${path.relative(projectRoot, file)}`);
  if (errors > 0 || (torn.rowCount ?? 0) > 0) process.exitCode = 1;
}

await main();
