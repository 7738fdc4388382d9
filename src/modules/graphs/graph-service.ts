import type { GraphQLContext } from '../../context.js';
import type { GraphFilter, GraphOrder } from '../../generated/graphql.js';
import type { Graph } from '../../generated/prisma/client.js';
import { badUserInput, notFound } from '../../errors.js';
import { canSeeOwner, ownerScope, requireViewer } from '../auth/guards.js';
import { conflictingOwnerFilter, connectionFromPage, emptyConnection, type Connection } from '../shared/connection.js';
import { isUuid } from '../shared/ids.js';
import { checkText } from '../shared/input.js';
import { decodeCursor, encodeCursor, pageSize } from '../shared/pagination.js';
import type { LookAhead } from '../shared/look-ahead.js';
import type { ListSelection } from '../shared/selection.js';
import { countGraphs, graphCursor, graphListColumns, graphListFilter, graphPageArgs, listGraphs, type GraphKey, type GraphListQuery } from './graph-store.js';
import { primeGraphs } from './loaders.js';

export type GraphListArgs = {
  first?: number | null;
  after?: string | null;
  filter?: GraphFilter | null;
  orderBy?: GraphOrder | null;
};

/** The graphs page a viewer may see; `forOwnerId` narrows to one user (User.graphs). */
/**
 * `lookAhead`: child pages the query asks under the listed graphs (their runs), read in the list's statement and
 * handed to the nested fields' loaders.
 */
export async function graphConnection(
  ctx: GraphQLContext,
  args: GraphListArgs,
  selection: ListSelection,
  forOwnerId?: string,
  lookAhead?: LookAhead<GraphKey> | null,
): Promise<Connection<Graph>> {
  const viewer = requireViewer(ctx.viewer);
  if (conflictingOwnerFilter(forOwnerId, args.filter?.ownerId)) {
    ownerScope(viewer, args.filter!.ownerId);
    return emptyConnection();
  }
  const requestedOwner = forOwnerId ?? args.filter?.ownerId ?? null;
  if (requestedOwner !== null && !isUuid(requestedOwner)) throw badUserInput('`ownerId` must be a user id.', 'filter');
  if (args.filter?.nameContains) checkText(args.filter.nameContains, 'filter.nameContains', { max: 200, allowEmpty: true });
  // Templates are listed across owners (or by any one owner) to every key that reads graphs.
  const templates = args.filter?.isTemplate === true;
  const query: GraphListQuery = {
    ownerId: templates ? requestedOwner : ownerScope(viewer, requestedOwner),
    filter: args.filter,
    field: args.orderBy?.field ?? 'CREATED_AT',
    direction: args.orderBy?.direction ?? 'DESC',
    after: args.after,
    size: pageSize(args.first),
    probesNextPage: selection.probesNextPage,
    columns: graphListColumns(selection.rowFields, args.orderBy?.field ?? 'CREATED_AT'),
  };
  const loaders = ctx.loaders.graphs;
  const ownerId = query.ownerId;
  if (ownerId === null) {
    // Every owner's graphs (admins, or templates): one list, nothing to batch it with.
    const fetched = await listGraphs(ctx.db.sql, query, lookAhead ?? undefined);
    primeChildren(fetched, lookAhead);
    if (!query.columns) primeGraphs(loaders, fetched);
    return connectionFromPage(fetched, query.size, Boolean(args.after), graphCursor(query).encode, () => countGraphs(ctx.db.sql, query));
  }
  // One owner's graphs, allowed above: the lists of a request that differ only in their owner (aliases, User.graphs
  // of a list of users) are read in one statement, and so are their counts.
  const fetched = await loaders.graphPageByOwner.load({ parent: ownerId, args: { ...graphPageArgs(query), children: lookAhead ?? undefined } });
  primeChildren(fetched, lookAhead);
  if (!query.columns) primeGraphs(loaders, fetched);
  return connectionFromPage(fetched, query.size, Boolean(args.after), graphCursor(query).encode, () =>
    loaders.graphCountByOwner.load({ parent: ownerId, args: graphListFilter(query) }),
  );
}

function primeChildren(graphs: Graph[], lookAhead: LookAhead<GraphKey> | null | undefined): void {
  if (lookAhead) for (const graph of graphs) lookAhead.prime(graph, graph as unknown as Record<string, unknown>);
}

/**
 * One graph version the viewer may see (and, unless `orTemplate`, write); others' graphs answer NOT_FOUND exactly like
 * missing ones. `orTemplate`: another user's version is readable too when it is a published template.
 */
export async function visibleGraph(ctx: GraphQLContext, id: string, version?: number | null, options: { orTemplate?: boolean } = {}): Promise<Graph> {
  const viewer = requireViewer(ctx.viewer);
  const graph = !isUuid(id)
    ? null
    : version === null || version === undefined
      ? await ctx.loaders.graphs.currentGraphById.load(id)
      : await ctx.loaders.graphs.graphByKey.load({ id, version });
  if (!graph || !(canSeeOwner(viewer, graph.userId) || (options.orTemplate && graph.isTemplate))) throw notFound('Graph', version ? `${id} version ${version}` : id);
  return graph;
}

/** A version published as a template, anyone's; NOT_FOUND when it is missing or not a template. */
export async function visibleTemplate(ctx: GraphQLContext, id: string, version: number): Promise<Graph> {
  requireViewer(ctx.viewer);
  const graph = isUuid(id) && Number.isInteger(version) && version >= 1 ? await ctx.loaders.graphs.graphByKey.load({ id, version }) : null;
  if (!graph?.isTemplate) throw notFound('Template', `${id} version ${version}`);
  return graph;
}

const versionCursor = {
  encode: (graph: Graph) => encodeCursor('graphVersions', [graph.version]),
  decode: (cursor: string | null | undefined) => (cursor ? decodeCursor(cursor, 'graphVersions', ['int'])[0] : null),
};

/** Graph.versions: every version of a graph the viewer already sees, newest first. */
export async function graphVersions(ctx: GraphQLContext, graph: Graph, args: { first?: number | null; after?: string | null }): Promise<Connection<Graph>> {
  requireViewer(ctx.viewer);
  const size = pageSize(args.first);
  const page = { beforeVersion: versionCursor.decode(args.after), limit: size + 1 };
  const rows = await ctx.loaders.graphs.versionsByGraph.load({ parent: graph.id, args: page });
  return connectionFromPage(rows, size, Boolean(args.after), versionCursor.encode, () =>
    ctx.loaders.graphs.versionCountByGraph.load({ parent: graph.id, args: null }),
  );
}
