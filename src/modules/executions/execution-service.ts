import type { GraphQLContext } from '../../context.js';
import type { GraphExecutionFilter, GraphExecutionOrder, NodeExecutionFilter } from '../../generated/graphql.js';
import type { GraphQLResolveInfo } from 'graphql';
import type { GraphExecution, Node, NodeExecution } from '../../generated/prisma/client.js';
import type { LookAhead } from '../shared/look-ahead.js';
import { badUserInput, notFound } from '../../errors.js';
import { canSeeOwner, ownerScope, requireViewer } from '../auth/guards.js';
import type { Viewer } from '../auth/viewer.js';
import type { GraphKey } from '../graphs/graph-store.js';
import { conflictingOwnerFilter, connectionFromPage, emptyConnection, pageLimit, type Connection } from '../shared/connection.js';
import { isUuid } from '../shared/ids.js';
import { memoizeByObject } from '../shared/memo.js';
import { pageSize } from '../shared/pagination.js';
import { listSelection, requestedRowFields, type ChildField, type ListSelection } from '../shared/selection.js';
import { graphExecutionCursor, nodeExecutionCursor } from './cursors.js';
import { NODE_PAYLOAD_FIELDS, nodeExecutionPageSelection, runPageSelection, type ExecutionScope } from './execution-sql.js';
import { countGraphExecutions, graphExecutionsFromJson, graphRunsPageColumn, listGraphExecutions, type ExecutionPage, type NodeExecutionPage, type NodeForm, type NodeRead } from './execution-store.js';

export type ExecutionListArgs = {
  first?: number | null;
  after?: string | null;
  filter?: GraphExecutionFilter | null;
  orderBy?: GraphExecutionOrder | null;
};

function checkFilter(filter: GraphExecutionFilter | null | undefined): void {
  if (filter?.graphId != null && !isUuid(filter.graphId)) throw badUserInput('`graphId` must be a graph id.', 'filter');
  if (filter?.userId != null && !isUuid(filter.userId)) throw badUserInput('`userId` must be a user id.', 'filter');
  if ((filter?.statuses?.length ?? 0) > 7) throw badUserInput('`statuses` lists at most the 7 statuses.', 'filter');
  for (const range of [filter?.createdAt, filter?.startedAt]) {
    if (range?.from && range.to && range.from > range.to) throw badUserInput('A time range must not end before it starts.', 'filter');
  }
}

/** Resolves the page arguments of an execution list, scoped to what the viewer may see. */
function executionPage(viewer: Viewer, args: ExecutionListArgs, selection: ListSelection, forUserId?: string): { page: ExecutionPage; size: number } {
  checkFilter(args.filter);
  const direction = args.orderBy?.direction ?? 'DESC';
  const size = pageSize(args.first);
  const page: ExecutionPage = {
    userId: ownerScope(viewer, forUserId ?? args.filter?.userId ?? null),
    filter: args.filter ?? null,
    direction,
    after: graphExecutionCursor(direction).decode(args.after),
    limit: pageLimit(size, selection),
    ...runPageSelection(selection.rowFields),
  };
  return { page, size };
}

const scopeOf = (page: ExecutionPage): ExecutionScope => ({ userId: page.userId, filter: page.filter });

/** `selection`: what the query asks of the list (`listSelection`): columns, and JSON payloads, are read only then. */
export async function graphExecutionConnection(ctx: GraphQLContext, args: ExecutionListArgs, selection: ListSelection, forUserId?: string): Promise<Connection<GraphExecution>> {
  const viewer = requireViewer(ctx.viewer);
  if (conflictingOwnerFilter(forUserId, args.filter?.userId)) {
    ownerScope(viewer, args.filter!.userId);
    return emptyConnection();
  }
  const { page, size } = executionPage(viewer, args, selection, forUserId);
  const rows = await listGraphExecutions(ctx.db.sql, page);
  ctx.loaders.executions.runs.primeRuns(rows, page.wholeRow);
  return connectionFromPage(rows, size, Boolean(args.after), graphExecutionCursor(page.direction).encode, () =>
    countGraphExecutions(ctx.db.sql, scopeOf(page)),
  );
}

/** The page a `Graph.executions` field reads (the loaders' key, shared with the look-ahead below). */
function runsOfGraphPage(viewer: Viewer, args: ExecutionListArgs, selection: ListSelection) {
  return executionPage(viewer, { ...args, filter: { ...args.filter, graphId: null, graphVersion: null } }, selection);
}

