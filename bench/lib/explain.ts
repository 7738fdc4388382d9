/**
 * Query plans for the benchmarks: EXPLAIN (ANALYZE, BUFFERS) of a statement, including the very statement a
 * store function sends.
 */
import type pg from 'pg';
import type { SqlRunner } from '../../src/db/sql.js';
import { Prisma, type PrismaClient } from '../../src/generated/prisma/client.js';

export type Statement = { text: string; values: readonly unknown[] };

/**
 * Captures the statement a store function sends (through `db.sql.query` or Prisma's `$queryRaw`; the function
 * gets no rows back), to EXPLAIN the very same statement.
 */
export async function capture(run: (client: PrismaClient & SqlRunner) => Promise<unknown>): Promise<Statement> {
  let sql: Prisma.Sql | null = null;
  const fake = {
    $queryRaw: (strings: TemplateStringsArray, ...values: unknown[]) => {
      sql = Prisma.sql(strings, ...values);
      return Promise.resolve([]);
    },
    query: (statement: Prisma.Sql) => {
      sql = statement;
      return Promise.resolve([]);
    },
  } as unknown as PrismaClient & SqlRunner;
  await run(fake);
  if (!sql) throw new Error('the function sent no statement');
  const { text, values } = sql as Prisma.Sql;
  return { text, values };
}

/** The EXPLAIN (ANALYZE, BUFFERS) plan of `statement`, as text. */
export async function explainAnalyze(pool: pg.Pool, statement: Statement): Promise<string> {
  const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, [...statement.values]);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

/** `## EXPLAIN ANALYZE — <label>` sections of a results file, one per plan. */
export function planSections(plans: Record<string, string>): string[] {
  return Object.entries(plans).flatMap(([label, plan]) => [`## EXPLAIN ANALYZE — ${label}`, '', '```', plan, '```', '']);
}
