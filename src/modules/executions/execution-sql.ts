import { Prisma } from '../../generated/prisma/client.js';
import type { ExecutionStatus, GraphExecutionFilter, NodeExecutionFilter } from '../../generated/graphql.js';

/** The JSON payload fields of executions: large, and left out of a read when the query does not ask for them. */
export const PAYLOAD_FIELDS = ['inputs', 'outputs', 'stats'] as const;
/** A node's JSON columns: read along with node-execution pages only when the query asks for them. */
export const NODE_PAYLOAD_FIELDS = ['inputDefault', 'metadata'] as const;

/**
 * Raw reads return rows in the Prisma model's shape, so loaders and resolvers see one type either way. Without
 * payloads, the JSON columns read as placeholders: such rows must never be cached for other fields to reuse.
 */
const payloadColumns = (alias: string, withPayload: boolean) =>
  withPayload ? `${alias}.inputs, ${alias}.outputs, ${alias}.stats` : `'{}'::jsonb AS inputs, NULL::jsonb AS outputs, NULL::jsonb AS stats`;

/**
 * A timestamp column: as timestamptz, or (`epochMs`, for rows read as JSON) as epoch milliseconds, which turn back
 * into Dates without parsing text.
 */
const at = (column: string, as: string, epochMs: boolean) =>
  epochMs ? `round(date_part('epoch', ${column}) * 1000) AS "${as}"` : `${column} AS "${as}"`;

export const graphExecutionColumns = (withPayload = true, epochMs = false) =>
  Prisma.raw(
    `e.id, e.graph_id AS "graphId", e.graph_version AS "graphVersion", e.user_id AS "userId", e.status::text AS status,
     ${payloadColumns('e', withPayload)}, e.cost, e.error_message AS "errorMessage", e.is_deleted AS "isDeleted",
     e.parent_id AS "parentId", ${at('e.created_at', 'createdAt', epochMs)}, ${at('e.updated_at', 'updatedAt', epochMs)},
     ${at('e.started_at', 'startedAt', epochMs)}, ${at('e.ended_at', 'endedAt', epochMs)}`,
  );

export const nodeExecutionColumns = (withPayload = true, epochMs = false) =>
  Prisma.raw(
    `n.id, n.graph_execution_id AS "graphExecutionId", n.node_id AS "nodeId", n.status::text AS status,
     ${payloadColumns('n', withPayload)}, n.cost, n.error_message AS "errorMessage", ${at('n.added_at', 'addedAt', epochMs)},
     ${at('n.queued_at', 'queuedAt', epochMs)}, ${at('n.started_at', 'startedAt', epochMs)}, ${at('n.ended_at', 'endedAt', epochMs)}`,
  );

/**
 * The columns of a page of rows nobody caches (read without payloads): the ones every such row needs (keys, access,
 * cursor, grouping) and, of the rest, only those the selection's fields need. A JSON page then carries a third of
 * the keys of a whole row (question d of the benchmark: 1,000 runs per answer).
 */
type PageColumns = { always: string[]; optional: Record<string, string>; byField: Record<string, string[]> };

const RUN_PAGE_COLUMNS: PageColumns = {
  always: ['e.id', 'e.graph_id AS "graphId"', 'e.graph_version AS "graphVersion"', 'e.user_id AS "userId"', 'e.status::text AS status', 'e.cost', 'e.is_deleted AS "isDeleted"', 'e.created_at AS "createdAt"'],
  optional: { errorMessage: 'e.error_message AS "errorMessage"', parentId: 'e.parent_id AS "parentId"', startedAt: 'e.started_at AS "startedAt"', endedAt: 'e.ended_at AS "endedAt"' },
  byField: { errorMessage: ['errorMessage'], parent: ['parentId'], startedAt: ['startedAt'], endedAt: ['endedAt'], durationMs: ['startedAt', 'endedAt'] },
};

const NODE_EXECUTION_PAGE_COLUMNS: PageColumns = {
  always: ['n.id', 'n.graph_execution_id AS "graphExecutionId"', 'n.node_id AS "nodeId"', 'n.status::text AS status', 'n.cost', 'n.added_at AS "addedAt"'],
  optional: { errorMessage: 'n.error_message AS "errorMessage"', queuedAt: 'n.queued_at AS "queuedAt"', startedAt: 'n.started_at AS "startedAt"', endedAt: 'n.ended_at AS "endedAt"' },
  byField: { errorMessage: ['errorMessage'], queuedAt: ['queuedAt'], startedAt: ['startedAt'], endedAt: ['endedAt'], durationMs: ['startedAt', 'endedAt'] },
};

