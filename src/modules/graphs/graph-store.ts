import { Prisma, type Graph, type Link, type Node } from '../../generated/prisma/client.js';
import { limitLiteral, type SqlRunner } from '../../db/sql.js';
import type { GraphFilter, GraphOrderField, OrderDirection } from '../../generated/graphql.js';
import { pageLimit } from '../shared/connection.js';
import { decodeCursor, encodeCursor } from '../shared/pagination.js';
import { alignById, groupAligned, groupBy } from '../shared/by-id.js';
import { containsPattern } from '../shared/input.js';
import { memoizeByObject } from '../shared/memo.js';
import { GRAPH_TABLE, LINK_TABLE, NODE_TABLE } from './columns.js';

export type GraphKey = { id: string; version: number };
export const graphKeyString = (key: GraphKey) => `${key.id}:${key.version}`;

type SortField = 'createdAt' | 'updatedAt' | 'name';
const SORT_FIELDS: Record<GraphOrderField, SortField> = { CREATED_AT: 'createdAt', UPDATED_AT: 'updatedAt', NAME: 'name' };

export type GraphListQuery = {
  /** null: every owner (admins only; the caller decides). */
  ownerId: string | null;
  filter?: GraphFilter | null;
  field: GraphOrderField;
  direction: OrderDirection;
  after?: string | null;
  size: number;
  /** Whether to read a row past the page's end (`pageLimit`): only `pageInfo` needs it. */
  probesNextPage: boolean;
  /** The model fields read (`graphListColumns`); absent or null: whole rows. */
  columns?: readonly string[] | null;
};


export function graphCursor(query: Pick<GraphListQuery, 'field' | 'direction'>) {
  const field = SORT_FIELDS[query.field];
  const order = `graphs:${query.field}:${query.direction}`;
  return {
    encode: (graph: Graph) => encodeCursor(order, [graph[field], graph.id, graph.version]),
    decode: (cursor: string) => {
      const [value, id, version] = decodeCursor(cursor, order, [field === 'name' ? 'string' : 'date', 'uuid', 'int'] as const);
      return { value, id, version };
    },
  };
}

/** What a graph list filters on besides its owner; null: either. */
export type GraphListFilter = { isActive: boolean | null; nameContains: string | null; isTemplate: boolean | null };

/**
 * A graph list's arguments other than its owner, with the cursor decoded: the lists of several owners that share
 * them are read together (`graphPagesByOwners`). Decoding here, before any batching, keeps a bad cursor the
 * error of its own field.
 */
export type GraphPageArgs = GraphListFilter & {
  field: GraphOrderField;
  direction: OrderDirection;
  after: { value: string | Date; id: string; version: number } | null;
  /** Rows to fetch (`pageLimit`): the page size, plus one when `pageInfo` asks whether more exist. */
  limit: number;
  /** The model fields read; null: whole rows. */
  columns: readonly string[] | null;
  /** Columns of child pages read along (look-ahead; alias `g` is the graph row), identified by `key`. */
  children?: { key: string; columns: Prisma.Sql[] };
};

/** Extra columns after the graph's own. */
const childColumns = (page: Pick<GraphPageArgs, 'children'>) =>
  page.children?.columns.length ? Prisma.sql`, ${Prisma.join(page.children.columns)}` : Prisma.empty;

export function graphPageArgs(query: GraphListQuery): GraphPageArgs {
  return {
    ...graphListFilter(query),
    field: query.field,
    direction: query.direction,
    after: query.after ? graphCursor(query).decode(query.after) : null,
    limit: pageLimit(query.size, query),
    columns: query.columns ?? null,
  };
}

export const graphListFilter = (query: Pick<GraphListQuery, 'filter'>): GraphListFilter => ({
  // A template list shows every published version unless asked for active or inactive ones.
  isActive: query.filter?.isActive ?? (query.filter?.isTemplate === true ? null : true),
  nameContains: query.filter?.nameContains || null,
  isTemplate: query.filter?.isTemplate ?? null,
});