/**
 * Graph.executions: the runs of one graph version, batched across every graph of the response. Synchronous when the
 * graph list read them along (look-ahead): no promise per graph.
 */
export function executionsOfGraph(ctx: GraphQLContext, graph: GraphKey, args: ExecutionListArgs, info: GraphQLResolveInfo): Connection<GraphExecution> | Promise<Connection<GraphExecution>> {
  const viewer = requireViewer(ctx.viewer);
  if (args.filter?.graphId != null && !isUuid(args.filter.graphId)) throw badUserInput('`graphId` must be a graph id.', 'filter');
  // A filter naming another graph or version is honoured: none of this version's runs match it.
  if ((args.filter?.graphId != null && args.filter.graphId !== graph.id) || (args.filter?.graphVersion != null && args.filter.graphVersion !== graph.version)) {
    return emptyConnection();
  }
  const { pageOfField, runs: loaders } = ctx.loaders.executions;
  const { page, size } = pageOfField(info, () => runsOfGraphPage(viewer, args, listSelection(info)));
  const parent = { id: graph.id, version: graph.version };
  const connection = (rows: GraphExecution[]) =>
    connectionFromPage(rows, size, Boolean(args.after), graphExecutionCursor(page.direction).encode, () =>
      loaders.executionCountByGraph.load({ parent, args: scopeOf(page) }),
    );
  const readAlong = loaders.runsReadAlong(page, parent);
  return readAlong ? connection(readAlong) : loaders.executionsByGraph.load({ parent, args: page }).then(connection);
}

/**
 * Look-ahead for `Graph.executions` under a graph list: each occurrence's page as a JSON column of the list's
 * statement (`graphRunsPageColumn`). Null when there is none, or when the nested field would refuse its arguments
 * (it then reports that itself).
 */
export function graphRunsLookAhead(ctx: GraphQLContext, children: ChildField[]): LookAhead<GraphKey> | null {
  if (children.length === 0 || !ctx.viewer) return null;
  let pages: ExecutionPage[];
  try {
    const viewer = requireViewer(ctx.viewer);
    pages = children.map((child) => runsOfGraphPage(viewer, child.args as ExecutionListArgs, child).page);
  } catch {
    return null;
  }
  const names = pages.map((_, i) => `runs.${i}`);
  return {
    key: JSON.stringify(pages),
    columns: pages.map((page, i) => graphRunsPageColumn(page, names[i]!)),
    prime(graph, row) {
      pages.forEach((page, i) => {
        // Several lists of one request may share a row object (same owner and arguments): the first one primes. The
        // column is emptied rather than deleted, which would turn the row into a slow dictionary-mode object.
        const json = row[names[i]!];
        if (json === undefined) return;
        row[names[i]!] = undefined;
        ctx.loaders.executions.runs.primeRunsReadAlong(page, graph, graphExecutionsFromJson(json, page, graph));
      });
    },
  };
}

/** What a node-execution page reads, from the fields asked of its rows: payloads and columns, and each row's node. */
// Memoized like `runPageSelection`: the set of fields is kept per field of a document.
const nodeRowSelection = memoizeByObject((rowFields: ReadonlySet<string>): Pick<NodeExecutionPage, 'wholeRow' | 'optional' | 'node'> => ({
  ...nodeExecutionPageSelection(rowFields),
  node: rowFields.has('node') ? nodeFormFor(new Set([...rowFields].filter((f) => f.startsWith('node.')).map((f) => f.slice('node.'.length)))) : 'none',
}));

type NodeExecutionListArgs = { first?: number | null; after?: string | null; filter?: NodeExecutionFilter | null };

/** The page a `nodeExecutions` field reads (the loaders' key: the look-ahead in `graphExecutionWithPages` builds the same). */
function nodeExecutionPage(args: NodeExecutionListArgs, selection: ListSelection): { page: NodeExecutionPage; size: number } {
  if (args.filter?.nodeId != null && !isUuid(args.filter.nodeId)) throw badUserInput('`nodeId` must be a node id.', 'filter');
  const size = pageSize(args.first);
  return { page: { filter: args.filter ?? null, after: nodeExecutionCursor.decode(args.after), limit: pageLimit(size, selection), ...nodeRowSelection(selection.rowFields) }, size };
}

