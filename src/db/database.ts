/**
 * Data access, one style per kind of work:
 * - reads: `db.sql` (raw statements on the driver, written with `Prisma.sql`, columns rendered from the models'
 *   declarations in `src/modules/<domain>/columns.ts`); the hot paths, lists and loaders of every domain;
 * - a write that is one statement: `db.sql` too (a run with its node executions, a status change);
 * - writes that must be atomic over several statements: a Prisma interactive transaction (`prisma.$transaction`,
 *   raw statements through `tx.$queryRaw`), e.g. appending session events;
 * - small administrative rows (users, API keys, a graph's nested create): Prisma's query builder.
 */
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import fs from 'node:fs';
import path from 'node:path';
import type { DatabaseConfig } from '../config.js';
import { PrismaClient } from '../generated/prisma/client.js';
import { acquireEmbeddedLock, EmbeddedDatabaseLockedError, lockPathFor, type EmbeddedLock } from './embedded-lock.js';
import { checkPgliteDataDir, pgliteLockError, pgliteOpenError, postgresOpenError } from './open-errors.js';
import { fastTypes } from './pg-types.js';
import { pgliteSqlRunner, postgresSqlRunner, type SqlRunner } from './sql.js';

export type DatabaseKind = 'postgres' | 'pglite';

/** Called for every SQL statement sent (through Prisma or `sql`); used to log slow queries and to count statements in tests. */
export type QueryListener = (event: { query: string; durationMs: number }) => void;

/**
 * An open database: the Prisma client plus the driver underneath it, for the few places that need raw
 * access (bulk COPY in the seeder, migrations on PGlite, health checks).
 */
export type Database = {
  prisma: PrismaClient;
  /** Raw parameterized statements on the driver itself (reads, and one-statement writes; see sql.ts and above). */
  sql: SqlRunner;
  /**
   * The same, for work no request asked for (the statistics folder every second): not reported to `onQuery`
   * listeners, which observe what requests send (tests count a request's statements).
   */
  backgroundSql: SqlRunner;
  close(): Promise<void>;
  /** Runs `select 1` against the driver; throws when the database cannot be reached. */
  ping(): Promise<void>;
  /** Adds a listener for every statement (Prisma's query events); returns a function that removes it. */
  onQuery(listener: QueryListener): () => void;
} & (
  | { kind: 'postgres'; pool: pg.Pool; url: string }
  /** `lock`: this process's hold on a file-backed data directory (embedded-lock.ts); null for memory://. */
  | { kind: 'pglite'; pglite: PGlite; dataDir: string; lock: EmbeddedLock | null }
);

export type OpenOptions = {
  /** Who opens it, named to a second process that finds the embedded database locked (e.g. `agentgraph server`). */
  purpose?: string;
  /**
   * Runs once the database is this process's (the embedded one locked, its lock passed) and before it is opened,
   * which takes seconds for a new embedded database: the server listens here, to answer probes meanwhile.
   */
  beforeOpen?: (lock: EmbeddedLock | null) => Promise<void>;
};

/**
 * A new data directory is initialized in memory and then written out in one go: PGlite's initdb straight onto the
 * file system is several times slower (thousands of small synced writes), and a crash midway would leave a
 * half-made cluster behind.
 */
async function openPglite(dataDir: string): Promise<PGlite> {
  if (dataDir.startsWith('memory://')) return PGlite.create(dataDir);
  if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) return PGlite.create(dataDir);
  const scratch = await PGlite.create('memory://');
  const initialized = await scratch.dumpDataDir('none');
  await scratch.close();
  fs.mkdirSync(dataDir, { recursive: true });
  return PGlite.create({ dataDir, loadDataDir: initialized });
}

/**
 * Opens a pool's `min` connections at once (pg-pool keeps them while idle but opens them only on demand). Best
 * effort: a database that cannot be reached now is the health check's and the first request's to report.
 */
async function openMinimum(pool: pg.Pool): Promise<void> {
  const opened = await Promise.allSettled(Array.from({ length: pool.options.min ?? 0 }, () => pool.connect()));
  for (const result of opened) if (result.status === 'fulfilled') result.value.release();
}

/** Connections for statements planned per call, besides the `poolMax` of the main pool. */
export const perCallPlanPoolMax = (poolMax: number) => Math.max(1, Math.ceil(poolMax / 2));

/** Connections for statistics, besides the other two pools. */
export const statisticsPoolMax = (poolMax: number) => Math.max(1, Math.ceil(poolMax / 4));

/** The same runner, its statements not reported to query listeners. */
const unobserved = (sql: SqlRunner): SqlRunner => ({ query: (statement, options) => sql.query(statement, { ...options, unobserved: true }) });

