/**
 * Database maintenance: `tsx src/cli/db.ts migrate|status|reset [--force]` (npm run db:migrate / db:status / db:reset).
 *
 * In-process on both databases, PostgreSQL (DATABASE_URL) and the embedded PGlite one (PGLITE_DATA_DIR, default
 * .data/pglite), through Prisma's WebAssembly schema engine (src/db/migrations.ts) with the same `_prisma_migrations`
 * bookkeeping as the Prisma CLI's `migrate deploy`, which is not needed here (it is a package of its own, tools/prisma):
 *
 * - `migrate` applies the pending migrations, then syncs the built-in block catalogue (the migrations' data). A
 *   PostgreSQL database that does not exist yet is created first, as `prisma migrate deploy` does.
 * - `status` lists applied, pending and failed migrations; exit 1 unless the database is up to date.
 * - `reset` empties the database, then migrates: on PostgreSQL the schema engine's reset (what `prisma migrate
 *   reset` does: the schema the migrations own, `public` or the URL's `?schema=`, is dropped and created again); on
 *   PGlite the data directory is deleted.
 *
 * `reset` asks for confirmation on a terminal; elsewhere it needs --force.
 */
import fs from 'node:fs';
import readline from 'node:readline/promises';
import { loadConfig, type DatabaseConfig } from '../config.js';
import { redactCredentials } from '../config-reader.js';
import { openDatabase, type Database } from '../db/database.js';
import { acquireEmbeddedLock } from '../db/embedded-lock.js';
import { applyMigrations, listMigrationNames, migrationStatus, resetDatabase } from '../db/migrations.js';
import { DatabaseOpenError } from '../db/open-errors.js';
import { createPostgresDatabase } from '../db/schema-engine/adapters.js';
import { describeSync, syncBuiltInCatalogue } from '../modules/blocks/block-sync.js';
import { commandDatabaseConfig, runIfEntryPoint } from './run-main.js';

const usage = 'Usage: tsx src/cli/db.ts migrate|status|reset [--force]';

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** `PostgreSQL database "app" at db:5432` or `PGlite database at .data/pglite`, for every message. */
function describeTarget(database: DatabaseConfig): string {
  if (!database.url) return `PGlite database at ${database.pgliteDataDir}`;
  try {
    const url = new URL(database.url);
    return `PostgreSQL database "${decodeURIComponent(url.pathname.slice(1)) || 'postgres'}" at ${url.hostname}:${url.port || '5432'}`;
  } catch {
    return `PostgreSQL database ${redactCredentials(database.url)}`;
  }
}

const isMissingDatabase = (error: unknown) => error instanceof DatabaseOpenError && (error.cause as { code?: unknown } | undefined)?.code === '3D000';

/**
 * Opens the database for one command. A PostgreSQL database that does not exist is created when `create` is set
 * (migrate, reset), as the Prisma CLI does; the pools open their connections on demand (a CLI needs one or two).
 */
async function open(database: DatabaseConfig, purpose: string, { create = false } = {}): Promise<Database> {
  const config = commandDatabaseConfig(database);
  try {
    return await openDatabase(config, { purpose });
  } catch (error) {
    if (!create || !config.url || !isMissingDatabase(error)) throw error;
    await createPostgresDatabase(config.url);
    console.log(`Created the ${describeTarget(config)}.`);
    return openDatabase(config, { purpose });
  }
}

async function migrate(database: DatabaseConfig, purpose = 'npm run db:migrate'): Promise<number> {
  const started = Date.now();
  const target = describeTarget(database);
  const db = await open(database, purpose, { create: true });
  try {
    const { applied } = await applyMigrations(db);
    const blocks = await syncBuiltInCatalogue(db.prisma);
    const ms = Date.now() - started;
    if (applied.length === 0) console.log(`No pending migrations to apply: the ${target} is up to date (${listMigrationNames().length} migrations).`);
    else console.log(`Applied ${applied.length} migration(s) to the ${target} in ${ms} ms:\n${applied.map((m) => `  - ${m}`).join('\n')}`);
    console.log(describeSync(blocks));
    return 0;
  } finally {
    await db.close();
  }
}

async function status(database: DatabaseConfig): Promise<number> {
  const db = await open(database, 'npm run db:status');
  try {
    const { applied, pending, failed } = await migrationStatus(db);
    const local = new Set(listMigrationNames());
    // Applied by a newer checkout (or removed from prisma/migrations): `prisma migrate status` reports them too.
    const unknown = applied.filter((name) => !local.has(name));
    console.log(describeTarget(database));
    console.log(`${applied.length} applied, ${pending.length} pending, ${failed.length} failed`);
    for (const name of pending) console.log(`  pending: ${name}`);
    for (const name of failed) console.log(`  failed:  ${name}`);
    for (const name of unknown) console.log(`  applied, not in prisma/migrations: ${name}`);
    if (failed.length > 0) {
      const repair = database.url
        ? 'mark it with `npm run prisma -- migrate resolve --rolled-back <name>`, then `npm run db:migrate`'
        : '`npm run db:reset` (PGlite data is disposable) or repair by hand';
      console.log(`\nA migration failed: fix it, then ${repair}.`);
      return 1;
    }
    if (pending.length > 0) {
      console.log('\nRun `npm run db:migrate` to apply them.');
      return 1;
    }
    if (unknown.length > 0) {
      console.log('\nThe database has migrations this checkout does not: is the checkout older than the database?');
      return 1;
    }
    console.log('Database schema is up to date!');
    return 0;
  } finally {
    await db.close();
  }
}

async function reset(database: DatabaseConfig): Promise<number> {
  const purpose = 'npm run db:reset';
  const target = describeTarget(database);
  if (database.url) {
    const db = await open(database, purpose, { create: true });
    try {
      await resetDatabase(db);
    } finally {
      await db.close();
    }
    console.log(`Emptied the ${target}.`);
  } else {
    const dataDir = database.pgliteDataDir;
    if (!dataDir.startsWith('memory://')) {
      // Never under a running server's feet: the directory is deleted only while its lock is held here.
      const lock = await acquireEmbeddedLock(dataDir, purpose);
      try {
        fs.rmSync(dataDir, { recursive: true, force: true });
      } finally {
        lock.release();
      }
    }
    console.log(`Deleted ${dataDir}.`);
  }
  return migrate(database, purpose);
}

export async function main(argv: string[]): Promise<number> {
  const command = argv.find((arg) => !arg.startsWith('-'));
  const force = argv.includes('--force') || argv.includes('-f');
  const config = loadConfig();

  if (command !== 'migrate' && command !== 'status' && command !== 'reset') {
    console.error(usage);
    return 2;
  }

  if (command === 'reset' && !force) {
    const target = `the ${describeTarget(config.database)}`;
    if (!(await confirm(`Reset ${target}? All its data will be lost.`))) {
      console.error(process.stdin.isTTY ? 'Aborted.' : `Refusing to reset ${target} without --force.`);
      return 1;
    }
  }

  switch (command) {
    case 'migrate':
      return migrate(config.database);
    case 'status':
      return status(config.database);
    case 'reset':
      return reset(config.database);
  }
}

runIfEntryPoint(import.meta.url, main);