/** GraphExecution.nodeExecutions; `rowFields`: the fields asked of the rows (payloads and nodes are read only then). */
export async function nodeExecutionsOfRun(ctx: GraphQLContext, graphExecutionId: string, args: NodeExecutionListArgs, info: GraphQLResolveInfo): Promise<Connection<NodeExecution>> {
  requireViewer(ctx.viewer);
  const { page, size } = ctx.loaders.executions.pageOfField(info, () => nodeExecutionPage(args, listSelection(info)));
  const rows = await ctx.loaders.executions.nodeExecutions.nodeExecutionsByRun.load({ parent: graphExecutionId, args: page });
  return connectionFromPage(rows, size, Boolean(args.after), nodeExecutionCursor.encode, () =>
    ctx.loaders.executions.nodeExecutions.nodeExecutionCountByRun.load({ parent: graphExecutionId, args: page.filter }),
  );
}

/**
 * Query.graphExecution: when the query also asks for the run's node executions, the run and those pages are read
 * in one statement (look-ahead), and the pages are handed to the loaders the nested fields use once the run is
 * known to be visible. Arguments the nested field would refuse are left to it (no look-ahead then). Of the run,
 * what `rowFields` (the fields the query asks of it) needs: whole, with its JSON payloads, when they are asked.
 */
export async function graphExecutionWithPages(ctx: GraphQLContext, id: string, children: ChildField[], rowFields: ReadonlySet<string>): Promise<GraphExecution> {
  const viewer = requireViewer(ctx.viewer);
  let pages: NodeExecutionPage[] = [];
  try {
    pages = children.map((child) => nodeExecutionPage(child.args as NodeExecutionListArgs, child).page);
  } catch {
    pages = [];
  }
  if (pages.length === 0 || !isUuid(id)) return visibleGraphExecution(ctx, id);
  // A page that asks for its rows' run (`graphExecution`) is answered from the by-id loader: read the run whole for it.
  const whole = children.some((child) => child.rowFields.has('graphExecution'));
  const runRead = whole ? WHOLE_RUN : runPageSelection(rowFields);
  const { run, primePages } = await ctx.loaders.executions.runWithNodePages(id, pages, runRead);
  if (!run || run.isDeleted || !canSeeOwner(viewer, run.userId)) throw notFound('Graph execution', id);
  primePages();
  return run;
}

const WHOLE_RUN = { wholeRow: true, optional: [] } as const;

/** A run the viewer may see (their own, or any for ADMIN) and that is not deleted; NOT_FOUND otherwise. */
export async function visibleGraphExecution(ctx: GraphQLContext, id: string) {
  const viewer = requireViewer(ctx.viewer);
  const execution = isUuid(id) ? await ctx.loaders.executions.runs.graphExecutionById.load(id) : null;
  if (!execution || execution.isDeleted || !canSeeOwner(viewer, execution.userId)) throw notFound('Graph execution', id);
  return execution;
}

export async function visibleNodeExecution(ctx: GraphQLContext, id: string) {
  requireViewer(ctx.viewer);
  const nodeExecution = isUuid(id) ? await ctx.loaders.executions.nodeExecutions.nodeExecutionById.load(id) : null;
  if (!nodeExecution) throw notFound('Node execution', id);
  try {
    await visibleGraphExecution(ctx, nodeExecution.graphExecutionId);
  } catch {
    throw notFound('Node execution', id);
  }
  return nodeExecution;
}

/** The fields of a node its key form (NodeForm) holds. */
const KEY_NODE_FIELDS: ReadonlySet<string> = new Set(['id', 'blockId', '__typename']);

/** The least NodeForm that answers a selection of a node's fields. */
function nodeFormFor(fields: ReadonlySet<string>): NodeForm {
  if (NODE_PAYLOAD_FIELDS.some((field) => fields.has(field))) return 'full';
  return [...fields].every((field) => KEY_NODE_FIELDS.has(field)) ? 'key' : 'light';
}

/** `nodeFormFor` of a field's selection, asked once per node execution of a page: memoized on the set of fields. */
const nodeFormOfSelection = memoizeByObject(nodeFormFor);

/**
 * NodeExecution.node: the node read along with the page when there is one that answers what this field asks (a
 * lesser form only for a selection it covers), else by id.
 */
export function nodeOfNodeExecution(ctx: GraphQLContext, nodeId: string, info: GraphQLResolveInfo): NodeRead | Promise<Node> {
  return ctx.loaders.executions.nodeExecutions.nodeRead(nodeId, nodeFormOfSelection(requestedRowFields(info))) ?? ctx.loaders.graphs.nodeById.load(nodeId).then((node) => node!);
}

export const durationMs = (row: { startedAt: Date | null; endedAt: Date | null }) =>
  row.startedAt && row.endedAt ? row.endedAt.getTime() - row.startedAt.getTime() : null;

