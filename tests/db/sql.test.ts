import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import { openDatabase, perCallPlanPoolMax, statisticsPoolMax } from '../../src/db/database.js';
import { loadConfig } from '../../src/config.js';
import { limitLiteral } from '../../src/db/sql.js';
import { createPostgresDatabase, createTestDatabase, testDatabaseKinds } from '../helpers/databases.js';

/** `db.sql` reads on the driver itself: the same rows and types on both databases, and every statement reported. */
describe.each(testDatabaseKinds)('db.sql on %s', (kind) => {
  let db: Database;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(() => db?.close());

  it('binds parameters (dates, uuid arrays, text, numbers) and returns typed rows', async () => {
    const at = new Date('2026-03-08T07:30:00.123Z');
    const ids = ['019f0000-0000-7000-8000-000000000001', '019f0000-0000-7000-8000-000000000002'];
    const [row] = await db.sql.query<Record<string, unknown>>(Prisma.sql`
      SELECT ${at}::timestamptz AS at, ${at}::timestamptz + interval '1 hour' AS later, cardinality(${ids}::uuid[]) AS n,
             (${ids}::uuid[])[2] AS second, ${"it's"}::text AS text, ${41}::int + 1 AS answer, '{"a":[1,{"b":null}]}'::jsonb AS doc,
             'FAILED'::"ExecutionStatus" AS status, ARRAY['READ_GRAPHS','ADMIN']::"ApiKeyPermission"[]::text[] AS permissions,
             2.5::float8 AS ratio, NULL::timestamptz AS never, true AS yes`);
    expect(row).toEqual({
      at,
      later: new Date(at.getTime() + 3_600_000),
      n: 2,
      second: ids[1],
      text: "it's",
      answer: 42,
      doc: { a: [1, { b: null }] },
      status: 'FAILED',
      permissions: ['READ_GRAPHS', 'ADMIN'],
      ratio: 2.5,
      never: null,
      yes: true,
    });
  });

  it('reports every statement to the query listeners, like Prisma statements', async () => {
    const seen: string[] = [];
    const stop = db.onQuery((e) => seen.push(e.query));
    await db.sql.query(Prisma.sql`SELECT 1 AS one`);
    await db.prisma.$queryRaw`SELECT 2 AS two`;
    stop();
    expect(seen.some((q) => q.includes('SELECT 1 AS one'))).toBe(true);
    expect(seen.some((q) => q.includes('SELECT 2 AS two'))).toBe(true);
  });

  it('leaves background statements (the statistics folder) out of the query listeners, answering the same', async () => {
    const seen: string[] = [];
    const stop = db.onQuery((e) => seen.push(e.query));
    const rows = await db.backgroundSql.query(Prisma.sql`SELECT ${3}::int AS three`);
    await db.backgroundSql.query(Prisma.sql`SELECT ${4}::int AS four`, { planPerCall: true, workload: 'statistics' });
    stop();
    expect(rows).toEqual([{ three: 3 }]);
    expect(seen).toEqual([]);
  });

  it('reuses prepared statements across calls, parameters and connections, and after the schema changes', async () => {
    const statement = (n: number) => Prisma.sql`SELECT ${n}::int * 2 AS doubled, ${String(n)}::text AS text`;
    const results = await Promise.all(Array.from({ length: 40 }, (_, n) => db.sql.query<{ doubled: number; text: string }>(statement(n))));
    expect(results.map((rows) => rows[0])).toEqual(Array.from({ length: 40 }, (_, n) => ({ doubled: 2 * n, text: String(n) })));
    expect(await db.sql.query(statement(7), { prepare: false })).toEqual([{ doubled: 14, text: '7' }]);
    // A prepared read of a table keeps working when a migration adds a column to it.
    const read = () => db.sql.query<{ n: number }>(Prisma.sql`SELECT count(*)::int AS n FROM users u WHERE u.email <> ${'nobody'}`);
    for (let i = 0; i < 8; i++) expect(await read()).toEqual([{ n: 0 }]);
    await db.sql.query(Prisma.sql`ALTER TABLE users ADD COLUMN scratch_column int`, { prepare: false });
    try {
      for (let i = 0; i < 8; i++) expect(await read()).toEqual([{ n: 0 }]);
    } finally {
      await db.sql.query(Prisma.sql`ALTER TABLE users DROP COLUMN scratch_column`, { prepare: false });
    }
  });

  it('rejects with the database error (masked by the server as an internal error)', async () => {
    await expect(db.sql.query(Prisma.sql`SELECT * FROM no_such_table`)).rejects.toThrow(/no_such_table/);
  });
});

