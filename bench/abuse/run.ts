/**
 * Abuse benchmark: does a dashboard stay fast while abusive clients hammer the server?
 *
 *   npm run bench:abuse [-- --seconds 30] [-- --rate 20] [-- --small] [-- --only 1,3a,5] [-- --each] [-- --one-address] [-- --keep]
 *
 * Creates a scratch database on the machine's PostgreSQL (TEST_POSTGRES_URL or postgresql://postgres@127.0.0.1:5432),
 * migrates and seeds it, adds a 500-node graph and a session with many events (200,000; --small: 20,000), and starts
 * the real server as a child process (`node --import tsx src/main.ts`, NODE_ENV=production, its own rate limit).
 * The dashboard sends from 127.0.0.1 and each attack from an address of its own (127.0.0.10 and up: the server
 * limits failed authentications per client address); --one-address sends everything from 127.0.0.1.
 * Then a dashboard client sends a realistic mix at a fixed rate (open loop), for --seconds without abusers (quiet),
 * for --seconds with every attack of attacks.ts looping concurrently (abuse), and for up to 10 s after them (after).
 * Measured from outside: the dashboard's latency and errors per phase, the event loop's delay (GET of an unknown
 * path, answered by Express without the database), /health, and the server's RSS (VmRSS sampled, VmHWM). A server
 * that dies is restarted and the death reported. CPU of the server, of PostgreSQL's backends and of this process
 * (with the attackers, which run at nice 19) per phase. --each adds a
 * phase per attack alone (up to 10 s each), to tell which attack slows the dashboard. Writes bench/results/abuse-<date>[-small].md.
 *
 * Goal: dashboard p99 under abuse < 2× quiet; peak RSS < 1 GB; the server never dies; every attack answered only
 * with clear refusals (4xx, QUERY_TOO_COMPLEX, QUERY_TOO_DEEP, RATE_LIMITED, BAD_USER_INPUT, UNAUTHENTICATED,
 * FORBIDDEN, BATCH_TOO_LARGE, …), or with data where the attack is an allowed, cheap request (listed).
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { projectRoot } from '../../src/config.js';
import { seedDatabase } from '../../src/seed/index.js';
import { BLOCKS } from '../../src/seed/catalogue.js';
import { percentile, sleep, spawnServer, type ServerProcess } from '../../tests/faults/helpers.js';
import { benchFlags, createBenchDatabase, markdownTable, postgresVersion, resultsMarkdown, writeResults } from '../lib/harness.js';
import { ATTACKS, type Attack } from './attacks.js';
import type { AttackerCommand, AttackerMessage } from './attacker.js';
import { closeAgents, postGraphql, timedGet } from './client.js';

const argv = process.argv.slice(2);
const numberArg = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} takes a positive number`);
  return value;
};
const { small, keep } = benchFlags(argv);
const SECONDS = numberArg('seconds', 30);
const RATE = numberArg('rate', 20);
const AFTER_SECONDS = Math.min(10, SECONDS);
/** --each: then each attack alone for up to 10 s, to see which one slows the dashboard. */
const EACH = argv.includes('--each');
const EACH_SECONDS = Math.min(10, SECONDS);
/** Every client on 127.0.0.1 (the dashboard shares its address with the abusers); otherwise each attack has its own. */
const ONE_ADDRESS = argv.includes('--one-address');
const onlyIndex = argv.indexOf('--only');
const ONLY = onlyIndex >= 0 ? new Set(argv[onlyIndex + 1]!.split(',').map((s) => s.trim())) : null;
const attacks = ATTACKS.filter((a) => !ONLY || ONLY.has(a.id) || ONLY.has(a.id.replace(/[a-z]$/, '')));
const SIZES = small
  ? { users: 5, graphsPerUser: 6, executions: 3_000, sessions: 60, maxEventsPerSession: 200, bigSessionEvents: 20_000 }
  : { users: 8, graphsPerUser: 10, executions: 30_000, sessions: 300, maxEventsPerSession: 300, bigSessionEvents: 200_000 };
