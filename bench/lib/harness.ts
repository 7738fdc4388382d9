/**
 * Shared pieces of the benchmarks: a fresh PostgreSQL database, the real server on a free port, latency
 * measurement over HTTP and a results file; `runBenchmark` ties them together for a benchmark that seeds its own
 * database. Benchmarks hold the timing goals; tests never do.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { pino, type LevelWithSilent } from 'pino';
import { projectRoot } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { syncBuiltInCatalogue } from '../../src/modules/blocks/block-sync.js';
import { applyMigrations } from '../../src/db/migrations.js';
import { createServer, type AppServer } from '../../src/server/app.js';
import { createPostgresDatabase, postgresUrlFor } from '../../tests/helpers/databases.js';
import { planSections } from './explain.js';

/**
 * The command-line flags the benchmarks share: `--small` (the reduced sizes), `--keep` (keep the database) and
 * `--reuse <database>` (a database an earlier run kept: migrated to the current migrations, not seeded again, kept).
 */
export function benchFlags(args: readonly string[] = process.argv.slice(2)): { small: boolean; keep: boolean; reuse: string | null } {
  const at = args.indexOf('--reuse');
  const reuse = at >= 0 ? (args[at + 1] ?? '') : null;
  if (reuse !== null && !/^agentgraph_bench_\w+$/.test(reuse)) throw new Error('--reuse takes the name of a database a benchmark kept (agentgraph_bench_…).');
  return { small: args.includes('--small'), keep: args.includes('--keep') || reuse !== null, reuse };
}