describe('limitLiteral', () => {
  it('writes whole numbers from 0 to 1000 and refuses anything else', () => {
    expect(limitLiteral(0).text).toBe('0');
    expect(limitLiteral(101).text).toBe('101');
    expect(Prisma.sql`SELECT 1 LIMIT ${limitLiteral(21)}`).toMatchObject({ text: 'SELECT 1 LIMIT 21', values: [] });
    for (const bad of [-1, 1.5, 1001, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => limitLiteral(bad)).toThrow(RangeError);
  });
});

describe.runIf(testDatabaseKinds.includes('postgres'))('prepared statements on PostgreSQL', () => {
  /** Runs `check` on a fresh database opened with prepared statements on, then off. */
  const withAndWithoutPreparedStatements = async (check: (db: Database, preparedStatements: boolean) => Promise<void>) => {
    const created = await createPostgresDatabase();
    try {
      for (const preparedStatements of [true, false]) {
        const db = await openDatabase({ url: created.url, pgliteDataDir: '', poolMax: 1, preparedStatements });
        try {
          await check(db, preparedStatements);
        } finally {
          await db.close();
        }
      }
    } finally {
      await created.drop();
    }
  };

  it('plans statements planPerCall on sessions that force custom plans, named unless DB_PREPARED_STATEMENTS=0', () =>
    withAndWithoutPreparedStatements(async (db, preparedStatements) => {
      const mode = Prisma.sql`SELECT current_setting('plan_cache_mode') AS mode, (SELECT count(*)::int FROM pg_prepared_statements WHERE statement LIKE '%current_setting%') AS named`;
      const [perCall] = await db.sql.query<{ mode: string; named: number }>(mode, { planPerCall: true });
      const [reusable] = await db.sql.query<{ mode: string }>(mode);
      expect(reusable!.mode).toBe('auto');
      expect(perCall, String(preparedStatements)).toEqual(preparedStatements ? { mode: 'force_custom_plan', named: 1 } : { mode: 'auto', named: 0 });
    }));

  it('names statements by default and not with DB_PREPARED_STATEMENTS=0 (prepare: false never)', () =>
    withAndWithoutPreparedStatements(async (db, preparedStatements) => {
      await db.sql.query(Prisma.sql`SELECT ${1}::int AS one`);
      await db.sql.query(Prisma.sql`SELECT ${2}::int AS two`, { prepare: false });
      const [row] = await db.sql.query<{ statements: string[] }>(Prisma.sql`SELECT coalesce(array_agg(statement ORDER BY statement), '{}') AS statements FROM pg_prepared_statements`, { prepare: false });
      expect(row!.statements, String(preparedStatements)).toEqual(preparedStatements ? ['SELECT $1::int AS one'] : []);
    }));
});

describe.runIf(testDatabaseKinds.includes('postgres'))('connection pools on PostgreSQL', () => {
  it('open their minimum at once and keep it while idle (DB_POOL_MIN; the server defaults it to DB_POOL_MAX)', async () => {
    const created = await createPostgresDatabase();
    const db = await openDatabase({ url: created.url, pgliteDataDir: '', poolMax: 4, poolMin: 4 });
    try {
      if (db.kind !== 'postgres') throw new Error('expected PostgreSQL');
      // Opened during openDatabase, before any statement: the main pool's 4 (and the side pools' shares).
      expect(db.pool.totalCount).toBe(4);
      expect(db.pool.idleCount).toBe(4);
      const [row] = await db.sql.query<{ backends: number }>(Prisma.sql`SELECT count(*)::int AS backends FROM pg_stat_activity WHERE datname = current_database()`);
      expect(row?.backends).toBe(4 + perCallPlanPoolMax(4) + statisticsPoolMax(4));
      expect(loadConfig({ DATABASE_URL: created.url, DB_POOL_MAX: '6' }, []).database.poolMin).toBe(6);
    } finally {
      await db.close();
      await created.drop();
    }
  });
});