const POOL_MAX = 10;
const DASHBOARD_TIMEOUT_MS = 15_000;
const USER_PERMISSIONS = ['READ_GRAPHS', 'WRITE_GRAPHS', 'EXECUTE_GRAPHS', 'READ_SESSIONS', 'WRITE_SESSIONS'];

const DASHBOARD = {
  graphs: 'query DashGraphs { graphs(first: 20) { nodes { id name version isActive executions(first: 5) { nodes { id status createdAt durationMs cost } } } } }',
  run: 'query DashRun($id: ID!) { graphExecution(id: $id) { id status cost createdAt durationMs graph { name } nodeExecutions(first: 50) { nodes { id status durationMs cost node { blockId label } } } } }',
  runs: 'query DashRuns { graphExecutions(first: 50) { totalCount nodes { id status createdAt durationMs cost graph { id name } } } }',
};

/** quiet, abuse, after, and with --each `alone <attack>`. */
type Phase = string;
type PhaseFigures = {
  dashboard: number[];
  /** Latencies of the dashboard requests sent from 1 s into the phase (its onset left out). */
  dashboardSettled: number[];
  dashboardErrors: Map<string, number>;
  dropped: number;
  loop: number[];
  loopFailures: number;
  health: number[];
  healthStatuses: Map<number, number>;
  rss: number[];
  hwm: number;
  startedAt: number;
  endedAt: number;
  /** CPU time over the phase, in % of one core: the server process, and this benchmark's own process. */
  serverCpu: number;
  benchCpu: number;
  databaseCpu: number;
  /** The machine's 1-minute load average at the phase's end (others share these cores). */
  load: number;
};
type AttackFigures = { labels: Map<string, number>; latencies: number[]; verdicts: Record<string, number> };

const bump = <K>(map: Map<K, number>, key: K, by = 1) => map.set(key, (map.get(key) ?? 0) + by);

/** User + system CPU time of a process in ms (clock ticks of 10 ms), 0 when it is gone. */
function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** CPU per PostgreSQL backend serving `database` (the processes titled `postgres: user database …`), by pid. */
function databaseCpuMs(database: string): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (title.startsWith('postgres: ') && title.includes(` ${database} `)) byPid.set(Number(entry), cpuMs(Number(entry)));
    } catch {
      // the process ended meanwhile
    }
  }
  return byPid;
}

/** CPU the backends alive now spent since `start` (a backend that ended meanwhile is left out). */
function databaseCpuSince(database: string, start: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ms] of databaseCpuMs(database)) sum += ms - (start.get(pid) ?? 0);
  return sum;
}

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return Math.round(kb / 102.4) / 10;
  } catch {
    return 0;
  }
}

/** Resets the kernel's peak-RSS mark (VmHWM) of the process, so each phase reads its own peak. Best effort. */
function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The largest graph the API accepts, valid under the block catalogue's rules (a chain of StoreValueBlocks, 4 links each). */
function bigGraphInput() {
  const store = BLOCKS.find((block) => block.name === 'StoreValueBlock')!.id;
  const nodes = Array.from({ length: 500 }, (_, i) => ({ key: `n${i}`, blockId: store, label: `node ${i}`, inputDefault: { input: i } }));
  const links: Array<{ source: string; sink: string; sourceName: string; sinkName: string }> = [];
  for (let i = 0; i < 500; i++) for (let d = 1; d <= 4 && i + d < 500; d++) links.push({ source: `n${i}`, sink: `n${i + d}`, sourceName: 'output', sinkName: d % 2 ? 'input' : 'data' });
  return { name: 'abuse: 500 nodes', nodes, links };
}

