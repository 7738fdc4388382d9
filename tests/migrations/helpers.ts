import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { projectRoot } from '../../src/config.js';

export const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export function urlFor(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A database name for this suite; `create: false` leaves the creation to the code under test. */
export async function scratchDatabase({ create = true } = {}): Promise<ScratchDatabase> {
  const name = `agentgraph_mig_${randomBytes(5).toString('hex')}`;
  if (create) await admin((client) => client.query(`CREATE DATABASE "${name}"`));
  return {
    name,
    url: urlFor(name),
    drop: () => admin(async (client) => void (await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))),
  };
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  output: string;
  ms: number;
}

/** Runs a command to completion, capturing its output. */
export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? projectRoot,
      env: { ...(options.env ?? process.env), CI: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr, output: stdout + stderr, ms: Date.now() - started }));
  });
}

/**
 * `prisma <args>` as `npm run prisma -- <args>` runs it (scripts/prisma.mjs: the CLI of tools/prisma, installed on
 * first use, with our schema engine), against `databaseUrl`. `cwd`: a copyPrismaProject() directory, whose own
 * prisma.config.ts is used.
 */
export function prisma(args: string[], options: { databaseUrl?: string; cwd?: string } = {}): Promise<RunResult> {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.SHADOW_DATABASE_URL;
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  const config = options.cwd ? ['--config', path.join(options.cwd, 'prisma.config.ts')] : [];
  return run(process.execPath, [path.join(projectRoot, 'scripts', 'prisma.mjs'), ...args, ...config], { cwd: options.cwd, env });
}

/**
 * A copy of prisma/ (schema and migrations) in a temp directory, with a prisma.config.ts of its own; the Prisma CLI's
 * node_modules (tools/prisma) is linked so the config can import `prisma/config`.
 */
export function copyPrismaProject(): { dir: string; schemaPath: string; migrationsDir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-mig-'));
  fs.cpSync(path.join(projectRoot, 'prisma'), path.join(dir, 'prisma'), { recursive: true });
  fs.symlinkSync(path.join(projectRoot, 'tools', 'prisma', 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  fs.writeFileSync(
    path.join(dir, 'prisma.config.ts'),
    `import { defineConfig } from 'prisma/config';
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL },
});
`,
  );
  return {
    dir,
    schemaPath: path.join(dir, 'prisma', 'schema.prisma'),
    migrationsDir: path.join(dir, 'prisma', 'migrations'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Adds a field line right after `model <name> {`. */
export function addFieldToModel(schemaPath: string, model: string, fieldLine: string) {
  const schema = fs.readFileSync(schemaPath, 'utf8');
  const marker = `model ${model} {\n`;
  if (!schema.includes(marker)) throw new Error(`model ${model} not found in ${schemaPath}`);
  fs.writeFileSync(schemaPath, schema.replace(marker, `${marker}  ${fieldLine}\n`));
}

export function migrationNames(migrationsDir: string): string[] {
  return fs
    .readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}