export async function openDatabase(config: DatabaseConfig, options: OpenOptions = {}): Promise<Database> {
  const listeners = new Set<QueryListener>();
  const onQuery = (listener: QueryListener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  const notify: QueryListener = (event) => {
    for (const listener of listeners) listener(event);
  };
  const createPrisma = (adapter: SqlDriverAdapterFactory): PrismaClient => {
    const client = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] as const });
    client.$on('query', (e: { query: string; duration: number }) => notify({ query: e.query, durationMs: e.duration }));
    // The rest of the code does not care about the log configuration in the client's type.
    return client as unknown as PrismaClient;
  };

  if (config.url) {
    await options.beforeOpen?.(null);
    const prepared = config.preparedStatements ?? true;
    const statementTimeoutMs = config.statementTimeoutMs ?? 0;
    // Every statement ends: PostgreSQL cancels it at statement_timeout; a server that does not answer at all (hung,
    // or a network that drops packets) is given up a second later, and the connection is discarded by the pool.
    // Waiting for a connection (pool exhausted, or a server that does not accept) is bounded too.
    const bounds = {
      connectionTimeoutMillis: config.connectTimeoutMs ?? 5_000,
      ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs, query_timeout: statementTimeoutMs + 1_000 } : {}),
      idle_in_transaction_session_timeout: 60_000,
    };
    const poolMin = config.poolMin ?? 0;
    const pool = new pg.Pool({ connectionString: config.url, max: config.poolMax, min: poolMin, types: fastTypes, ...bounds });
    // Sessions for statements planned on every call (sql.ts): at most half as many again as the main pool.
    const perCallPlanPool = prepared
      ? new pg.Pool({
          connectionString: config.url,
          max: perCallPlanPoolMax(config.poolMax),
          min: poolMin && perCallPlanPoolMax(poolMin),
          types: fastTypes,
          options: '-c plan_cache_mode=force_custom_plan',
          ...bounds,
        })
      : null;
    // Statistics (long aggregates) on sessions of their own: a burst of them waits for these, not for the main pools.
    // No JIT there: the raw-row edges of a rollup read are estimated at hundreds of thousands of rows (BRIN ranges)
    // and read a few hundred, and compiling for that estimate took 19 of a 27 ms statement (bench/stats, 1M runs).
    const statisticsPool = prepared
      ? new pg.Pool({
          connectionString: config.url,
          max: statisticsPoolMax(config.poolMax),
          min: poolMin && statisticsPoolMax(poolMin),
          types: fastTypes,
          options: '-c plan_cache_mode=force_custom_plan -c jit=off',
          ...bounds,
        })
      : null;
    // An idle client losing its connection (database restart) must not crash the process.
    pool.on('error', () => {});
    perCallPlanPool?.on('error', () => {});
    statisticsPool?.on('error', () => {});
    // One connection before anything else: a database that cannot be reached is reported now, in terms of
    // DATABASE_URL, not by the first statement (and not after the server said it was open).
    try {
      (await pool.connect()).release();
    } catch (error) {
      await Promise.all([pool, perCallPlanPool, statisticsPool].map((p) => p?.end()));
      throw postgresOpenError(error, config.url, bounds.connectionTimeoutMillis);
    }
    await Promise.all([pool, perCallPlanPool, statisticsPool].map((p) => p && openMinimum(p)));
    const prisma = createPrisma(new PrismaPg(pool));
    const postgresSql = postgresSqlRunner({ pool, perCallPlanPool, statisticsPool }, notify, { prepared });
    return {
      kind: 'postgres',
      pool,
      url: config.url,
      prisma,
      sql: postgresSql,
      backgroundSql: unobserved(postgresSql),
      onQuery,
      async ping() {
        await pool.query('select 1');
      },
      async close() {
        await prisma.$disconnect();
        await pool.end();
        await perCallPlanPool?.end();
        await statisticsPool?.end();
      },
    };
  }

  const dataDir = config.pgliteDataDir;
  const inMemory = dataDir.startsWith('memory://');
  if (!inMemory) checkPgliteDataDir(dataDir);
  // One process per data directory: the lock is taken before PGlite reads anything (embedded-lock.ts).
  const lock = inMemory ? null : await acquireEmbeddedLock(dataDir, options.purpose ?? 'agentgraph').catch((error: unknown) => {
    throw error instanceof EmbeddedDatabaseLockedError ? error : pgliteLockError(dataDir, lockPathFor(dataDir), error);
  });
  try {
    await options.beforeOpen?.(lock);
  } catch (error) {
    lock?.release();
    throw error;
  }
  let pglite: PGlite;
  try {
    pglite = await openPglite(dataDir);
  } catch (error) {
    lock?.release();
    throw pgliteOpenError(dataDir, error);
  }
  const prisma = createPrisma(new PrismaPGlite(pglite));
  const pgliteSql = pgliteSqlRunner(pglite, notify);
  return {
    kind: 'pglite',
    pglite,
    dataDir,
    lock,
    prisma,
    sql: pgliteSql,
    backgroundSql: unobserved(pgliteSql),
    onQuery,
    async ping() {
      await pglite.query('select 1');
    },
    async close() {
      try {
        await prisma.$disconnect();
        await pglite.close();
      } finally {
        lock?.release();
      }
    },
  };
}
