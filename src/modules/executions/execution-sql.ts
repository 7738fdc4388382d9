import { Prisma } from '../../generated/prisma/client.js';
import { memoizeByObject } from '../shared/memo.js';
import { columnValue, type Column } from '../../db/columns.js';
import { GRAPH_EXECUTION_TABLE, NODE_EXECUTION_TABLE } from './columns.js';
import { NODE_TABLE } from '../graphs/columns.js';
import type { ExecutionStatus, GraphExecutionFilter, NodeExecutionFilter } from '../../generated/graphql.js';

const jsonKeys = (columns: readonly Column[]) => columns.filter((column) => column.kind === 'json').map((column) => column.key);
/** The JSON payload fields of executions: large, and left out of a read when the query does not ask for them. */
export const PAYLOAD_FIELDS: readonly string[] = jsonKeys(GRAPH_EXECUTION_TABLE.columns);
/** A node's JSON columns: read along with node-execution pages only when the query asks for them. */
export const NODE_PAYLOAD_FIELDS: readonly string[] = jsonKeys(NODE_TABLE.columns);

type RenderOptions = { alias: string; wholeRow: boolean; epochMs: boolean };

/**
 * Raw reads return rows in the Prisma model's shape, so loaders and resolvers see one type either way. Without
 * payloads, the JSON columns read as placeholders: such rows must never be cached for other fields to reuse.
 */
const PAYLOAD_PLACEHOLDERS: Record<string, string> = { inputs: `'{}'::jsonb`, outputs: 'NULL::jsonb', stats: 'NULL::jsonb' };

/** A column's value expression. */
function renderValue(column: Column, { alias, wholeRow, epochMs }: RenderOptions): string {
  if (column.kind === 'time' && epochMs) return `round(date_part('epoch', ${alias}.${column.column}) * 1000)`;
  if (column.kind === 'json' && !wholeRow) return PAYLOAD_PLACEHOLDERS[column.key]!;
  return columnValue(column, alias);
}

const renderColumn = (column: Column, options: RenderOptions) => `${renderValue(column, options)} AS "${column.key}"`;

const renderColumns = (columns: readonly Column[], options: RenderOptions) => Prisma.raw(columns.map((column) => renderColumn(column, options)).join(', '));

/** A run's own columns: whole (payloads included), or with placeholders for its payloads. */
export const graphExecutionColumns = (wholeRow = true) => renderColumns(GRAPH_EXECUTION_TABLE.columns, { alias: 'e', wholeRow, epochMs: false });
/** A node execution's own columns (without the trigger-kept copies): whole, or with placeholders for its payloads. */
export const nodeExecutionColumns = (wholeRow = true) => renderColumns(NODE_EXECUTION_TABLE.ownColumns, { alias: 'n', wholeRow, epochMs: false });

/**
 * The columns of a page of rows nobody caches (read without payloads): the ones every such row needs (keys, access,
 * cursor, grouping) and, of the rest, only those the selection's fields need. A JSON page then carries a third of
 * the keys of a whole row (question d of the benchmark: 1,000 runs per answer). A field of the model is its own
 * column; `derived` names the columns of the fields that are not (computed fields, relations); `columnless` the
 * fields that need none. Any other field is unknown here and reads the whole row: a field added to the type is
 * never answered from a column left out.
 */
type PageColumns = {
  columns: readonly Column[];
  alias: string;
  always: ReadonlySet<string>;
  derived: Record<string, readonly string[]>;
  columnless: ReadonlySet<string>;
};

const RUN_PAGE: PageColumns = {
  columns: GRAPH_EXECUTION_TABLE.columns,
  alias: 'e',
  always: new Set(['id', 'graphId', 'graphVersion', 'status', 'cost', 'isDeleted', 'createdAt']),
  derived: { user: ['userId'], parent: ['parentId', 'userId'], durationMs: ['startedAt', 'endedAt'], graph: ['graphId', 'graphVersion'] },
  columnless: new Set(['__typename', 'nodeExecutions']),
};

const NODE_EXECUTION_PAGE: PageColumns = {
  columns: NODE_EXECUTION_TABLE.ownColumns,
  alias: 'n',
  always: new Set(['id', 'graphExecutionId', 'nodeId', 'status', 'cost', 'addedAt']),
  derived: { durationMs: ['startedAt', 'endedAt'], node: ['nodeId'], graphExecution: ['graphExecutionId'] },
  columnless: new Set(['__typename']),
};

type Selection = { wholeRow: boolean; optional: readonly string[] };

/**
 * What a page reads for the fields asked of its rows: whole rows when they ask for a payload or a field this page
 * does not know, else the optional columns they need (in model order: part of the page's key). Subfields of
 * relations (`graph.name`) are the relation's business.
 */
