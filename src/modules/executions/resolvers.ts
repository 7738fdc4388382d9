import { ownGraph } from '../auth/guards.js';
import type { Resolvers } from '../../generated/graphql.js';
import type { Node } from '../../generated/prisma/client.js';
import { connectionResolvers } from '../shared/connection.js';
import { childFields, listSelection, requestedRowFields } from '../shared/selection.js';
import { deleteGraphExecution, executeGraph, updateGraphExecution, updateNodeExecution } from './execution-mutations.js';
import { registerLookAhead } from '../shared/look-ahead.js';
import { resolveLive } from '../../live/live-events.js';
import { subscribeToNodeExecutions, subscribeToRuns } from './execution-live.js';
import {
  durationMs,
  executionsOfGraph,
  graphExecutionConnection,
  graphExecutionWithPages,
  graphRunsLookAhead,
  nodeExecutionsOfRun,
  nodeOfNodeExecution,
  visibleNodeExecution,
} from './execution-service.js';

// A graph list reads the runs it is asked for along with the graphs (shared/look-ahead.ts).
registerLookAhead('Graph', 'executions', graphRunsLookAhead);

export const executionResolvers: Resolvers = {
  Query: {
    graphExecutions: (_root, args, ctx, info) => graphExecutionConnection(ctx, args, listSelection(info)),
    graphExecution: (_root, { id }, ctx, info) => graphExecutionWithPages(ctx, id, childFields(info, 'GraphExecution', 'nodeExecutions'), requestedRowFields(info)),
    nodeExecution: (_root, { id }, ctx) => visibleNodeExecution(ctx, id),
  },
  // Permissions, and what the answer may show, are declared on the schema and checked before the write (field-auth.ts).
  Mutation: {
    executeGraph: (_root, args, ctx) => executeGraph(ctx, args),
    updateGraphExecution: (_root, args, ctx) => updateGraphExecution(ctx, args),
    updateNodeExecution: (_root, args, ctx) => updateNodeExecution(ctx, args),
    deleteGraphExecution: (_root, { id }, ctx) => deleteGraphExecution(ctx, id),
  },
  Subscription: {
    graphExecutionUpdated: { subscribe: (_root, { filter }, ctx) => subscribeToRuns(ctx, filter), resolve: resolveLive },
    nodeExecutionUpdated: { subscribe: (_root, { executionId }, ctx) => subscribeToNodeExecutions(ctx, executionId), resolve: resolveLive },
  },
  // The mutation checked access, and its answer's selection, before writing: load, do not re-check.
  GraphExecutionPayload: {
    graphExecution: (ref, _args, ctx) => ctx.loaders.executions.runs.graphExecutionById.load(ref.graphExecutionId).then((run) => run!),
  },
  NodeExecutionPayload: {
    nodeExecution: (ref, _args, ctx) => ctx.loaders.executions.nodeExecutions.nodeExecutionById.load(ref.nodeExecutionId).then((row) => row!),
  },
  Graph: {
    executions: (graph, args, ctx, info) => executionsOfGraph(ctx, ownGraph(ctx.viewer, graph, 'runs'), args, info),
  },
  User: {
    graphExecutions: (user, args, ctx, info) => graphExecutionConnection(ctx, args, listSelection(info), user.id),
  },
  GraphExecutionConnection: connectionResolvers,
  NodeExecutionConnection: connectionResolvers,
  // A run's graph, user and parent were visible when the run was: runs are their user's, graphs outlive them.
  GraphExecution: {
    graph: (run, _args, ctx) => ctx.loaders.graphs.graphByKey.load({ id: run.graphId, version: run.graphVersion }).then((graph) => graph!),
    user: (run, _args, ctx) => ctx.loaders.users.userById.load(run.userId).then((user) => user!),
    parent: async (run, _args, ctx) => {
      if (!run.parentId) return null;
      const parent = await ctx.loaders.executions.runs.graphExecutionById.load(run.parentId);
      return parent && !parent.isDeleted && parent.userId === run.userId ? parent : null;
    },
    durationMs: (run) => durationMs(run),
    nodeExecutions: (run, args, ctx, info) => nodeExecutionsOfRun(ctx, run.id, args, info),
  },
  NodeExecution: {
    // Read along with the page when the page's query selects `node`; otherwise (a node execution by id) by id.
    node: (nodeExecution, _args, ctx, info) => nodeOfNodeExecution(ctx, nodeExecution.nodeId, info) as Node | Promise<Node>,
    graphExecution: (nodeExecution, _args, ctx) =>
      ctx.loaders.executions.runs.graphExecutionById.load(nodeExecution.graphExecutionId).then((run) => run!),
    durationMs: (nodeExecution) => durationMs(nodeExecution),
  },
};