/** `--name N`: a positive number from the command line, or `fallback` when the flag is absent. */
export function numberFlag(name: string, fallback: number, args: readonly string[] = process.argv): number {
  const i = args.indexOf(`--${name}`);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} takes a positive number`);
  return value;
}

export type BenchDatabase = {
  db: Database;
  name: string;
  /** Connection string of the database, for side connections (COPY, EXPLAIN). */
  url: string;
  /** Closes the connections and drops the database. */
  drop(): Promise<void>;
  /** Closes the connections, then drops the database unless `keep`, and says which it did. */
  dispose(keep: boolean): Promise<void>;
};

/** A fresh PostgreSQL database named `<prefix>_<random>` (on TEST_POSTGRES_URL's server), migrated. */
export async function createBenchDatabase(prefix: string, poolMax = 10): Promise<BenchDatabase> {
  const created = await createPostgresDatabase(prefix);
  const db = await openDatabase({ url: created.url, pgliteDataDir: '', poolMax }).catch(async (err: unknown) => {
    await created.drop();
    throw err;
  });
  const drop = async () => {
    await db.close();
    await created.drop();
  };
  // A database that cannot be migrated is of no use: drop it.
  await applyMigrations(db).then(() => syncBuiltInCatalogue(db.prisma)).catch(async (err: unknown) => {
    await drop();
    throw err;
  });
  return {
    db,
    name: created.name,
    url: created.url,
    drop,
    async dispose(keep) {
      if (keep) {
        await db.close();
        console.log(`kept ${created.name}`);
      } else {
        await drop();
        console.log(`dropped ${created.name}`);
      }
    },
  };
}

/** A database an earlier run kept (`--reuse`), migrated to the current migrations; never dropped here. */
export async function reuseBenchDatabase(name: string, poolMax = 10): Promise<BenchDatabase> {
  const url = postgresUrlFor(name);
  const db = await openDatabase({ url, pgliteDataDir: '', poolMax });
  await applyMigrations(db).then(() => syncBuiltInCatalogue(db.prisma));
  return {
    db,
    name,
    url,
    drop: () => Promise.reject(new Error(`${name} is reused: drop it yourself`)),
    async dispose() {
      await db.close();
      console.log(`kept ${name}`);
    },
  };
}

export type BenchServerOptions = { logLevel?: LevelWithSilent; playground?: boolean };

/** Sends a GraphQL request with `apiKey` and resolves to its `data` (rejects on `errors`). */
export type Post = (query: string, variables: unknown, apiKey: string) => Promise<unknown>;

export type BenchServer = { url: string; server: AppServer; post: Post };

export async function startBenchServer(db: Database, options: BenchServerOptions = {}): Promise<BenchServer> {
  const server = await createServer({ db, log: pino({ level: options.logLevel ?? 'warn' }), playground: options.playground });
  const { url } = await server.listen(0, '127.0.0.1');
  const post = async (query: string, variables: unknown, apiKey: string) => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { errors?: unknown[]; data?: unknown };
    if (body.errors) throw new Error(`benchmark request failed: ${JSON.stringify(body.errors)}`);
    return body.data;
  };
  return { url, server, post };
}

export type Latency = { p50: number; p95: number; p99: number; mean: number; max: number; n: number };

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

/**
 * Runs `request` `warmup` times unmeasured, then `n` times sequentially, and reports latency percentiles in ms,
 * rounded to `digits` decimals (1 unless told).
 */
export async function measure(request: (i: number) => Promise<unknown>, options: { warmup: number; n: number; digits?: number }): Promise<Latency> {
  for (let i = 0; i < options.warmup; i++) await request(i);
  const samples: number[] = [];
  for (let i = 0; i < options.n; i++) {
    const started = process.hrtime.bigint();
    await request(i);
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const scale = 10 ** (options.digits ?? 1);
  const round = (v: number) => Math.round(v * scale) / scale;
  return {
    p50: round(percentile(samples, 50)),
    p95: round(percentile(samples, 95)),
    p99: round(percentile(samples, 99)),
    mean: round(samples.reduce((a, b) => a + b, 0) / samples.length),
    max: round(samples[samples.length - 1]!),
    n: samples.length,
  };
}

/** One question of a benchmark: a GraphQL request sent with `apiKey`; `check` vets the data of the first answer. */
export type Scenario = { name: string; apiKey: string; query: string; variables?: unknown; check?: (data: unknown) => boolean };

export type ScenarioLatency = Latency & { name: string };

/**
 * Measures each scenario in turn with `post` (as returned by startBenchServer): `warmup` unmeasured requests, the
 * first of them checked, then `n` sequential measured ones. Logs a line per scenario.
 */
export async function measureScenarios(
  post: Post,
  scenarios: readonly Scenario[],
  options: { warmup: number; n: number; digits?: number },
): Promise<ScenarioLatency[]> {
  const results: ScenarioLatency[] = [];
  for (const scenario of scenarios) {
    const send = () => post(scenario.query, scenario.variables, scenario.apiKey);
    const first = await send();
    if (scenario.check && !scenario.check(first)) throw new Error(`Unexpected answer for ${scenario.name}: ${JSON.stringify(first).slice(0, 500)}`);
    const latency = await measure(send, { ...options, warmup: options.warmup - 1 });
    results.push({ name: scenario.name, ...latency });
    console.log(`${scenario.name}: p50 ${latency.p50.toFixed(1)} ms, p95 ${latency.p95.toFixed(1)} ms`);
  }
  return results;
}

/** The `| query | p50 | p95 | mean | max |` table (ms, 2 decimals) of measured scenarios. */
export function latencyTable(results: readonly ScenarioLatency[]): string {
  return markdownTable(
    ['query', 'p50 (ms)', 'p95 (ms)', 'mean (ms)', 'max (ms)'],
    results.map((r) => [r.name, r.p50.toFixed(2), r.p95.toFixed(2), r.mean.toFixed(2), r.max.toFixed(2)]),
    { align: ['left', 'right', 'right', 'right', 'right'] },
  );
}

/** Today's date (UTC), as results files are named and titled. */
export const today = (): string => new Date().toISOString().slice(0, 10);

/** Writes `bench/results/<name>-<date><suffix>.md` and returns its path. */
export function writeResults(name: string, markdown: string, options: { suffix?: string } = {}): string {
  const file = path.join(projectRoot, 'bench', 'results', `${name}-${today()}${options.suffix ?? ''}.md`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, markdown);
  return file;
}

/** A results document: `# title`, then blocks (paragraphs, tables) separated by blank lines, then `sections` lines. */
export function resultsMarkdown(title: string, blocks: readonly string[], sections: readonly string[] = []): string {
  return [`# ${title}`, '', ...blocks.flatMap((block) => [block, '']), ...sections].join('\n');
}