function pageSelection(page: PageColumns, rowFields: ReadonlySet<string>): Readonly<Selection> {
  const needed = new Set<string>();
  for (const field of rowFields) {
    if (PAYLOAD_FIELDS.includes(field)) return { wholeRow: true, optional: [] };
    const dot = field.indexOf('.');
    if (dot >= 0) {
      const relation = field.slice(0, dot);
      if (page.derived[relation] || page.columnless.has(relation)) continue;
      return { wholeRow: true, optional: [] };
    }
    const keys = page.derived[field] ?? (page.columns.some((column) => column.key === field) ? [field] : null);
    if (keys) for (const key of keys) needed.add(key);
    else if (!page.columnless.has(field)) return { wholeRow: true, optional: [] };
  }
  return { wholeRow: false, optional: page.columns.map((column) => column.key).filter((key) => needed.has(key) && !page.always.has(key)) };
}

// Memoized on the set of fields, which `requestedRowFields` keeps per field of a document: worked out once per
// document, not once per request.
export const runPageSelection = memoizeByObject((rowFields: ReadonlySet<string>) => pageSelection(RUN_PAGE, rowFields));
export const nodeExecutionPageSelection = memoizeByObject((rowFields: ReadonlySet<string>) => pageSelection(NODE_EXECUTION_PAGE, rowFields));

/** The columns a page reads: all with payloads, else those every row needs and those `optional` adds. */
const columnsRead = (page: PageColumns, selection: Selection): readonly Column[] =>
  selection.wholeRow ? page.columns : page.columns.filter((column) => page.always.has(column.key) || selection.optional.includes(column.key));

const pageColumns = (page: PageColumns, selection: Selection): Prisma.Sql =>
  renderColumns(columnsRead(page, selection), { alias: page.alias, wholeRow: selection.wholeRow, epochMs: false });

/** A run page's columns: whole rows with payloads, else only what `optional` (runPageSelection) adds. */
export const runPageColumns = (page: Selection) => pageColumns(RUN_PAGE, page);
/** A run read by id for a query: whole (payloads included), else the page columns it asks plus its owner (access). */
export const runReadColumns = (read: Selection) =>
  read.wholeRow ? graphExecutionColumns(true) : runPageColumns({ wholeRow: false, optional: [...read.optional, 'userId'] });
export const nodeExecutionPageColumns = (page: Selection) => pageColumns(NODE_EXECUTION_PAGE, page);

/**
 * A page read as one JSON value, nested in its parent's row: an array with one array per row, holding the row's
 * values in the order of `keys` (timestamps as epoch milliseconds), without the keys the parent gives (`fixed`). Arrays
 * rather than objects: PostgreSQL writes, and the server parses, no key names — the dashboard's runs as
 * `json_build_array` in `ARRAY(…)` cost PostgreSQL about a third less than `json_agg` of row objects.
 */
export type JsonRows = { expressions: readonly string[]; keys: readonly string[]; times: readonly boolean[] };

function jsonRows(page: PageColumns, selection: Selection, fixed: ReadonlySet<string>): JsonRows {
  const columns = columnsRead(page, selection).filter((column) => !fixed.has(column.key));
  const options = { alias: page.alias, wholeRow: selection.wholeRow, epochMs: true };
  return {
    expressions: columns.map((column) => renderValue(column, options)),
    keys: columns.map((column) => column.key),
    times: columns.map((column) => column.kind === 'time'),
  };
}

/** One row of a JSON page: its values, then any `extra` ones (a nested object the decoder takes out itself). */
export const jsonArray = (rows: JsonRows, ...extra: string[]) => Prisma.raw(`json_build_array(${[...rows.expressions, ...extra].join(', ')})`);

/** Rows read with `jsonRows`, in the model's shape: the parent's `fixed` values, then the row's own. */
export function rowsFromJson<Row>(arrays: unknown, shape: Pick<JsonRows, 'keys' | 'times'>, fixed: Readonly<Record<string, unknown>>): Row[] {
  const { keys, times } = shape;
  return (arrays as unknown[][]).map((values) => {
    const row: Record<string, unknown> = { ...fixed };
    for (let i = 0; i < keys.length; i++) {
      const value = values[i];
      row[keys[i]!] = times[i] && typeof value === 'number' ? new Date(value) : value;
    }
    return row as Row;
  });
}

/** The keys a run page under a graph leaves to its parent: the graph version's, and `isDeleted` (pages hold none). */
export const RUN_KEYS_FROM_GRAPH: ReadonlySet<string> = new Set(['graphId', 'graphVersion', 'isDeleted']);
/** The key a node-execution page under a run leaves to its parent. */
const NODE_EXECUTION_KEYS_FROM_RUN: ReadonlySet<string> = new Set(['graphExecutionId']);
// Computed once per page object: the statement and every parent's decoding use the page's shape.
export const nodeExecutionJsonRows = memoizeByObject((page: Selection) => jsonRows(NODE_EXECUTION_PAGE, page, NODE_EXECUTION_KEYS_FROM_RUN));
export const runJsonRows = memoizeByObject((page: Selection) => jsonRows(RUN_PAGE, page, RUN_KEYS_FROM_GRAPH));

