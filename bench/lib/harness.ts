/**
 * Shared pieces of the benchmarks: a fresh PostgreSQL database, the real server on a free port, latency
 * measurement over HTTP and a results file. Benchmarks hold the timing goals; tests never do.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { projectRoot } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrations.js';
import { createServer, type AppServer } from '../../src/server/app.js';
import { createPostgresDatabase } from '../../tests/helpers/databases.js';

export type BenchDatabase = { db: Database; name: string; drop(): Promise<void> };

export async function createBenchDatabase(prefix: string, poolMax = 10): Promise<BenchDatabase> {
  const created = await createPostgresDatabase(prefix);
  const db = await openDatabase({ url: created.url, pgliteDataDir: '', poolMax });
  await applyMigrations(db);
  return {
    db,
    name: created.name,
    async drop() {
      await db.close();
      await created.drop();
    },
  };
}

export async function startBenchServer(db: Database): Promise<{ url: string; server: AppServer; post: (query: string, variables: unknown, apiKey: string) => Promise<unknown> }> {
  const server = await createServer({ db, log: pino({ level: 'warn' }) });
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

export type Latency = { p50: number; p95: number; p99: number; mean: number; n: number };

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** Runs `request` `warmup` times unmeasured, then `n` times sequentially, and reports latency percentiles in ms. */
export async function measure(request: (i: number) => Promise<unknown>, options: { warmup: number; n: number }): Promise<Latency> {
  for (let i = 0; i < options.warmup; i++) await request(i);
  const samples: number[] = [];
  for (let i = 0; i < options.n; i++) {
    const started = process.hrtime.bigint();
    await request(i);
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    p50: round(percentile(samples, 50)),
    p95: round(percentile(samples, 95)),
    p99: round(percentile(samples, 99)),
    mean: round(samples.reduce((a, b) => a + b, 0) / samples.length),
    n: samples.length,
  };
}

export function writeResults(name: string, markdown: string): string {
  const file = path.join(projectRoot, 'bench', 'results', `${name}-${new Date().toISOString().slice(0, 10)}.md`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, markdown);
  return file;
}

export function markdownTable(headers: string[], rows: Array<Array<string | number>>): string {
  return [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