async function main() {
  const started = new Date();
  console.log(`bench:abuse ${small ? '(small) ' : ''}— ${SECONDS} s per phase, dashboard at ${RATE} req/s, attacks ${attacks.map((a) => a.id).join(', ')}`);
  const bench = await createBenchDatabase('agentgraph_bench_abuse', 2);
  if (bench.db.kind !== 'postgres') throw new Error('the benchmark needs PostgreSQL');
  /** The benchmark's own connections (seeding, loading events, reading what the attacks left). */
  const side: pg.Pool = bench.db.pool;
  let server: ServerProcess | null = null;
  let stopping = false;
  const deaths: Array<{ at: number; phase: Phase | 'setup'; exit: number | string; rssBefore: number; inFlight: string[] }> = [];
  let phase: Phase | 'setup' = 'setup';
  const inFlightAttacks = new Map<string, number>();
  /** The running attacker processes: how to reach each, and their pids (their CPU counts as the benchmark's). */
  const attackers = new Set<(command: AttackerCommand) => void>();
  const attackerPids = new Set<number>();
  const attackersCpuMs = () => [...attackerPids].reduce((sum, pid) => sum + cpuMs(pid), 0);

  try {
    const seed = await seedDatabase(bench.db, { ...SIZES, seed: 11, days: 60 });
    console.log(`seeded in ${seed.durationMs} ms: ${JSON.stringify(seed.counts)}`);
    const [adminKey, dashboardUser, abuser] = seed.apiKeys;
    if (!adminKey?.permissions.includes('ADMIN') || !dashboardUser || !abuser) throw new Error('the seed has no admin or too few users');

    const env = { DATABASE_URL: bench.url, DB_POOL_MAX: String(POOL_MAX), RATE_LIMIT_PER_MINUTE: process.env.RATE_LIMIT_PER_MINUTE, RATE_LIMIT_BURST: process.env.RATE_LIMIT_BURST, RATE_LIMIT_COST_PER_MINUTE: process.env.RATE_LIMIT_COST_PER_MINUTE };
    let lastRss = 0;
    const watch = (s: ServerProcess) => {
      void s.exited.then(async (exit) => {
        if (stopping || server !== s) return;
        deaths.push({ at: Date.now(), phase, exit, rssBefore: lastRss, inFlight: [...inFlightAttacks].filter(([, n]) => n > 0).map(([id]) => id) });
        console.log(`!! server died (${exit}) during ${phase}; last output:\n${s.output().slice(-2_000)}\nrestarting`);
        server = null;
        for (const tell of attackers) tell({ type: 'url', url: null });
        try {
          const next = await spawnServer(env);
          server = next;
          for (const tell of attackers) tell({ type: 'url', url: next.url });
          watch(next);
        } catch (err) {
          console.log(`!! the server could not be restarted: ${(err as Error).message.slice(0, 2_000)}`);
        }
      });
    };
    server = await spawnServer(env);
    watch(server);
    const url = () => server?.url ?? 'http://127.0.0.1:9'; // while restarting: refused, counted as network errors
    const gql = async (query: string, variables: unknown, key: string) => {
      const answer = await postGraphql(url(), { query, variables }, { key, timeoutMs: 60_000 });
      if (answer.verdict !== 'answered') throw new Error(`setup request failed (${answer.label}): ${JSON.stringify(answer.json).slice(0, 500)}`);
      return answer.json.data;
    };

    // ---- setup through the API: keys, the 500-node graph, the big session ----
    const userKeys: Record<string, string> = {};
    for (const attack of ATTACKS) {
      const created = await gql('mutation($n: String!, $p: [ApiKeyPermission!]!) { createApiKey(name: $n, permissions: $p) { secret } }', { n: `abuse ${attack.id}`, p: USER_PERMISSIONS }, abuser.key);
      userKeys[attack.id.replace(/[a-z]$/, '')] = created.createApiKey.secret;
    }
    const readGraphs = (await gql('mutation { createApiKey(name: "abuse read", permissions: [READ_GRAPHS]) { secret } }', {}, abuser.key)).createApiKey.secret as string;
    const graph = await gql('mutation($input: GraphInput!) { createGraph(input: $input) { graph { id nodes { id } links { id } } } }', { input: bigGraphInput() }, abuser.key);
    const bigGraphId = graph.createGraph.graph.id as string;
    console.log(`big graph ${bigGraphId}: ${graph.createGraph.graph.nodes.length} nodes, ${graph.createGraph.graph.links.length} links`);
    const session = await gql('mutation { createSession(input: { appName: "abuse-events" }) { session { id } } }', {}, abuser.key);
    const bigSessionId = session.createSession.session.id as string;
    const loadStarted = Date.now();
    // Every 10,000th event is on branch "x"; the rest on "root.a".
    await side.query(
      `INSERT INTO session_events (id, session_id, sequence, author, content, metadata, branch, timestamp)
       SELECT gen_random_uuid(), $1, s, 'agent', jsonb_build_object('text', 'event ' || s), '{}'::jsonb,
              CASE WHEN s % 10000 = 0 THEN 'x' ELSE 'root.a' END, now() - make_interval(secs => $2 - s)
         FROM generate_series(1, $2::int) s`,
      [bigSessionId, SIZES.bigSessionEvents],
    );
    await side.query('UPDATE sessions SET last_sequence = $2, version = version + 1, updated_at = now() WHERE id = $1', [bigSessionId, SIZES.bigSessionEvents]);
    await side.query('ANALYZE session_events');
    console.log(`big session ${bigSessionId}: ${SIZES.bigSessionEvents} events in ${Date.now() - loadStarted} ms`);

    const runs = await gql('query { graphExecutions(first: 50) { nodes { id } } }', {}, dashboardUser.key);
    const runIds = (runs.graphExecutions.nodes as Array<{ id: string }>).map((r) => r.id);
    if (runIds.length === 0) throw new Error('the dashboard user has no runs');

    // ---- load ----
    const phases = new Map<Phase, PhaseFigures>();
    const attackFigures = new Map<string, AttackFigures>();
    const figuresOf = (p: Phase): PhaseFigures => {
      let f = phases.get(p);
      if (!f) phases.set(p, (f = { dashboard: [], dashboardSettled: [], dashboardErrors: new Map(), dropped: 0, loop: [], loopFailures: 0, health: [], healthStatuses: new Map(), rss: [], hwm: 0, startedAt: Date.now(), endedAt: 0, serverCpu: 0, benchCpu: 0, databaseCpu: 0, load: 0 }));
      return f;
    };

    let dashboardCounter = 0;
    const dashboardRequest = () => {
      const i = dashboardCounter++;
      const kind = i % 3;
      const body = kind === 0 ? { query: DASHBOARD.graphs } : kind === 1 ? { query: DASHBOARD.run, variables: { id: runIds[i % runIds.length] } } : { query: DASHBOARD.runs };
      return postGraphql(url(), body, { key: dashboardUser.key, timeoutMs: DASHBOARD_TIMEOUT_MS });
    };

    /** Runs the dashboard (and the probes) for `seconds`, recording into `p`'s figures unless `p` is null (warm-up). */
    const runDashboard = async (p: Phase | null, seconds: number) => {
      const figures = p ? figuresOf(p) : null;
      if (p && server) resetPeakRss(server.pid);
      const cpuPid = server?.pid ?? 0;
      const serverCpuStart = cpuMs(cpuPid);
      const benchCpuStart = process.cpuUsage();
      const databaseCpuStart = databaseCpuMs(bench.name);
      const attackersCpuStart = attackersCpuMs();
      const wallStart = Date.now();
      const end = Date.now() + seconds * 1000;
      const inFlight = new Set<Promise<void>>();
      let probing = true;
      const probes = figures
        ? Promise.all([
            (async () => {
              while (probing) {
                const r = await timedGet(url(), '/abuse-bench-loop-probe', 10_000);
                // A probe that timed out counts with its 10 s.
                figures.loop.push(r.ms);
                if (r.status !== 404) figures.loopFailures += 1;
                await sleep(250);
              }
            })(),
            (async () => {
              while (probing) {
                const r = await timedGet(url(), '/health', 10_000);
                figures.health.push(r.ms);
                bump(figures.healthStatuses, r.status);
                await sleep(1_000);
              }
            })(),
            (async () => {
              while (probing) {
                if (server) {
                  lastRss = procStatus(server.pid, 'VmRSS');
                  figures.rss.push(lastRss);
                  figures.hwm = Math.max(figures.hwm, procStatus(server.pid, 'VmHWM'));
                }
                await sleep(500);
              }
            })(),
          ])
        : Promise.resolve();
      const interval = 1000 / RATE;
      let next = Date.now();
      while (Date.now() < end) {
        if (inFlight.size >= 200) {
          if (figures) figures.dropped += 1;
        } else {
          const sentAt = Date.now();
          const request = dashboardRequest().then((answer) => {
            if (!figures) return;
            figures.dashboard.push(answer.ms);
            if (sentAt - figures.startedAt >= 1_000) figures.dashboardSettled.push(answer.ms);
            if (answer.verdict !== 'answered') bump(figures.dashboardErrors, answer.label);
          });
          inFlight.add(request);
          void request.finally(() => inFlight.delete(request));
        }
        next += interval;
        await sleep(Math.max(0, next - Date.now()));
      }
      await Promise.all(inFlight);
      probing = false;
      await probes;
      if (figures) {
        figures.endedAt = Date.now();
        const wall = figures.endedAt - wallStart;
        const benchUsage = process.cpuUsage(benchCpuStart);
        figures.databaseCpu = Math.round((databaseCpuSince(bench.name, databaseCpuStart) / wall) * 100);
        figures.serverCpu = server?.pid === cpuPid ? Math.round(((cpuMs(cpuPid) - serverCpuStart) / wall) * 100) : Number.NaN;
        figures.benchCpu = Math.round(((benchUsage.user + benchUsage.system) / 1000 + Math.max(0, attackersCpuMs() - attackersCpuStart)) / wall * 100);
        figures.load = Math.round(os.loadavg()[0]! * 10) / 10;
      }
    };

    /**
     * The attacks of `list`, looping in a child process (attacker.ts) until stopped: building their bodies and reading
     * their answers happens outside this process, whose event loop times the dashboard.
     */
    const startAbusers = async (list: Attack[], recording: boolean) => {
      const child = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'attacker.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      // A real attacker's CPU is not the server's: at the lowest priority, building bodies and reading answers here
      // takes only CPU the server, PostgreSQL and the dashboard leave idle (it still sends whenever a core is free).
      if (child.pid) os.setPriority(child.pid, 19);
      const stopped = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await new Promise<void>((resolve, reject) => {
        child.once('message', (message: AttackerMessage) => (message.type === 'ready' ? resolve() : reject(new Error(`the attacker process said ${message.type} first`))));
        child.once('exit', (code) => reject(new Error(`the attacker process exited (${code}) before it was ready`)));
      });
      child.on('message', (message: AttackerMessage) => {
        if (message.type === 'inFlight') bump(inFlightAttacks, message.id, message.delta);
        else if (message.type === 'answer') {
          let f = attackFigures.get(message.id);
          if (!f) attackFigures.set(message.id, (f = { labels: new Map(), latencies: [], verdicts: {} }));
          bump(f.labels, message.answer.label);
          f.latencies.push(message.answer.ms);
          f.verdicts[message.answer.verdict] = (f.verdicts[message.answer.verdict] ?? 0) + 1;
        }
      });
      const tell = (command: AttackerCommand) => child.connected && child.send(command);
      attackers.add(tell);
      if (child.pid) attackerPids.add(child.pid);
      tell({
        type: 'start',
        url: url(),
        attacks: list.map((attack) => attack.id),
        recording,
        oneAddress: ONE_ADDRESS,
        keys: { user: userKeys, readGraphs, admin: adminKey.key },
        bigGraphId,
        bigSessionId,
      });
      return {
        stop: async () => {
          tell({ type: 'stop' });
          await stopped;
          attackers.delete(tell);
          if (child.pid) attackerPids.delete(child.pid);
        },
      };
    };

    console.log('warm-up (3 s)');
    await runDashboard(null, 3);
    phase = 'quiet';
    console.log(`quiet phase (${SECONDS} s)`);
    await runDashboard('quiet', SECONDS);
    phase = 'abuse';
    console.log(`abuse phase (${SECONDS} s)`);
    const abusers = await startAbusers(attacks, true);
    await runDashboard('abuse', SECONDS);
    await abusers.stop();
    phase = 'after';
    console.log(`after phase (${AFTER_SECONDS} s)`);
    await runDashboard('after', AFTER_SECONDS);
    if (EACH) {
      for (const attack of attacks) {
        phase = `alone ${attack.id}`;
        console.log(`attack ${attack.id} alone (${EACH_SECONDS} s)`);
        const alone = await startAbusers([attack], false);
        await runDashboard(phase, EACH_SECONDS);
        await alone.stop();
        await sleep(2_000);
      }
    }

    // ---- what the attacks left behind ----
    const states = await side.query<{ id: string; keys: number; bytes: number; events: number }>(
      `SELECT s.id, (SELECT count(*) FROM jsonb_object_keys(s.state))::int AS keys, octet_length(s.state::text)::int AS bytes, s.last_sequence AS events
         FROM sessions s WHERE s.app_name = 'abuse-state' ORDER BY keys DESC`,
    );
    const pgVersion = await postgresVersion(side);
    stopping = true;
    const finalServer = server as ServerProcess | null;
    finalServer?.child.kill('SIGTERM');
    const exitCode = finalServer ? await finalServer.exited : 'none running';

    // ---- report ----
    const quiet = figuresOf('quiet');
    const abuse = figuresOf('abuse');
    const after = figuresOf('after');
    const p99Quiet = percentile(quiet.dashboard, 99);
    const p99Abuse = percentile(abuse.dashboard, 99);
    const peakRss = Math.max(...[quiet, abuse, after].flatMap((f) => [f.hwm, ...f.rss]), ...deaths.map((d) => d.rssBefore));
    const attackRows = attacks.flatMap((attack) => (attack.parts ? Object.entries(attack.parts).map(([id, title]) => ({ attack, id, title })) : [{ attack, id: attack.id, title: attack.title }]));
    const badAttacks = attackRows.filter(({ attack, id }) => {
      const f = attackFigures.get(id);
      return f && ((f.verdicts.bad ?? 0) > 0 || (!attack.mayAnswer && (f.verdicts.answered ?? 0) > 0));
    });
    const answeredListed = attackRows.filter(({ attack, id }) => attack.mayAnswer && (attackFigures.get(id)?.verdicts.answered ?? 0) > 0);
    const checks = [
      { name: `dashboard p99 under abuse < 2× quiet (${p99Abuse} ms vs 2 × ${p99Quiet} ms)`, pass: p99Abuse < 2 * p99Quiet },
      { name: `server peak RSS < 1 GB (${peakRss} MB)`, pass: peakRss < 1024 },
      { name: `server never died (${deaths.length} deaths) and exited 0 on SIGTERM at the end (${exitCode})`, pass: deaths.length === 0 && exitCode === 0 },
      {
        name: `every attack answered only with clear refusals or allowed data (${badAttacks.length ? `not: ${badAttacks.map((r) => r.id).join(', ')}` : 'all'})`,
        pass: badAttacks.length === 0,
      },
    ];
    const passed = checks.every((c) => c.pass);
    const ms = (values: number[], p: number) => (values.length ? String(Math.round(percentile(values, p) * 10) / 10) : '–');
    const phaseRow = (name: string, f: PhaseFigures) => [
      name,
      `${Math.round((f.endedAt - f.startedAt) / 100) / 10} s`,
      f.dashboard.length,
      ms(f.dashboard, 50),
      ms(f.dashboard, 99),
      ms(f.dashboardSettled, 99),
      ms(f.dashboard, 100),
      [...f.dashboardErrors.values()].reduce((a, b) => a + b, 0) + (f.dropped ? ` (+${f.dropped} dropped)` : ''),
      `${ms(f.loop, 50)} / ${ms(f.loop, 99)} / ${ms(f.loop, 100)}${f.loopFailures ? ` (${f.loopFailures} failed)` : ''}`,
      `${ms(f.health, 50)} / ${ms(f.health, 99)} / ${ms(f.health, 100)}`,
      [...f.healthStatuses].map(([s, n]) => `${s || 'none'}×${n}`).join(' '),
      Math.max(0, ...f.rss),
      f.hwm || '–',
      `${f.serverCpu} / ${f.databaseCpu} / ${f.benchCpu}`,
      f.load,
    ];
    const attackTable = markdownTable(
      ['attack', 'what', 'requests', 'answers (HTTP status, extensions.code)', 'p50 ms', 'p99 ms', 'verdict'],
      attackRows.map(({ attack, id, title }) => {
        const f = attackFigures.get(id);
        if (!f) return [id, title, 0, '–', '–', '–', 'no answer'];
        const labels = [...f.labels].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ×${n}`).join(', ');
        const bad = (f.verdicts.bad ?? 0) + (attack.mayAnswer ? 0 : (f.verdicts.answered ?? 0));
        const verdict = bad ? `**BAD** (${bad})` : (f.verdicts.answered ?? 0) > 0 ? 'answered (allowed, listed)' : 'refused';
        return [id, title, f.latencies.length, labels, ms(f.latencies, 50), ms(f.latencies, 99), verdict];
      }),
    );
    const blocks = [
      `PostgreSQL ${pgVersion} (scratch database on 127.0.0.1:5432), Node ${process.version}, ${os.cpus().length} cores; server: \`node --import tsx src/main.ts\` as a child process, NODE_ENV=production, pool max ${POOL_MAX}, rate limit ${process.env.RATE_LIMIT_PER_MINUTE ?? "the server's default"}. Seed: ${JSON.stringify(seed.counts)}; a 500-node graph (1,990 links); a session of ${SIZES.bigSessionEvents.toLocaleString('en')} events.`,
      `Dashboard: ${RATE} req/s open loop (a user's graphs with their latest runs; a run with its node executions; the user's runs list, in turn), ${DASHBOARD_TIMEOUT_MS / 1000} s timeout, from 127.0.0.1; ${ONE_ADDRESS ? 'the attacks from 127.0.0.1 too (--one-address)' : 'each attack from a loopback address of its own (127.0.0.10 and up)'}. The attacks run in a child process at the lowest CPU priority (nice 19: a real attacker's CPU is not the server's); CPU % of PostgreSQL is its backends' for this database; bench is this process and the attackers'. Phases: quiet ${SECONDS} s, abuse ${SECONDS} s (every attack below looping with its concurrency), after ${AFTER_SECONDS} s (abusers stopped, their requests cut off). Event-loop delay: GET of an unknown path (Express 404, no database) every 250 ms, timeouts counted as 10 s; /health every 1 s. RSS: VmRSS every 500 ms; VmHWM per phase (reset at each phase's start when the kernel allows).`,
      `## Goal: ${passed ? 'PASS' : 'FAIL'}\n\n${checks.map((c) => `- ${c.pass ? 'PASS' : 'FAIL'}: ${c.name}`).join('\n')}\n\nDashboard p99 from 1 s into the abuse (its onset, when every attacker's allowed burst lands at once on code not run before, left out): ${ms(abuse.dashboardSettled, 99)} ms.`,
      '## Dashboard and server per phase',
      markdownTable(
        ['phase', 'duration', 'dashboard requests', 'p50 ms', 'p99 ms', 'p99 from 1 s ms', 'max ms', 'errors', 'event-loop probe p50 / p99 / max ms', '/health p50 / p99 / max ms', '/health statuses', 'RSS max MB (sampled)', 'VmHWM MB', 'CPU % server / PostgreSQL / bench', 'load avg (1 min)'],
        [phaseRow('quiet', quiet), phaseRow('abuse', abuse), phaseRow('after', after)],
      ),
      ...(EACH
        ? [
            `Each attack alone (${EACH_SECONDS} s each, with the dashboard; answers not recorded):`,
            markdownTable(
              ['phase', 'duration', 'dashboard requests', 'p50 ms', 'p99 ms', 'p99 from 1 s ms', 'max ms', 'errors', 'event-loop probe p50 / p99 / max ms', '/health p50 / p99 / max ms', '/health statuses', 'RSS max MB (sampled)', 'VmHWM MB', 'CPU % server / PostgreSQL / bench', 'load avg (1 min)'],
              [...phases].filter(([name]) => name.startsWith('alone ')).map(([name, f]) => phaseRow(name, f)),
            ),
          ]
        : []),
      ...(phases.size && [...phases.values()].some((f) => f.dashboardErrors.size)
        ? [`Dashboard errors: ${[...phases].filter(([, f]) => f.dashboardErrors.size).map(([p, f]) => `${p}: ${[...f.dashboardErrors].map(([l, n]) => `${l} ×${n}`).join(', ')}`).join('; ')}`]
        : []),
      '## Attacks (abuse phase)',
      `Concurrency per attack: ${attacks.map((a) => `${a.id} ×${a.concurrency}`).join(', ')}; client timeout 30 s (random keys 10 s); answers over 16 MB are cut off and count as bad. Verdicts: refused = only clear refusals; answered = 200 with data where the attack is allowed (listed); **BAD** = 5xx, INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE, timeouts, network errors, answers over 16 MB, or data for an attack that must be refused.`,
      attackTable,
      ...(answeredListed.length ? [`Answered with data (allowed, listed): ${answeredListed.map((r) => r.id).join(', ')}.`] : []),
      `Session state left by attack 7: ${states.rows.map((r) => `${r.keys.toLocaleString('en')} keys, ${(r.bytes / 1e6).toFixed(2)} MB as JSON text, ${r.events} events`).join('; ') || 'none'}.`,
      ...(deaths.length
        ? [`## Server deaths\n\n${deaths.map((d) => `- ${new Date(d.at).toISOString()} during ${d.phase}: exit ${d.exit}, last sampled RSS ${d.rssBefore} MB, attacks in flight: ${d.inFlight.join(', ') || 'none'}`).join('\n')}`]
        : []),
      `Server exit on SIGTERM at the end: ${exitCode}. Started ${started.toISOString()}.`,
    ];
    const markdown = resultsMarkdown(`Abuse benchmark — ${started.toISOString().slice(0, 10)}${small ? ' (--small)' : ''}`, blocks);
    const file = writeResults('abuse', markdown, { suffix: small ? '-small' : '' });
    console.log(`\n${markdown}`);
    console.log(`written to ${path.relative(projectRoot, file)}`);
    if (!passed) process.exitCode = 1;
  } finally {
    stopping = true;
    closeAgents();
    const s = server as ServerProcess | null;
    if (s && s.child.exitCode === null && s.child.signalCode === null) {
      s.child.kill('SIGKILL');
      await s.exited;
    }
    await bench.dispose(keep);
  }
}

await main().catch((err) => {
  console.error(err);
  process.exit(1);
});
