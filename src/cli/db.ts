/**
 * Database maintenance: `tsx src/cli/db.ts migrate|status|reset [--force]` (npm run db:migrate / db:status / db:reset).
 *
 * - With DATABASE_URL (PostgreSQL): runs the Prisma CLI (`prisma migrate deploy`, `migrate status`,
 *   `migrate reset --force`), with PRISMA_SCHEMA_ENGINE_BINARY pointing at our Wasm engine when the native one is
 *   missing.
 * - Without: the embedded PGlite database (PGLITE_DATA_DIR, default .data/pglite), in-process: `migrate` applies the
 *   pending migrations, `status` lists them, `reset` deletes the data directory and migrates again.
 *
 * `reset` asks for confirmation on a terminal; elsewhere it needs --force.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline/promises';
import { loadConfig, projectRoot } from '../config.js';
import { openDatabase } from '../db/database.js';
import { acquireEmbeddedLock } from '../db/embedded-lock.js';
import { applyMigrations, listMigrationNames, migrationStatus } from '../db/migrations.js';
import { describeSync, syncBuiltInCatalogue } from '../modules/blocks/block-sync.js';
import { prismaBin, prismaCliEnv } from '../db/schema-engine/binary.js';
import { runIfEntryPoint } from './run-main.js';

const usage = 'Usage: tsx src/cli/db.ts migrate|status|reset [--force]';

function runPrisma(args: string[]): Promise<number> {
  // A devDependency: a checkout installed with --omit=dev has no Prisma CLI (the server migrates without it).
  if (!fs.existsSync(prismaBin)) {
    console.error(
      `The Prisma CLI is not installed (${prismaBin}): \`npm install\` with the devDependencies, or let the server apply ` +
        'the migrations (MIGRATE_ON_START=1 or --migrate).',
    );
    return Promise.resolve(1);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(prismaBin, args, { cwd: projectRoot, env: prismaCliEnv(), stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<DATABASE_URL>';
  }
}

async function pgliteMigrate(dataDir: string, purpose = 'npm run db:migrate'): Promise<number> {
  const started = Date.now();
  const db = await openDatabase({ ...loadConfig().database, url: undefined, pgliteDataDir: dataDir }, { purpose });
  try {
    const { applied } = await applyMigrations(db);
    const blocks = await syncBuiltInCatalogue(db.prisma);
    const ms = Date.now() - started;
    if (applied.length === 0) console.log(`PGlite database at ${dataDir} is up to date (${listMigrationNames().length} migrations).`);
    else console.log(`Applied ${applied.length} migration(s) to PGlite at ${dataDir} in ${ms} ms:\n${applied.map((m) => `  - ${m}`).join('\n')}`);
    console.log(describeSync(blocks));
    return 0;
  } finally {
    await db.close();
  }
}

/** After `prisma migrate deploy`: the built-in block catalogue, as the migrations' data. */
async function postgresSyncBlocks(): Promise<number> {
  const db = await openDatabase(loadConfig().database, { purpose: 'npm run db:migrate' });
  try {
    console.log(describeSync(await syncBuiltInCatalogue(db.prisma)));
    return 0;
  } finally {
    await db.close();
  }
}

async function pgliteStatus(dataDir: string): Promise<number> {
  const db = await openDatabase({ ...loadConfig().database, url: undefined, pgliteDataDir: dataDir }, { purpose: 'npm run db:status' });
  try {
    const status = await migrationStatus(db);
    console.log(`PGlite database at ${dataDir}`);
    console.log(`${status.applied.length} applied, ${status.pending.length} pending, ${status.failed.length} failed`);
    for (const name of status.pending) console.log(`  pending: ${name}`);
    for (const name of status.failed) console.log(`  failed:  ${name}`);
    if (status.failed.length > 0) {
      console.log('\nA migration failed: fix it, then `npm run db:reset` (PGlite data is disposable) or repair by hand.');
      return 1;
    }
    if (status.pending.length > 0) {
      console.log('\nRun `npm run db:migrate` to apply them.');
      return 1;
    }
    console.log('Database schema is up to date!');
    return 0;
  } finally {
    await db.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const command = argv.find((arg) => !arg.startsWith('-'));
  const force = argv.includes('--force') || argv.includes('-f');
  const config = loadConfig();
  const url = config.database.url;

  if (command !== 'migrate' && command !== 'status' && command !== 'reset') {
    console.error(usage);
    return 2;
  }

  if (command === 'reset' && !force) {
    const target = url ? `the PostgreSQL database ${redact(url)}` : `the PGlite database at ${config.database.pgliteDataDir}`;
    if (!(await confirm(`Reset ${target}? All its data will be lost.`))) {
      console.error(process.stdin.isTTY ? 'Aborted.' : `Refusing to reset ${target} without --force.`);
      return 1;
    }
  }

  if (url) {
    switch (command) {
      case 'migrate': {
        const code = await runPrisma(['migrate', 'deploy']);
        return code === 0 ? postgresSyncBlocks() : code;
      }
      case 'status':
        return runPrisma(['migrate', 'status']);
      case 'reset':
        return runPrisma(['migrate', 'reset', '--force']);
    }
  }

  const dataDir = config.database.pgliteDataDir;
  switch (command) {
    case 'migrate':
      return pgliteMigrate(dataDir);
    case 'status':
      return pgliteStatus(dataDir);
    case 'reset':
      if (!dataDir.startsWith('memory://')) {
        // Never under a running server's feet: the directory is deleted only while its lock is held here.
        const lock = await acquireEmbeddedLock(dataDir, 'npm run db:reset');
        try {
          fs.rmSync(dataDir, { recursive: true, force: true });
        } finally {
          lock.release();
        }
      }
      console.log(`Deleted ${dataDir}.`);
      return pgliteMigrate(dataDir, 'npm run db:reset');
  }
}

runIfEntryPoint(import.meta.url, main);