const SORT_COLUMNS: Record<GraphOrderField, string> = { CREATED_AT: 'created_at', UPDATED_AT: 'updated_at', NAME: 'name' };

/** A list's conditions other than the owner (alias `g`). */
function filterConditions(filter: GraphListFilter): Prisma.Sql {
  const conditions = [filter.isActive === null ? Prisma.sql`true` : Prisma.sql`g.is_active = ${filter.isActive}`];
  if (filter.isTemplate !== null) conditions.push(Prisma.sql`g.is_template = ${filter.isTemplate}`);
  if (filter.nameContains) conditions.push(Prisma.sql`g.name ILIKE ${containsPattern(filter.nameContains)}`);
  return Prisma.join(conditions, ' AND ');
}

/**
 * One page of graphs per owner in one statement, in the order and with the keyset of `listGraphs` (the sort
 * field, then id and version, all in the list's direction): a LATERAL subquery per owner, which for CREATED_AT
 * walks the (user_id, is_active, created_at, id) index.
 */
/** The keyset condition "strictly after the cursor row" and the ORDER BY of a page (alias `g`). */
function pageOrder(page: GraphPageArgs): { after: Prisma.Sql; orderBy: Prisma.Sql } {
  const column = SORT_COLUMNS[page.field];
  const dir = page.direction === 'ASC' ? 'ASC' : 'DESC';
  let after = Prisma.sql`true`;
  if (page.after) {
    const value = page.field === 'NAME' ? Prisma.sql`${page.after.value}::text` : Prisma.sql`${page.after.value}::timestamptz`;
    // Field beyond, or equal and id beyond, or both equal and version beyond: one row comparison.
    after = Prisma.sql`(g.${Prisma.raw(column)}, g.id, g.version) ${Prisma.raw(dir === 'ASC' ? '>' : '<')} (${value}, ${page.after.id}::uuid, ${page.after.version}::int)`;
  }
  return { after, orderBy: Prisma.raw(`g.${column} ${dir}, g.id ${dir}, g.version ${dir}`) };
}

/** One page of a graph list: one owner's (`ownerId`) or every owner's (null, admins). */
export function listGraphs(sql: SqlRunner, query: GraphListQuery, children?: GraphPageArgs['children']): Promise<Graph[]> {
  const page = { ...graphPageArgs(query), children };
  const { after, orderBy } = pageOrder(page);
  const owner = query.ownerId ? Prisma.sql`g.user_id = ${query.ownerId}::uuid AND` : Prisma.empty;
  return sql.query<Graph>(Prisma.sql`
    SELECT ${graphColumns(page.columns)}${childColumns(page)} FROM graphs g WHERE ${owner} ${filterConditions(page)} AND ${after}
    ORDER BY ${orderBy} LIMIT ${limitLiteral(page.limit)}`);
}

export async function countGraphs(sql: SqlRunner, query: GraphListQuery): Promise<number> {
  const owner = query.ownerId ? Prisma.sql`g.user_id = ${query.ownerId}::uuid AND` : Prisma.empty;
  const [row] = await sql.query<{ count: number }>(Prisma.sql`SELECT count(*)::int AS count FROM graphs g WHERE ${owner} ${filterConditions(graphListFilter(query))}`);
  return row?.count ?? 0;
}

/**
 * One page of graphs per owner in one statement, in the order and with the keyset of `listGraphs`: a LATERAL
 * subquery per owner, which for CREATED_AT walks the (user_id, is_active, created_at, id) index.
 */
export async function graphPagesByOwners(sql: SqlRunner, ownerIds: string[], page: GraphPageArgs): Promise<Map<string, Graph[]>> {
  const { after, orderBy } = pageOrder(page);
  const rows = await sql.query<Graph>(Prisma.sql`
    SELECT x.* FROM unnest(${ownerIds}::uuid[]) AS p(user_id)
    CROSS JOIN LATERAL (
      SELECT ${graphColumns(page.columns)}${childColumns(page)} FROM graphs g
      WHERE g.user_id = p.user_id AND ${filterConditions(page)} AND ${after}
      ORDER BY ${orderBy} LIMIT ${limitLiteral(page.limit)}
    ) x`);
  return groupBy(rows, (row) => row.userId);
}

