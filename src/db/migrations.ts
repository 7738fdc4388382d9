/**
 * Database migrations, in-process: Prisma's WebAssembly schema engine applies `prisma/migrations` with the same
 * `_prisma_migrations` bookkeeping as `prisma migrate deploy`, on PGlite (through an adapter whose scripts are
 * awaited) as well as on PostgreSQL (through @prisma/adapter-pg).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { MigrationList } from '@prisma/schema-engine-wasm';
import { runtimeAsset } from '../config.js';
import type { Database } from './database.js';
import { createPgAdapterFactory, createPgliteAdapterFactory, type MigrationAdapterFactory } from './schema-engine/adapters.js';
import { openSchemaEngine, SchemaEngineError, type EngineHandle } from './schema-engine/engine.js';

export const defaultMigrationsDir = runtimeAsset('prisma/migrations');

export interface MigrationOptions {
  /** Defaults to prisma/migrations. */
  migrationsDir?: string;
}

export interface MigrationStatus {
  /** Migrations recorded as applied (finished, not rolled back), in the order they were applied. */
  applied: string[];
  /** Migrations of the migrations directory not applied yet (failed ones excluded). */
  pending: string[];
  /** Migrations whose last attempt failed and was not rolled back (`prisma migrate resolve` territory). */
  failed: string[];
}

/** A migration failed, or the engine refused to apply migrations. The message carries the database's own error. */
export class MigrationError extends Error {
  readonly code: string | undefined;
  constructor(message: string, options: { code?: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'MigrationError';
    this.code = options.code;
  }
}

/** The names of the migration directories, sorted like Prisma sorts them. */
export function listMigrationNames(migrationsDir = defaultMigrationsDir): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(migrationsDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b));
}

/** The migrations directory in the shape the schema engine expects (what the Prisma CLI reads from disk). */
export function readMigrationsList(migrationsDir = defaultMigrationsDir): MigrationList {
  const baseDir = path.resolve(migrationsDir);
  const lockfilePath = 'migration_lock.toml';
  let lockContent: string | null = null;
  try {
    lockContent = fs.readFileSync(path.join(baseDir, lockfilePath), 'utf8');
  } catch {
    lockContent = null;
  }
  return {
    baseDir,
    lockfile: { path: lockfilePath, content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories: listMigrationNames(baseDir).map((name) => {
      const file = 'migration.sql';
      let content: { tag: 'ok'; value: string } | { tag: 'error'; value: string };
      try {
        content = { tag: 'ok', value: fs.readFileSync(path.join(baseDir, name, file), 'utf8') };
      } catch (error) {
        content = { tag: 'error', value: (error as Error).message };
      }
      return { path: name, migrationFile: { path: file, content } };
    }),
  };
}

function adapterFor(db: Database): MigrationAdapterFactory {
  if (db.kind === 'pglite') return createPgliteAdapterFactory(db.pglite);
  return createPgAdapterFactory({ url: db.url, shadowDatabaseUrl: process.env.SHADOW_DATABASE_URL?.trim() || undefined });
}

/** No tables or enums outside the migrations' reach: the engine may touch all of the schema. */
const noExternalObjects = { externalTables: [], externalEnums: [] };

/** Runs one operation of the schema engine on `db`; its errors become a MigrationError that starts with `failure`. */
async function withSchemaEngine<T>(db: Database, failure: string, operation: (handle: EngineHandle) => Promise<T>): Promise<T> {
  const handle = await openSchemaEngine({ adapter: adapterFor(db) });
  try {
    return await operation(handle);
  } catch (error) {
    if (error instanceof SchemaEngineError) throw new MigrationError(`${failure}: ${error.message}`, { code: error.code, cause: error });
    throw error;
  } finally {
    await handle.close();
  }
}

/**
 * Applies the pending migrations (like `prisma migrate deploy`). Returns the names of the migrations applied now
 * (empty when the database was up to date). A failing migration is recorded as failed in `_prisma_migrations`, its
 * changes rolled back, and a MigrationError naming it and quoting the database error is thrown.
 */
export async function applyMigrations(db: Database, options: MigrationOptions = {}): Promise<{ applied: string[] }> {
  const migrationsList = readMigrationsList(options.migrationsDir);
  return withSchemaEngine(db, 'Applying migrations failed', async (handle) => {
    const result = await handle.call('applyMigrations', { migrationsList, filters: noExternalObjects });
    return { applied: result.appliedMigrationNames };
  });
}

/**
 * Empties the database as `prisma migrate reset` does before it applies the migrations again: the schema engine's
 * reset, which on PostgreSQL drops the schema the migrations own (`public`, or the URL's `?schema=`) with everything in
 * it, `_prisma_migrations` included, and creates it again empty.
 */
export async function resetDatabase(db: Database): Promise<void> {
  await withSchemaEngine(db, 'Resetting the database failed', (handle) => handle.call('reset', { filter: noExternalObjects }));
}

interface MigrationRow {
  migration_name: string;
  finished: boolean;
  rolled_back: boolean;
}

async function query<T>(db: Database, sql: string): Promise<T[]> {
  if (db.kind === 'pglite') return (await db.pglite.query<T>(sql)).rows;
  return (await db.pool.query(sql)).rows as T[];
}

/**
 * Compares `_prisma_migrations` with the migrations directory, without the schema engine (cheap enough for boot).
 */
export async function migrationStatus(db: Database, options: MigrationOptions = {}): Promise<MigrationStatus> {
  const local = listMigrationNames(options.migrationsDir);
  const [table] = await query<{ exists: boolean }>(db, `select to_regclass('_prisma_migrations') is not null as "exists"`);
  const rows = table?.exists
    ? await query<MigrationRow>(
        db,
        `select migration_name, finished_at is not null as finished, rolled_back_at is not null as rolled_back
           from _prisma_migrations order by started_at, migration_name`,
      )
    : [];
  const applied: string[] = [];
  const appliedSet = new Set<string>();
  for (const row of rows) {
    if (row.finished && !row.rolled_back && !appliedSet.has(row.migration_name)) {
      appliedSet.add(row.migration_name);
      applied.push(row.migration_name);
    }
  }
  const failedSet = new Set<string>();
  for (const row of rows) {
    if (!row.finished && !row.rolled_back && !appliedSet.has(row.migration_name)) failedSet.add(row.migration_name);
  }
  return {
    applied,
    pending: local.filter((name) => !appliedSet.has(name) && !failedSet.has(name)),
    failed: [...failedSet],
  };
}

/** Throws when the database has failed or pending migrations, with a message that says what to run. */
export async function assertMigrationsApplied(db: Database, options: MigrationOptions = {}): Promise<MigrationStatus> {
  const status = await migrationStatus(db, options);
  if (status.failed.length > 0) {
    throw new MigrationError(
      `The database has failed migrations: ${status.failed.join(', ')}. Fix the cause, then mark them with ` +
        `\`npm run prisma -- migrate resolve --rolled-back <name>\` and run \`npm run db:migrate\`.`,
      {},
    );
  }
  if (status.pending.length > 0) {
    throw new MigrationError(
      `The database is behind: ${status.pending.length} migration(s) not applied (${status.pending.join(', ')}). ` +
        'Run `npm run db:migrate` (or start the server with --migrate / MIGRATE_ON_START=1).',
      {},
    );
  }
  return status;
}
