import type { GraphQLContext } from '../../context.js';
import type { SqlRunner } from '../../db/sql.js';
import { badUserInput } from '../../errors.js';
import type { ExecutionStatus, GraphExecutionUpdateFilter, LiveUpdateKind } from '../../generated/graphql.js';
import type { GraphExecution, NodeExecution } from '../../generated/prisma/client.js';
import { liveEvents, subscribeLive } from '../../live/live-events.js';
import type { LiveHub } from '../../live/live-hub.js';
import type { LiveNotice } from '../../live/notifications.js';
import { canSeeOwner, ownerScope, requireViewer } from '../auth/guards.js';
import { isUuid } from '../shared/ids.js';
import { graphExecutionsByIds, nodeExecutionsWithRunsByIds } from './execution-store.js';
import { visibleGraphExecution } from './execution-service.js';

/**
 * Live updates of runs and node executions: the publisher turns notifications into items (the rows read once per
 * notification for every subscriber of this process), the subscribe functions authorize, filter and map them.
 */
type RunItem = { kind: LiveUpdateKind; status: ExecutionStatus | null; row: GraphExecution | null; at: Date };
type NodeItem = { kind: LiveUpdateKind; status: ExecutionStatus | null; row: NodeExecution | null; run: GraphExecution | null; at: Date };

export type GraphExecutionUpdateRef = { kind: LiveUpdateKind; status: ExecutionStatus | null; graphExecution: GraphExecution | null; at: Date };
export type NodeExecutionUpdateRef = { kind: LiveUpdateKind; status: ExecutionStatus | null; nodeExecution: NodeExecution | null; at: Date };

const ALL_RUNS = 'runs:*';
const runsOfUser = (userId: string) => `runs:user:${userId}`;
const nodesOfRun = (runId: string) => `nodes:${runId}`;

const kindOf = (created: boolean): LiveUpdateKind => (created ? 'CREATED' : 'STATUS_CHANGED');

type RunNotice = Extract<LiveNotice, { type: 'run' }>;
type NodeNotice = Extract<LiveNotice, { type: 'node' }>;

/** Publishes run notices: the rows are read (one statement) only when someone here listens to one of them. */
export async function publishRuns(sql: SqlRunner, hub: LiveHub, notices: RunNotice[], at: Date): Promise<void> {
  const wanted = notices.filter((n) => hub.has(ALL_RUNS) || hub.has(runsOfUser(n.userId)));
  if (wanted.length === 0) return;
  const rows = await graphExecutionsByIds(sql, [...new Set(wanted.map((n) => n.id))]);
  const byId = new Map(rows.flatMap((row) => (row ? [[row.id, row] as const] : [])));
  for (const notice of wanted) {
    const item: RunItem = { kind: kindOf(notice.created), status: notice.status as ExecutionStatus, row: byId.get(notice.id) ?? null, at };
    hub.publish(runsOfUser(notice.userId), item);
    hub.publish(ALL_RUNS, item);
  }
}

/** Publishes node-execution notices to the subscribers of their runs. */
export async function publishNodeExecutions(sql: SqlRunner, hub: LiveHub, notices: NodeNotice[], at: Date): Promise<void> {
  const wanted = notices.filter((n) => hub.has(nodesOfRun(n.graphExecutionId)));
  if (wanted.length === 0) return;
  const { nodeExecutions, runs } = await nodeExecutionsWithRunsByIds(sql, [...new Set(wanted.map((n) => n.id))]);
  const byId = new Map(nodeExecutions.flatMap((row) => (row ? [[row.id, row] as const] : [])));
  const runById = new Map(runs.map((run) => [run.id, run]));
  for (const notice of wanted) {
    const row = byId.get(notice.id) ?? null;
    hub.publish(nodesOfRun(notice.graphExecutionId), {
      kind: kindOf(notice.created),
      status: notice.status as ExecutionStatus,
      row,
      run: row ? (runById.get(row.graphExecutionId) ?? null) : null,
      at,
    } satisfies NodeItem);
  }
}

/** The filter's ids and statuses, checked like `graphExecutions`' filter. */
function checkFilter(filter: GraphExecutionUpdateFilter | null | undefined) {
  if ((filter?.statuses?.length ?? 0) > 7) throw badUserInput('`statuses` lists at most the 7 statuses.', 'filter');
  if (filter?.statuses?.length === 0) throw badUserInput('`statuses` lists 1 to 7 statuses (omit it for all).', 'filter');
  for (const field of ['graphId', 'executionId', 'userId'] as const) {
    const id = filter?.[field];
    if (id != null && !isUuid(id)) throw badUserInput(`\`filter.${field}\` is not an id.`, 'filter');
  }
  return { graphId: filter?.graphId ?? null, executionId: filter?.executionId ?? null, statuses: filter?.statuses ? new Set(filter.statuses) : null };
}

/** Subscription.graphExecutionUpdated. */
export async function subscribeToRuns(ctx: GraphQLContext, filter: GraphExecutionUpdateFilter | null | undefined) {
  const viewer = requireViewer(ctx.viewer);
  const wanted = checkFilter(filter);
  const userId = ownerScope(viewer, filter?.userId ?? null);
  // A run named by id must be one the caller may see (NOT_FOUND otherwise, like `graphExecution`).
  if (wanted.executionId) await visibleGraphExecution(ctx, wanted.executionId);
  const queue = subscribeLive<RunItem>(ctx, userId ? runsOfUser(userId) : ALL_RUNS, {
    accepts: (item) =>
      item.kind === 'MISSED' ||
      (item.row !== null &&
        (!wanted.graphId || item.row.graphId === wanted.graphId) &&
        (!wanted.executionId || item.row.id === wanted.executionId) &&
        (!wanted.statuses || wanted.statuses.has(item.status!))),
    missed: (since) => ({ kind: 'MISSED', status: null, row: null, at: since }),
  });
  return liveEvents<RunItem, GraphExecutionUpdateRef>(ctx, queue, (item) => {
    if (item.kind === 'MISSED') return { kind: 'MISSED', status: null, graphExecution: null, at: item.at };
    const row = item.row!;
    // Checked again on the row: the topic is the owner's, but a run may have been deleted since.
    if (row.isDeleted || !canSeeOwner(viewer, row.userId)) return null;
    ctx.loaders.executions.runs.primeWholeRun(row);
    return { kind: item.kind, status: item.status, graphExecution: row, at: item.at };
  });
}

/** Subscription.nodeExecutionUpdated. */
export async function subscribeToNodeExecutions(ctx: GraphQLContext, executionId: string) {
  const viewer = requireViewer(ctx.viewer);
  const run = await visibleGraphExecution(ctx, executionId);
  const queue = subscribeLive<NodeItem>(ctx, nodesOfRun(run.id), {
    missed: (since) => ({ kind: 'MISSED', status: null, row: null, run: null, at: since }),
  });
  return liveEvents<NodeItem, NodeExecutionUpdateRef>(ctx, queue, (item) => {
    if (item.kind === 'MISSED') return { kind: 'MISSED', status: null, nodeExecution: null, at: item.at };
    if (!item.row || !item.run || item.run.isDeleted || !canSeeOwner(viewer, item.run.userId)) return null;
    ctx.loaders.executions.runs.primeWholeRun(item.run);
    ctx.loaders.executions.nodeExecutions.nodeExecutionById.prime(item.row.id, item.row);
    return { kind: item.kind, status: item.status, nodeExecution: item.row, at: item.at };
  });
}
