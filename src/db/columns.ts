import { Prisma } from '../generated/prisma/client.js';

/**
 * A model's columns, declared once: every field of its Prisma model with its SQL column and how it is read. The
 * declaration's type is a mapped type over the model, so a field added to `schema.prisma` and missing here (or a
 * misspelt one) fails the type check. Every raw read renders its columns from the declaration (whole rows, pages
 * trimmed to a selection, JSON arrays, prefixed columns, the seeder's COPY), so a new column is one line here.
 */
export type ColumnSpec = {
  /** The column's name in the table. */
  column: string;
  /**
   * `time`: a timestamp (read as epoch milliseconds where rows travel as JSON arrays); `json`: a JSON value, large,
   * read only when asked for; `text`: cast to text when read (enums, uuids read as strings); `texts`: an array of
   * enums, read as an array of strings.
   */
  kind?: 'time' | 'json' | 'text' | 'texts';
  /** Kept by the database (a trigger, the statistics back-fill), never written by the API: part of whole rows only. */
  copied?: true;
};

export type ModelColumns<Model> = { readonly [K in keyof Model]-?: ColumnSpec };

export type Column<Key extends string = string> = ColumnSpec & { readonly key: Key };

export type ModelTable<Model> = {
  readonly table: string;
  readonly alias: string;
  /** Every field, in declaration (model) order. */
  readonly columns: ReadonlyArray<Column<keyof Model & string>>;
  /** The fields the API writes and pages read (no trigger-kept copies). */
  readonly ownColumns: ReadonlyArray<Column<keyof Model & string>>;
  readonly keys: ReadonlySet<string>;
  column(key: keyof Model & string): Column<keyof Model & string>;
  /**
   * `<alias>.<column> AS "<keyPrefix><key>"` for these columns (default: every one), as one SQL fragment. A key
   * prefix tells two models' columns apart in one row (`fromRow` takes them back out).
   */
  select(columns?: ReadonlyArray<Column>, alias?: string, keyPrefix?: string): Prisma.Sql;
  /** The model's fields of a row read with `select(…, keyPrefix)`. */
  fromRow(row: Record<string, unknown>, keyPrefix?: string): Model;
  /** The column names of these fields, in the order given (the seeder's COPY). */
  columnNames(keys: ReadonlyArray<keyof Model & string>): string[];
};

/** A column's value expression, without its name: `e.status::text`. */
export const columnValue = ({ column, kind }: ColumnSpec, alias: string) =>
  `${alias}.${column}${kind === 'text' ? '::text' : kind === 'texts' ? '::text[]' : ''}`;

export function modelTable<Model>(table: string, alias: string, declaration: ModelColumns<Model>): ModelTable<Model> {
  type Key = keyof Model & string;
  const columns = (Object.entries(declaration) as Array<[Key, ColumnSpec]>).map(([key, spec]) => ({ key, ...spec }));
  const byKey = new Map(columns.map((column) => [column.key, column]));
  const own = columns.filter((column) => !column.copied);
  return {
    table,
    alias,
    columns,
    ownColumns: own,
    keys: new Set(byKey.keys()),
    column: (key) => byKey.get(key)!,
    select: (selected = columns, as = alias, keyPrefix = '') =>
      Prisma.raw(selected.map((column) => `${columnValue(column, as)} AS "${keyPrefix}${column.key}"`).join(', ')),
    fromRow: (row, keyPrefix = '') => Object.fromEntries(columns.map(({ key }) => [key, row[keyPrefix + key]])) as Model,
    columnNames: (keys) => keys.map((key) => byKey.get(key)!.column),
  };
}
