/**
 * What a backup records about the database it copies, and what a restore is checked against: the rows of every
 * table, the latest migration applied, the server's version. The same SQL on PostgreSQL and PGlite, through whatever
 * runs a statement there (a pg client inside the snapshot pg_dump reads, or a PGlite instance).
 */

/** Runs one statement and returns its rows. */
export type RunQuery = <Row>(sql: string) => Promise<Row[]>;

/** Rows per table, keyed `schema.table`. */
export type TableCounts = Record<string, number>;

export type DatabaseFacts = {
  tables: TableCounts;
  migration: { latest: string | null; applied: number };
  serverVersion: string;
};

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** `schema.table` → `"schema"."table"`. Table keys come from the catalogue; the first dot separates the schema. */
export function quoteQualified(table: string): string {
  const dot = table.indexOf('.');
  return `${quoteIdent(table.slice(0, dot))}.${quoteIdent(table.slice(dot + 1))}`;
}

export const quoteLiteral = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** Ordinary and partitioned tables outside the system schemas; a partition is counted through its parent. */
const tablesSql = `
  select n.nspname || '.' || c.relname as "table"
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where c.relkind in ('r', 'p') and not c.relispartition
     and n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%'
   order by 1`;

/** Exact row counts of every table, in one statement so that they are of one snapshot. */
export async function countRows(query: RunQuery): Promise<TableCounts> {
  const tables = (await query<{ table: string }>(tablesSql)).map((row) => row.table);
  if (tables.length === 0) return {};
  const columns = tables.map((table, i) => `(select count(*) from ${quoteQualified(table)})::text as c${i}`);
  const [row] = await query<Record<string, string>>(`select ${columns.join(', ')}`);
  return Object.fromEntries(tables.map((table, i) => [table, Number(row![`c${i}`])]));
}

export async function readDatabaseFacts(query: RunQuery): Promise<DatabaseFacts> {
  const tables = await countRows(query);
  const [version] = await query<{ server_version: string }>('show server_version');
  let migration: DatabaseFacts['migration'] = { latest: null, applied: 0 };
  if ('public._prisma_migrations' in tables) {
    const [row] = await query<{ latest: string | null; applied: string }>(
      `select max(migration_name) as latest, count(*)::text as applied
         from _prisma_migrations where finished_at is not null and rolled_back_at is null`,
    );
    migration = { latest: row?.latest ?? null, applied: Number(row?.applied ?? 0) };
  }
  return { tables, migration, serverVersion: version?.server_version ?? 'unknown' };
}

export type CountMismatch = { table: string; expected: number | null; actual: number | null };

/** Tables whose rows differ, including tables only one side has (null on the side that lacks it). */
export function compareCounts(expected: TableCounts, actual: TableCounts): CountMismatch[] {
  const tables = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return tables
    .filter((table) => expected[table] !== actual[table])
    .map((table) => ({ table, expected: expected[table] ?? null, actual: actual[table] ?? null }));
}

export const totalRows = (counts: TableCounts) => Object.values(counts).reduce((sum, rows) => sum + rows, 0);
