/**
 * Live updates under load: two real server processes (`src/main.ts`) on a fresh PostgreSQL database, `--subscribers`
 * graphql-ws subscribers (default 1,000: 100 users × 10, half on each process) to their own runs' updates, while an
 * executor moves runs (RUNNING ↔ REVIEW) at `--rate` status changes per second (default 200) through the API of both
 * processes for `--seconds` (default 30). Reports the delivery latency from the write to the client (the run's
 * `updatedAt`, set by the writing statement just before it commits, to the moment the client parses the event), events
 * missed and duplicated (each subscriber must receive every change of its user's runs exactly once), and the servers'
 * memory per subscriber. Writes bench/results/live-<date>.md. Goals: p99 under 100 ms; 0 missed, 0 duplicated.
 *
 *   npm run bench:live -- [--subscribers 1000] [--rate 200] [--seconds 30]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { projectRoot } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { percentile, request, rssMb, sleep, spawnServer, type ServerProcess } from '../../tests/faults/helpers.js';
import { createTestDatabase } from '../../tests/helpers/databases.js';
import { createGraph, createRun, createUser } from '../../tests/helpers/factories.js';
import { numberFlag } from '../lib/harness.js';

const arg = numberFlag;
const SUBSCRIBERS = arg('subscribers', 1_000);
const RATE = arg('rate', 200);
const SECONDS = arg('seconds', 30);
const PER_USER = 10;
const USERS = Math.max(1, Math.round(SUBSCRIBERS / PER_USER));
const RUNS_PER_USER = 4;

const SUBSCRIPTION = 'subscription { graphExecutionUpdated { status graphExecution { id updatedAt } } }';
const MOVE = 'mutation($id: ID!, $s: ExecutionStatus!) { updateGraphExecution(id: $id, status: $s) { graphExecution { id updatedAt } } }';

type Subscriber = { user: number; client: Client; received: Map<string, number>; latencies: number[] };

const log = (message: string) => console.log(`[${Math.round(process.uptime())} s] ${message}`);

async function fixtures(db: Database) {
  const users: Array<{ key: string; runs: string[] }> = [];
  for (let u = 0; u < USERS; u++) {
    const { user, apiKey } = await createUser(db);
    const { graph } = await createGraph(db, user.id, { name: `live ${u}` });
    const runs: string[] = [];
    for (let r = 0; r < RUNS_PER_USER; r++) runs.push((await createRun(db, { graphId: graph.id, version: 1, userId: user.id, status: 'RUNNING', nodeExecutions: false })).runId);
    users.push({ key: apiKey, runs });
  }
  const admin = await createUser(db, { admin: true });
  return { users, adminKey: admin.apiKey };
}

function subscribe(server: ServerProcess, key: string, user: number): Promise<Subscriber> {
  const subscriber: Subscriber = {
    user,
    client: createClient({ url: `${server.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, retryAttempts: 0, lazy: false }),
    received: new Map(),
    latencies: [],
  };
  return new Promise((resolve, reject) => {
    subscriber.client.on('connected', () => setTimeout(() => resolve(subscriber), 50));
    subscriber.client.on('closed', (event) => reject(new Error(`subscriber closed: ${JSON.stringify(event)}`)));
    subscriber.client.subscribe<{ graphExecutionUpdated: { status: string; graphExecution: { id: string; updatedAt: string } } }>(
      { query: SUBSCRIPTION },
      {
        next: ({ data }) => {
          const now = Date.now();
          const run = data?.graphExecutionUpdated.graphExecution;
          if (!run) return;
          const change = `${run.id}|${run.updatedAt}`;
          subscriber.received.set(change, (subscriber.received.get(change) ?? 0) + 1);
          subscriber.latencies.push(now - Date.parse(run.updatedAt));
        },
        error: (error) => console.error('subscription error', error),
        complete: () => {},
      },
    );
  });
}

async function main() {
  const started = new Date();
  log(`live: ${SUBSCRIBERS} subscribers (${USERS} users × ${PER_USER}) over 2 processes, ${RATE} status changes/s for ${SECONDS} s`);
  const db = await createTestDatabase('postgres');
  const url = (db as Extract<Database, { kind: 'postgres' }>).url;
  const { users, adminKey } = await fixtures(db);
  const env = { DATABASE_URL: url };
  const servers = await Promise.all([spawnServer(env), spawnServer(env)]);
  try {
    // Warm both processes (compiled mutation, connections) before measuring memory.
    for (const server of servers) for (let i = 0; i < 20; i++) await request(server.url, adminKey, 'warm', MOVE, { id: users[0]!.runs[0], s: i % 2 ? 'RUNNING' : 'REVIEW' });
    await sleep(500);
    const rssBefore = servers.map((s) => rssMb(s.pid));
    const subscribers: Subscriber[] = [];
    for (let u = 0; u < USERS; u++) {
      const batch = await Promise.all(Array.from({ length: PER_USER }, (_, i) => subscribe(servers[i % 2]!, users[u]!.key, u)));
      subscribers.push(...batch);
    }
    await sleep(1_000);
    const rssIdle = servers.map((s) => rssMb(s.pid));
    log(`${subscribers.length} subscribers connected; server RSS ${rssBefore.join(' + ')} → ${rssIdle.join(' + ')} MB`);

    // The executor: open loop at RATE, runs round-robin over users, alternating processes; every change's updatedAt is kept.
    const expected = new Map<number, Set<string>>();
    const next = new Map<string, 'RUNNING' | 'REVIEW'>();
    const failures: string[] = [];
    const writes: Array<Promise<void>> = [];
    const total = RATE * SECONDS;
    const t0 = Date.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const user = i % USERS;
      const runId = users[user]!.runs[Math.floor(i / USERS) % RUNS_PER_USER]!;
      const status = next.get(runId) === 'RUNNING' ? 'RUNNING' : 'REVIEW';
      next.set(runId, status === 'RUNNING' ? 'REVIEW' : 'RUNNING');
      writes.push(
        request(servers[i % 2]!.url, adminKey, 'move', MOVE, { id: runId, s: status }).then((outcome) => {
          if (!outcome.ok) return void failures.push(outcome.code ?? outcome.networkError ?? String(outcome.status));
          const run = outcome.data.updateGraphExecution.graphExecution as { id: string; updatedAt: string };
          let set = expected.get(user);
          if (!set) expected.set(user, (set = new Set()));
          set.add(`${run.id}|${run.updatedAt}`);
        }),
      );
      // The same run is moved again only after its previous change answered (a status changes in order).
      if (writes.length > 200) await writes.shift();
    }
    await Promise.all(writes);
    const writeSeconds = (Date.now() - t0) / 1000;
    await sleep(2_000);
    const rssAfter = servers.map((s) => rssMb(s.pid));

    let missed = 0;
    let duplicated = 0;
    const latencies: number[] = [];
    for (const subscriber of subscribers) {
      const wanted = expected.get(subscriber.user) ?? new Set();
      for (const change of wanted) if (!subscriber.received.has(change)) missed++;
      for (const [change, count] of subscriber.received) {
        if (count > 1) duplicated += count - 1;
        if (!wanted.has(change)) duplicated += count; // delivered but never written: counted as a wrong delivery
      }
      latencies.push(...subscriber.latencies);
    }
    const deliveries = latencies.length;
    const figures = {
      subscribers: subscribers.length,
      changes: total - failures.length,
      writeFailures: failures.length,
      achievedRate: Math.round((total / writeSeconds) * 10) / 10,
      deliveries,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.reduce((most, ms) => Math.max(most, ms), 0),
      missed,
      duplicated,
      rssBefore,
      rssIdle,
      rssAfter,
      kbPerSubscriber: Math.round((((rssIdle[0]! + rssIdle[1]!) - (rssBefore[0]! + rssBefore[1]!)) * 1024) / subscribers.length),
    };
    log(JSON.stringify(figures));
    for (const subscriber of subscribers) await subscriber.client.dispose();
    writeResults(started, figures);
  } finally {
    for (const server of servers) server.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.exited));
    await db.close();
  }
}

function writeResults(started: Date, f: Record<string, unknown> & { p50: number; p99: number }) {
  const date = started.toISOString().slice(0, 10);
  const file = path.join(projectRoot, 'bench', 'results', `live-${date}.md`);
  const lines = [
    `# bench:live, ${started.toISOString()}`,
    '',
    `${os.cpus().length} cores, Node ${process.version}; PostgreSQL on this machine; two server processes (\`src/main.ts\`), the subscribers' clients and the executor in the bench process.`,
    `${SUBSCRIBERS} graphql-ws subscribers (${USERS} users × ${PER_USER}, half on each process) to their own runs; the executor moves runs at ${RATE}/s for ${SECONDS} s through both processes' API.`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| status changes written (failed) | ${String(f.changes)} (${String(f.writeFailures)}) at ${String(f.achievedRate)}/s |`,
    `| events delivered | ${String(f.deliveries)} |`,
    `| latency write → client, p50 / p99 / max | ${f.p50} / ${f.p99} / ${String(f.max)} ms |`,
    `| missed / duplicated | ${String(f.missed)} / ${String(f.duplicated)} |`,
    `| server RSS before subscribers / with them idle / after the run (MB) | ${String(f.rssBefore)} / ${String(f.rssIdle)} / ${String(f.rssAfter)} |`,
    `| memory per subscriber | ${String(f.kbPerSubscriber)} KB |`,
    '',
    'Latency is measured from the run\'s `updatedAt` (set by the writing statement, just before its commit) to the moment the client parsed the event, on one clock.',
    '',
  ];
  fs.writeFileSync(file, lines.join('\n'));
  log(`written ${path.relative(projectRoot, file)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