export function markdownTable(headers: string[], rows: Array<Array<string | number>>, options: { align?: Array<'left' | 'right'> } = {}): string {
  const rule = headers.map((_, i) => (options.align?.[i] === 'right' ? '---:' : '---'));
  return [`| ${headers.join(' | ')} |`, `| ${rule.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** `SHOW server_version` of the connection's server. */
export async function postgresVersion(client: Pick<pg.Pool, 'query'>): Promise<string> {
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  return rows[0]!.server_version;
}

/** A benchmark that seeds its own database; `warmup`/`requests` per scenario, `note` ends the report's method line. */
export type BenchSpec = { name: string; title: string; warmup: number; requests: number; note?: string };

/** What a benchmark run by `runBenchmark` works with. */
export type BenchRun = {
  db: Database;
  /** Side connections (4) to the same database, for COPY, maintenance and EXPLAIN. */
  pool: pg.Pool;
  /** The real server (quiet, no playground) on a free port; stopped when the benchmark ends. */
  startServer(): Promise<BenchServer>;
  /** measureScenarios with the benchmark's warm-up and request counts, at 2 decimals. */
  measure(post: Post, scenarios: readonly Scenario[]): Promise<ScenarioLatency[]>;
  /** Whether the database was seeded by an earlier run (`--reuse`): the benchmark only measures. */
  reused: boolean;
  /** writeLatencyReport for this benchmark: `environment` follows the versions, starting with its separator. */
  report(environment: string, results: readonly ScenarioLatency[], plans: Record<string, string>): Promise<string>;
};

/**
 * Runs a benchmark that seeds its own database: creates and migrates `agentgraph_bench_<name>_<random>`, calls
 * `body`, then stops the servers it started and drops the database (kept with `--keep`). A failure is printed and
 * exits with status 1.
 */
export async function runBenchmark(spec: BenchSpec, body: (run: BenchRun) => Promise<void>): Promise<void> {
  const { small, keep, reuse } = benchFlags();
  try {
    const bench = reuse ? await reuseBenchDatabase(reuse) : await createBenchDatabase(`agentgraph_bench_${spec.name}`);
    console.log(`bench:${spec.name} ${small ? '(small) ' : ''}on database ${bench.name}`);
    const pool = new pg.Pool({ connectionString: bench.url, max: 4 });
    const servers: AppServer[] = [];
    const run: BenchRun = {
      db: bench.db,
      pool,
      reused: reuse !== null,
      async startServer() {
        const started = await startBenchServer(bench.db, { logLevel: 'silent', playground: false });
        servers.push(started.server);
        return started;
      },
      measure: (post, scenarios) => measureScenarios(post, scenarios, { warmup: spec.warmup, n: spec.requests, digits: 2 }),
      report: (environment, results, plans) =>
        writeLatencyReport({ name: spec.name, title: spec.title, small, pool, environment, measured: { warmup: spec.warmup, n: spec.requests, note: spec.note }, results, plans }),
    };
    try {
      await body(run);
    } finally {
      for (const server of servers) await server.stop();
      await pool.end();
      await bench.dispose(keep);
    }
  } catch (err) {
    console.error(err);
    process.exit(1);
  }
}

/**
 * Prints the latency table and writes `bench/results/<name>-<date>[-small].md`: the title, the PostgreSQL and Node
 * versions followed by `environment` (which starts with its separator), how the requests were sent (and `note`),
 * the table, then the EXPLAIN ANALYZE plans. Returns the file's path relative to the project.
 */
export async function writeLatencyReport(report: {
  name: string;
  title: string;
  small: boolean;
  pool: pg.Pool;
  environment: string;
  measured: { warmup: number; n: number; note?: string };
  results: readonly ScenarioLatency[];
  plans: Record<string, string>;
}): Promise<string> {
  const table = latencyTable(report.results);
  console.log(`\n${table}\n`);
  const { warmup, n, note } = report.measured;
  const markdown = resultsMarkdown(
    `${report.title} — ${today()}${report.small ? ' (--small)' : ''}`,
    [
      `PostgreSQL ${await postgresVersion(report.pool)}, Node ${process.version}${report.environment}`,
      `${n} sequential HTTP requests per query after ${warmup} warm-up requests, over the real server (Express + Apollo + auth).${note ? ` ${note}` : ''}`,
      table,
    ],
    planSections(report.plans),
  );
  return path.relative(projectRoot, writeResults(report.name, markdown, { suffix: report.small ? '-small' : '' }));
}
