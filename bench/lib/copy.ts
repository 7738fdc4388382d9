/**
 * Bulk loading for the benchmarks: rows streamed with COPY through the seeder's writer (`src/seed/writer.ts`),
 * and the drop-then-rebuild of secondary indexes around a large load.
 */
import type pg from 'pg';
import { copyToPostgres, encodeRow, type Cell, type TableSpec } from '../../src/seed/writer.js';

function* encoded(rows: Iterable<readonly Cell[]>): Generator<string> {
  for (const row of rows) yield encodeRow(row);
}

/**
 * One COPY of `rows` (produced lazily, one cell per column of `table`) on a client of `pool`. `withoutTriggers`
 * turns foreign-key triggers off for the load, so that tables referencing each other can be loaded concurrently.
 */
export async function copyRows(pool: pg.Pool, table: TableSpec, rows: Iterable<readonly Cell[]>, options: { withoutTriggers?: boolean } = {}): Promise<void> {
  const client = await pool.connect();
  try {
    if (options.withoutTriggers) await client.query('SET session_replication_role = replica');
    await copyToPostgres(client, table, encoded(rows));
    if (options.withoutTriggers) await client.query('SET session_replication_role = origin');
  } finally {
    client.release();
  }
}

/**
 * Drops the secondary indexes (all but the primary keys) of `tables` and returns a function that recreates them:
 * rebuilding after a bulk load is much faster than maintaining them row by row.
 */
export async function dropSecondaryIndexes(pool: pg.Pool, tables: string[]): Promise<() => Promise<void>> {
  const { rows: indexes } = await pool.query<{ name: string; def: string }>(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes
      WHERE schemaname = current_schema() AND tablename = ANY($1::text[]) AND indexname NOT LIKE '%\\_pkey'`,
    [tables],
  );
  for (const index of indexes) await pool.query(`DROP INDEX ${index.name}`);
  return async () => {
    for (const index of indexes) await pool.query(index.def);
  };
}
