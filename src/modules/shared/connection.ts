import type { PageInfo } from '../../generated/graphql.js';

/**
 * What a connection resolver returns: one page of rows with their cursors, plus a way to count all rows that
 * is only run when a client selects `totalCount`.
 */
export type Connection<T> = {
  rows: T[];
  cursorOf: (row: T) => string;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  count: () => Promise<number>;
};

/**
 * Rows a page reads: its size, plus one past its end when the query asks for `pageInfo` (the extra row says whether
 * more exist). Without `pageInfo` nobody sees `hasNextPage`, and the extra row costs a nested list a tenth more rows
 * (and a row more per parent of every page under it).
 */
export const pageLimit = (size: number, selection: { probesNextPage: boolean }) => size + (selection.probesNextPage ? 1 : 0);

/** Builds a connection from a page read with `pageLimit(size, …)` rows (an extra row says that more exist). */
export function connectionFromPage<T>(
  fetched: T[],
  size: number,
  hasPrevious: boolean,
  cursorOf: (row: T) => string,
  count: () => Promise<number>,
): Connection<T> {
  return { rows: fetched.slice(0, size), cursorOf, count, hasNextPage: fetched.length > size, hasPreviousPage: hasPrevious };
}

/** Cursors are encoded only when asked for (a nested list's pageInfo often is not). */
function pageInfoOf<T>(c: Connection<T>): PageInfo {
  const first = c.rows[0];
  const last = c.rows[c.rows.length - 1];
  return {
    hasNextPage: c.hasNextPage,
    hasPreviousPage: c.hasPreviousPage,
    startCursor: first ? c.cursorOf(first) : null,
    endCursor: last ? c.cursorOf(last) : null,
  };
}

export const emptyConnection = <T>(): Connection<T> => connectionFromPage<T>([], 0, false, () => '', async () => 0);

/**
 * For lists nested under a user (User.graphs, …) whose filter names a user too: naming someone else is
 * FORBIDDEN for non-admins (through `ownerScope`); for admins the two conditions match nothing.
 */
export function conflictingOwnerFilter(parentUserId: string | undefined, filterUserId: string | null | undefined): boolean {
  return Boolean(parentUserId) && filterUserId != null && filterUserId !== parentUserId;
}

/** Field resolvers shared by every connection type. */
export const connectionResolvers = {
  edges: <T>(c: Connection<T>) => c.rows.map((row) => ({ cursor: c.cursorOf(row), node: row })),
  nodes: <T>(c: Connection<T>) => c.rows,
  pageInfo: <T>(c: Connection<T>) => pageInfoOf(c),
  totalCount: <T>(c: Connection<T>) => c.count(),
};
