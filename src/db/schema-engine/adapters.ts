/**
 * Migration-aware driver-adapter factories for the WebAssembly schema engine: PostgreSQL through
 * `@prisma/adapter-pg`, and PGlite (in-process).
 *
 * The stock adapters need a few fixes before the schema engine can use them:
 * - adapter-pg rejects catalog column types it does not map (`"char"`, reg* types, oidvector, …): they are reported
 *   as text here (node-postgres already returns their text representation);
 * - adapter-pg's `executeScript` splits the script on `;`, which breaks scripts with semicolons in strings or
 *   function bodies: the script is sent as one multi-statement query instead (which PostgreSQL runs atomically);
 * - adapter-pg's own shadow database connects its pool to the main database and then drops the shadow database
 *   while the pool still holds connections: we create, connect to and drop (`WITH (FORCE)`) it ourselves;
 * - pglite-prisma-adapter's `executeScript` does not await the script, so a failing migration would be recorded
 *   as applied: ours awaits `PGlite.exec` and reports the database error.
 *
 * Every driver error is remembered (`tracker.lastError`) because the engine itself only reports JavaScript errors
 * as "External error id#N".
 */
import type { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';

export type BoundAdapterFactory = ReturnType<typeof bindMigrationAwareSqlAdapterFactory>;

/** Remembers the driver errors seen by the adapters of one engine instance. */
export class ErrorTracker {
  lastError: unknown;
  record(error: unknown) {
    this.lastError = error;
  }
  /** Clears and returns the last error. */
  take(): unknown {
    const error = this.lastError;
    this.lastError = undefined;
    return error;
  }
}

export interface MigrationAdapterFactory {
  /** The factory to give to `SchemaEngine.new` (already passed through `bindMigrationAwareSqlAdapterFactory`). */
  factory: BoundAdapterFactory;
  tracker: ErrorTracker;
  /** Frees what the factory still holds (pools of adapters the engine did not dispose). */
  close(): Promise<void>;
}

/** Describes a driver error (a PostgreSQL error or a DriverAdapterError payload) as one line. */
export function describeDriverError(error: unknown): string {
  if (error instanceof DriverAdapterError || (error instanceof Error && error.name === 'DriverAdapterError')) {
    const cause = (error as Error & { cause?: Record<string, unknown> }).cause ?? {};
    const message =
      (typeof cause.originalMessage === 'string' && cause.originalMessage) ||
      (typeof cause.message === 'string' && cause.message) ||
      (typeof cause.cause === 'string' && cause.cause) ||
      error.message;
    const code = (typeof cause.originalCode === 'string' && cause.originalCode) || (typeof cause.code === 'string' && cause.code);
    const detail = typeof cause.detail === 'string' && cause.detail ? `\nDETAIL: ${cause.detail}` : '';
    const hint = typeof cause.hint === 'string' && cause.hint ? `\nHINT: ${cause.hint}` : '';
    return `${code ? `${code}: ` : ''}${message}${detail}${hint}`;
  }
  if (error instanceof Error) {
    const e = error as Error & { code?: unknown; detail?: unknown; hint?: unknown };
    const code = typeof e.code === 'string' ? `${e.code}: ` : '';
    const detail = typeof e.detail === 'string' && e.detail ? `\nDETAIL: ${e.detail}` : '';
    const hint = typeof e.hint === 'string' && e.hint ? `\nHINT: ${e.hint}` : '';
    return `${code}${e.message}${detail}${hint}`;
  }
  return String(error);
}

/** Converts a PostgreSQL error (pg or PGlite) into the DriverAdapterError the engine understands. */
function toDriverAdapterError(error: unknown): unknown {
  if (error instanceof DriverAdapterError) return error;
  const e = error as { code?: unknown; message?: unknown; severity?: unknown; detail?: unknown; column?: unknown; hint?: unknown };
  if (error instanceof Error && typeof e.code === 'string' && typeof e.severity === 'string') {
    return new DriverAdapterError({
      kind: 'postgres',
      code: e.code,
      severity: e.severity,
      message: error.message,
      detail: typeof e.detail === 'string' ? e.detail : undefined,
      column: typeof e.column === 'string' ? e.column : undefined,
      hint: typeof e.hint === 'string' ? e.hint : undefined,
    });
  }
  return error;
}

type AnyFn = (...args: unknown[]) => Promise<unknown>;
type Patchable = Record<string, unknown>;

/** Wraps the async methods of an adapter or transaction so that every error is recorded. */
function track<T extends object>(target: T, tracker: ErrorTracker, methods: string[]): T {
  const object = target as unknown as Patchable;
  for (const name of methods) {
    const original = object[name];
    if (typeof original !== 'function') continue;
    object[name] = async (...args: unknown[]) => {
      try {
        return await (original as AnyFn).apply(target, args);
      } catch (error) {
        tracker.record(error);
        throw error;
      }
    };
  }
  return target;
}

const QUERYABLE_METHODS = ['queryRaw', 'executeRaw'];
const TRANSACTION_METHODS = [...QUERYABLE_METHODS, 'commit', 'rollback', 'createSavepoint', 'rollbackToSavepoint', 'releaseSavepoint'];

function trackAdapter(adapter: SqlDriverAdapter, tracker: ErrorTracker, patchTx?: (tx: object) => void): SqlDriverAdapter {
  const object = adapter as unknown as Patchable;
  const startTransaction = object.startTransaction as AnyFn;
  object.startTransaction = async (...args: unknown[]) => {
    const tx = (await startTransaction.apply(adapter, args)) as object;
    patchTx?.(tx);
    return track(tx, tracker, TRANSACTION_METHODS);
  };
  return track(adapter, tracker, [...QUERYABLE_METHODS, 'executeScript', 'dispose']);
}

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL

/** Type OIDs adapter-pg maps to a column type (see its `fieldToColumnType`); anything else below 10000 is rejected. */
const PG_MAPPED_OIDS = new Set([
  // scalars
  16, 17, 19, 20, 21, 23, 25, 26, 114, 142, 650, 700, 701, 790, 869, 1042, 1043, 1082, 1083, 1114, 1184, 1266, 1560,
  1562, 1700, 2950, 3802,
  // arrays
  143, 199, 651, 791, 1000, 1001, 1002, 1005, 1007, 1009, 1014, 1015, 1016, 1021, 1022, 1028, 1041, 1115, 1182, 1183,
  1185, 1231, 1561, 1563, 2951, 3807,
]);
const FIRST_NORMAL_OBJECT_ID = 16384;
const TEXT_OID = 25;
const TEXT_ARRAY_OID = 1009;

type PgResult = { fields: Array<{ dataTypeID: number }>; rows: unknown[][] };

/** Reports catalog types adapter-pg does not know (`"char"`, regclass, oidvector, name[] …) as text. */
function textifyUnmappedColumns(result: PgResult): PgResult {
  result.fields.forEach((field, i) => {
    if (field.dataTypeID >= FIRST_NORMAL_OBJECT_ID || PG_MAPPED_OIDS.has(field.dataTypeID)) return;
    const isArray = result.rows.some((row) => Array.isArray(row[i]));
    field.dataTypeID = isArray ? TEXT_ARRAY_OID : TEXT_OID;
    if (isArray) {
      for (const row of result.rows) {
        const value = row[i];
        if (Array.isArray(value)) row[i] = value.map((v) => (v === null || v === undefined ? v : String(v)));
      }
    } else {
      for (const row of result.rows) {
        const value = row[i];
        if (value !== null && value !== undefined && typeof value !== 'string') row[i] = String(value);
      }
    }
  });
  return result;
}

/** Patches one adapter-pg queryable (adapter or transaction) instance. */
function patchPgQueryable(queryable: object) {
  const object = queryable as Patchable;
  const performIO = object.performIO as AnyFn | undefined;
  if (typeof performIO !== 'function') throw new Error('@prisma/adapter-pg changed: PgQueryable.performIO is missing');
  object.performIO = async (...args: unknown[]) => textifyUnmappedColumns((await performIO.apply(queryable, args)) as PgResult);
}

function patchPgAdapter(adapter: SqlDriverAdapter, pool: pg.Pool, tracker: ErrorTracker): SqlDriverAdapter {
  patchPgQueryable(adapter);
  // One multi-statement simple query: no naive split on ';', and PostgreSQL applies it atomically.
  (adapter as unknown as Patchable).executeScript = async (script: string) => {
    try {
      await pool.query(script);
    } catch (error) {
      throw toDriverAdapterError(error);
    }
  };
  return trackAdapter(adapter, tracker, patchPgQueryable);
}

export interface PgConnectionOptions {
  url: string;
  /** An existing database to use as shadow database; by default a temporary one is created and dropped. */
  shadowDatabaseUrl?: string;
}

/** Splits a `?schema=` parameter (a Prisma convention that node-postgres does not know) off a connection string. */
export function parsePgUrl(url: string): { connectionString: string; schema?: string; database: string } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres';
  return { connectionString: parsed.toString(), schema, database };
}

