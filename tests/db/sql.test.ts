import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import { createTestDatabase, testDatabaseKinds } from '../helpers/databases.js';

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

  it('rejects with the database error (masked by the server as an internal error)', async () => {
    await expect(db.sql.query(Prisma.sql`SELECT * FROM no_such_table`)).rejects.toThrow(/no_such_table/);
  });
});