/** The optional columns the fields asked of a page's rows need, in a fixed order (part of the page's key). */
const optionalColumnsFor = (columns: PageColumns, rowFields: ReadonlySet<string>) =>
  Object.keys(columns.optional).filter((key) => Object.entries(columns.byField).some(([field, keys]) => keys.includes(key) && rowFields.has(field)));

export const runPageOptionalColumns = (rowFields: ReadonlySet<string>) => optionalColumnsFor(RUN_PAGE_COLUMNS, rowFields);
export const nodeExecutionPageOptionalColumns = (rowFields: ReadonlySet<string>) => optionalColumnsFor(NODE_EXECUTION_PAGE_COLUMNS, rowFields);

/** Timestamps as epoch milliseconds for pages read as JSON (`"createdAt"` → the `at` form). */
const asEpochMs = (column: string) => {
  const match = /^(\w+\.\w+_at) AS "(\w+)"$/.exec(column);
  return match ? at(match[1]!, match[2]!, true) : column;
};

function pageColumns(columns: PageColumns, optional: readonly string[], epochMs: boolean): Prisma.Sql {
  const list = [...columns.always, ...optional.map((key) => columns.optional[key]!)];
  return Prisma.raw((epochMs ? list.map(asEpochMs) : list).join(', '));
}

/** A run page's columns: whole rows with payloads, else only what `optional` (runPageOptionalColumns) adds. */
export const runPageColumns = (page: { withPayload: boolean; optional: readonly string[] }, epochMs = false) =>
  page.withPayload ? graphExecutionColumns(true, epochMs) : pageColumns(RUN_PAGE_COLUMNS, page.optional, epochMs);

export const nodeExecutionPageColumns = (page: { withPayload: boolean; optional: readonly string[] }, epochMs = false) =>
  page.withPayload ? nodeExecutionColumns(true, epochMs) : pageColumns(NODE_EXECUTION_PAGE_COLUMNS, page.optional, epochMs);

/** Turns the epoch-millisecond timestamps of a row read as JSON (`epochMs` columns) back into Dates. */
export function datesFromEpochMs<Row>(row: Record<string, unknown>, keys: readonly string[]): Row {
  for (const key of keys) if (typeof row[key] === 'number') row[key] = new Date(row[key]);
  return row as Row;
}

/** Every column of the NodeExecution model, with the trigger-maintained copies: rows loaders cache by id. */
export const nodeExecutionModelColumns = () =>
  Prisma.sql`${nodeExecutionColumns(true)}, n.user_id AS "userId", n.run_created_at AS "runCreatedAt",
     n.run_is_deleted AS "runIsDeleted", n.block_id AS "blockId"`;

/** The keys `graphExecutionColumns` reads, in its order (the GraphExecution model's fields). */
const GRAPH_EXECUTION_KEYS = [
  ['id', 'id'],
  ['graphId', 'graph_id'],
  ['graphVersion', 'graph_version'],
  ['userId', 'user_id'],
  ['status', 'status::text'],
  ['inputs', 'inputs'],
  ['outputs', 'outputs'],
  ['stats', 'stats'],
  ['cost', 'cost'],
  ['errorMessage', 'error_message'],
  ['isDeleted', 'is_deleted'],
  ['parentId', 'parent_id'],
  ['createdAt', 'created_at'],
  ['updatedAt', 'updated_at'],
  ['startedAt', 'started_at'],
  ['endedAt', 'ended_at'],
] as const;

/**
 * A run's columns next to another row's, each named `<prefix><key>`: from the table (`e.graph_id AS "run.graphId"`)
 * or from a CTE that returned `graphExecutionColumns()` (`r."graphId" AS "run.graphId"`). `runFromPrefixed` takes
 * them back out; timestamps stay `Date`s and JSON stays parsed, as in every other raw read.
 */
export const prefixedGraphExecutionColumns = (source: { table: string } | { cte: string }, prefix: string) =>
  Prisma.raw(
    GRAPH_EXECUTION_KEYS.map(([key, column]) =>
      'table' in source ? `${source.table}.${column} AS "${prefix}${key}"` : `${source.cte}."${key}" AS "${prefix}${key}"`,
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