export function pgUrlWithDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function poolConfig(connectionString: string, schema: string | undefined): pg.PoolConfig {
  return {
    connectionString,
    max: 4,
    connectionTimeoutMillis: 10_000,
    ...(schema ? { options: `-c search_path=${quoteIdent(schema)}` } : {}),
  };
}

/**
 * CREATE DATABASE of the database `url` names, sent from the server's maintenance database (`template1` when that
 * database is `postgres` itself): what `prisma migrate deploy` does for a database that does not exist yet.
 */
export async function createPostgresDatabase(url: string): Promise<void> {
  const { connectionString, database } = parsePgUrl(url);
  const maintenance = pgUrlWithDatabase(connectionString, database === 'postgres' ? 'template1' : 'postgres');
  const client = new pg.Client({ connectionString: maintenance, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${quoteIdent(database)}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A connection to the main database, then DROP ... WITH (FORCE) of the given database. */
async function dropDatabase(mainConnectionString: string, database: string) {
  const client = new pg.Client({ connectionString: mainConnectionString });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export function createPgAdapterFactory(options: PgConnectionOptions): MigrationAdapterFactory {
  const tracker = new ErrorTracker();
  const main = parsePgUrl(options.url);
  const pools = new Set<pg.Pool>();
  const shadowCleanups = new Set<() => Promise<void>>();

  const openPool = (connectionString: string, schema: string | undefined) => {
    const pool = new pg.Pool(poolConfig(connectionString, schema));
    pool.on('error', (error) => tracker.record(error));
    pools.add(pool);
    return pool;
  };

  const connectTo = async (connectionString: string, schema: string | undefined, release: () => Promise<void>) => {
    const pool = openPool(connectionString, schema);
    const adapter = await new PrismaPg(pool, { schema }).connect();
    const dispose = async () => {
      if (pools.delete(pool)) await pool.end();
      await release();
    };
    (adapter as unknown as Patchable).dispose = dispose;
    return patchPgAdapter(adapter, pool, tracker);
  };

  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: () => connectTo(main.connectionString, main.schema, async () => {}),
    async connectToShadowDb() {
      if (options.shadowDatabaseUrl) {
        const shadow = parsePgUrl(options.shadowDatabaseUrl);
        return connectTo(shadow.connectionString, shadow.schema, async () => {});
      }
      const database = `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID()}`;
      const admin = new pg.Client({ connectionString: main.connectionString });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);
      } catch (error) {
        tracker.record(error);
        throw toDriverAdapterError(error);
      } finally {
        await admin.end();
      }
      let dropped = false;
      const drop = async () => {
        if (dropped) return;
        dropped = true;
        shadowCleanups.delete(drop);
        await dropDatabase(main.connectionString, database);
      };
      shadowCleanups.add(drop);
      return connectTo(pgUrlWithDatabase(main.connectionString, database), main.schema, drop);
    },
  };

  return {
    factory: bindMigrationAwareSqlAdapterFactory(factory),
    tracker,
    async close() {
      const open = [...pools];
      pools.clear();
      await Promise.allSettled(open.map((pool) => pool.end()));
      await Promise.allSettled([...shadowCleanups].map((drop) => drop()));
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// PGlite

function patchPgliteAdapter(adapter: SqlDriverAdapter, pglite: PGlite, tracker: ErrorTracker): SqlDriverAdapter {
  (adapter as unknown as Patchable).executeScript = async (script: string) => {
    try {
      await pglite.exec(script);
    } catch (error) {
      throw toDriverAdapterError(error);
    }
  };
  return trackAdapter(adapter, tracker);
}

/**
 * A factory over an open PGlite instance. The shadow database (only needed by `migrate dev`-like operations) is a
 * fresh in-memory PGlite, closed when disposed.
 */
export function createPgliteAdapterFactory(pglite: PGlite): MigrationAdapterFactory {
  const tracker = new ErrorTracker();
  const shadows = new Set<PGlite>();
  const stock = new PrismaPGlite(pglite);

  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: 'postgres',
    adapterName: stock.adapterName,
    async connect() {
      const adapter = await stock.connect();
      return patchPgliteAdapter(adapter, pglite, tracker);
    },
    async connectToShadowDb() {
      const { PGlite: PGliteClass } = await import('@electric-sql/pglite');
      const shadow = await PGliteClass.create('memory://');
      shadows.add(shadow);
      const adapter = await new PrismaPGlite(shadow).connect();
      (adapter as unknown as Patchable).dispose = async () => {
        if (shadows.delete(shadow)) await shadow.close();
      };
      return patchPgliteAdapter(adapter, shadow, tracker);
    },
  };

  return {
    factory: bindMigrationAwareSqlAdapterFactory(factory),
    tracker,
    async close() {
      const open = [...shadows];
      shadows.clear();
      await Promise.allSettled(open.map((shadow) => shadow.close()));
    },
  };
}