/** `countGraphs` for several owners at once. */
export async function countGraphsByOwners(sql: SqlRunner, ownerIds: string[], filter: GraphListFilter): Promise<Map<string, number>> {
  const rows = await sql.query<{ userId: string; count: number }>(Prisma.sql`
    SELECT g.user_id AS "userId", count(*)::int AS count FROM graphs g
    WHERE g.user_id = ANY(${ownerIds}::uuid[]) AND ${filterConditions(filter)}
    GROUP BY g.user_id`);
  return new Map(rows.map((row) => [row.userId, row.count]));
}

/**
 * A set of graph versions as a table `(graph_id, graph_version)` with two array parameters, whatever the number
 * of keys: joined on the (graph_id, graph_version) indexes, where an OR of key pairs would not be.
 */
export const graphKeyTable = (keys: readonly GraphKey[]) =>
  Prisma.sql`unnest(${keys.map((k) => k.id)}::uuid[], ${keys.map((k) => k.version)}::int[])`;

const NODE_COLUMNS = NODE_TABLE.select();
const LINK_COLUMNS = LINK_TABLE.select();

const graphColumns = (keys: readonly string[] | null) => GRAPH_TABLE.select(keys ? GRAPH_TABLE.columns.filter((column) => keys.includes(column.key)) : undefined);
const GRAPH_COLUMNS = graphColumns(null);

/** Graph fields answered from other tables or loaders (with the row's key and owner only). */
const GRAPH_RELATION_FIELDS: ReadonlySet<string> = new Set(['__typename', 'owner', 'nodes', 'links', 'versions', 'executions']);
const SCALAR_GRAPH_FIELDS: ReadonlySet<string> = new Set([...GRAPH_TABLE.keys].filter((key) => key !== 'userId'));

/**
 * The columns a graph list reads for the fields asked of its rows: the key, the owner (lists of several owners are
 * grouped by it; `owner` loads it), the list's sort field (its cursors) and the fields asked. Null (whole rows) when
 * that is all of them or a field is not known here. Rows read in part are never handed to the by-key loader.
 */
export const graphListColumns = (rowFields: ReadonlySet<string>, sortField: GraphOrderField): readonly string[] | null => listColumnsBySort(rowFields)[sortField];

// Memoized on the set of fields, which `listSelection` keeps per field of a document.
const listColumnsBySort = memoizeByObject((rowFields: ReadonlySet<string>) => ({
  CREATED_AT: listColumns(rowFields, 'CREATED_AT'),
  UPDATED_AT: listColumns(rowFields, 'UPDATED_AT'),
  NAME: listColumns(rowFields, 'NAME'),
}));

function listColumns(rowFields: ReadonlySet<string>, sortField: GraphOrderField): readonly string[] | null {
  const keys = new Set(['id', 'version', 'userId', SORT_FIELDS[sortField]]);
  for (const field of rowFields) {
    if (SCALAR_GRAPH_FIELDS.has(field)) keys.add(field);
    else if (!GRAPH_RELATION_FIELDS.has(field) && !field.includes('.')) return null;
  }
  return keys.size === GRAPH_TABLE.columns.length ? null : GRAPH_TABLE.columns.map((column) => column.key).filter((key) => keys.has(key));
}

/** Graph versions by exact key, in the order asked (null where absent). */
export async function graphsByKeys(sql: SqlRunner, keys: readonly GraphKey[]): Promise<Array<Graph | null>> {
  const rows = await sql.query<Graph>(Prisma.sql`
    SELECT ${GRAPH_COLUMNS} FROM ${graphKeyTable(keys)} AS p(graph_id, graph_version)
    JOIN graphs g ON g.id = p.graph_id AND g.version = p.graph_version`);
  const byKey = new Map(rows.map((row) => [graphKeyString(row), row]));
  return keys.map((key) => byKey.get(graphKeyString(key)) ?? null);
}