/** Every column of the NodeExecution model, with the trigger-kept copies: rows loaders cache by id. */
export const nodeExecutionModelColumns = () => NODE_EXECUTION_TABLE.select();

/**
 * A run's columns next to another row's, each named `<prefix><key>`: from the table (`e.graph_id AS "run.graphId"`)
 * or from a CTE that returned `graphExecutionColumns()` (`r."graphId" AS "run.graphId"`). `runFromPrefixed` takes
 * them back out; timestamps stay `Date`s and JSON stays parsed, as in every other raw read.
 */
export const prefixedGraphExecutionColumns = (source: { table: string } | { cte: string }, prefix: string) =>
  Prisma.raw(
    GRAPH_EXECUTION_TABLE.columns.map((column) =>
      'table' in source ? `${columnValue(column, source.table)} AS "${prefix}${column.key}"` : `${source.cte}."${column.key}" AS "${prefix}${column.key}"`,
    ).join(', '),
  );

/** Splits a row read with `prefixedGraphExecutionColumns` into its own fields and the run (null when absent). */
export function runFromPrefixed<Row, Run>(row: Record<string, unknown>, prefix: string): { rest: Row; run: Run | null } {
  const rest: Record<string, unknown> = {};
  const run: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key.startsWith(prefix)) run[key.slice(prefix.length)] = value;
    else rest[key] = value;
  }
  return { rest: rest as Row, run: run.id == null ? null : (run as Run) };
}

export type ExecutionScope = {
  /** null: every user's runs (ADMIN). */
  userId: string | null;
  filter?: GraphExecutionFilter | null;
};

const statusList = (statuses: readonly ExecutionStatus[]) =>
  Prisma.sql`(${Prisma.join(statuses.map((s) => Prisma.sql`${s}::"ExecutionStatus"`))})`;

/** WHERE conditions of a graph-execution list (alias `e`); never includes deleted runs. */
export function graphExecutionConditions(scope: ExecutionScope): Prisma.Sql[] {
  const { filter } = scope;
  const conditions = [Prisma.sql`e.is_deleted = false`];
  if (scope.userId) conditions.push(Prisma.sql`e.user_id = ${scope.userId}::uuid`);
  if (filter?.graphId) conditions.push(Prisma.sql`e.graph_id = ${filter.graphId}::uuid`);
  if (filter?.graphVersion !== null && filter?.graphVersion !== undefined) conditions.push(Prisma.sql`e.graph_version = ${filter.graphVersion}`);
  if (filter?.statuses?.length) conditions.push(Prisma.sql`e.status IN ${statusList(filter.statuses)}`);
  if (filter?.createdAt?.from) conditions.push(Prisma.sql`e.created_at >= ${filter.createdAt.from}`);
  if (filter?.createdAt?.to) conditions.push(Prisma.sql`e.created_at < ${filter.createdAt.to}`);
  if (filter?.startedAt?.from) conditions.push(Prisma.sql`e.started_at >= ${filter.startedAt.from}`);
  if (filter?.startedAt?.to) conditions.push(Prisma.sql`e.started_at < ${filter.startedAt.to}`);
  return conditions;
}

export function nodeExecutionConditions(filter?: NodeExecutionFilter | null): Prisma.Sql[] {
  const conditions: Prisma.Sql[] = [];
  if (filter?.statuses?.length) conditions.push(Prisma.sql`n.status IN ${statusList(filter.statuses)}`);
  if (filter?.nodeId) conditions.push(Prisma.sql`n.node_id = ${filter.nodeId}::uuid`);
  return conditions;
}

export const and = (conditions: Prisma.Sql[]) =>
  conditions.length ? Prisma.join(conditions, ' AND ') : Prisma.sql`true`;

/** Keyset position: rows strictly after (createdAt, id) in the given direction. */
export function afterKeyset(column: string, cursor: { at: Date; id: string } | null, direction: 'ASC' | 'DESC', alias: string): Prisma.Sql[] {
  if (!cursor) return [];
  const op = Prisma.raw(direction === 'ASC' ? '>' : '<');
  return [Prisma.sql`(${Prisma.raw(`${alias}.${column}`)}, ${Prisma.raw(`${alias}.id`)}) ${op} (${cursor.at}, ${cursor.id}::uuid)`];
}

export const orderBy = (column: string, direction: 'ASC' | 'DESC', alias: string) =>
  Prisma.raw(`${alias}.${column} ${direction}, ${alias}.id ${direction}`);