/** The order in which a graph's versions are taken when none is named (alias `g`): the active one, else the newest. */
export const CURRENT_VERSION_FIRST = Prisma.raw('g.is_active DESC, g.version DESC');

/** The version a bare graph id means: the active one, else the newest. */
export async function currentGraphVersions(sql: SqlRunner, ids: readonly string[]): Promise<Array<Graph | null>> {
  // DISTINCT ON in SQL: Prisma's `distinct` would read every version and drop the extra ones in the client.
  const rows = await sql.query<Graph>(Prisma.sql`
    SELECT DISTINCT ON (g.id) ${GRAPH_COLUMNS} FROM graphs g
    WHERE g.id = ANY(${[...ids]}::uuid[])
    ORDER BY g.id, ${CURRENT_VERSION_FIRST}`);
  return alignById(ids, rows);
}

export async function nodesByGraphKeys(sql: SqlRunner, keys: readonly GraphKey[]): Promise<Node[][]> {
  const rows = await sql.query<Node>(Prisma.sql`
    SELECT ${NODE_COLUMNS} FROM ${graphKeyTable(keys)} AS p(graph_id, graph_version)
    JOIN nodes n ON n.graph_id = p.graph_id AND n.graph_version = p.graph_version
    ORDER BY n.id`);
  return groupByGraph(rows, keys);
}

export async function linksByGraphKeys(sql: SqlRunner, keys: readonly GraphKey[]): Promise<Link[][]> {
  const rows = await sql.query<Link>(Prisma.sql`
    SELECT ${LINK_COLUMNS} FROM ${graphKeyTable(keys)} AS p(graph_id, graph_version)
    JOIN links l ON l.graph_id = p.graph_id AND l.graph_version = p.graph_version
    ORDER BY l.id`);
  return groupByGraph(rows, keys);
}

export async function nodesByIds(sql: SqlRunner, ids: readonly string[]): Promise<Array<Node | null>> {
  const rows = await sql.query<Node>(Prisma.sql`SELECT ${NODE_COLUMNS} FROM nodes n WHERE n.id = ANY(${[...ids]}::uuid[])`);
  return alignById(ids, rows);
}

/** The graph version a child row (node, link, run) belongs to, as `graphKeyString` spells it. */
export const graphKeyOfRow = (row: { graphId: string; graphVersion: number }) => graphKeyString({ id: row.graphId, version: row.graphVersion });

const groupByGraph = <T extends { graphId: string; graphVersion: number }>(rows: T[], keys: readonly GraphKey[]): T[][] =>
  groupAligned(rows, keys, graphKeyOfRow, graphKeyString);


/** Graph.versions: one page of versions (newest first) per graph id, in one statement. */
export async function versionsByGraphIds(sql: SqlRunner, ids: string[], page: { beforeVersion: number | null; limit: number }): Promise<Map<string, Graph[]>> {
  const rows = await sql.query<Graph>(Prisma.sql`
    SELECT x.* FROM unnest(${ids}::uuid[]) AS p(id)
    CROSS JOIN LATERAL (
      SELECT ${GRAPH_COLUMNS} FROM graphs g
      WHERE g.id = p.id AND (${page.beforeVersion}::int IS NULL OR g.version < ${page.beforeVersion}::int)
      ORDER BY g.version DESC LIMIT ${limitLiteral(page.limit)}
    ) x`);
  return groupBy(rows, (row) => row.id);
}

export async function countVersionsByGraphIds(sql: SqlRunner, ids: string[]): Promise<Map<string, number>> {
  const rows = await sql.query<{ id: string; count: number }>(Prisma.sql`
    SELECT g.id, count(*)::int AS count FROM graphs g WHERE g.id = ANY(${ids}::uuid[]) GROUP BY g.id`);
  return new Map(rows.map((row) => [row.id, row.count]));
}

