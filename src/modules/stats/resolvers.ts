import { ownGraph } from '../auth/guards.js';
import { childFields } from '../shared/selection.js';
import type { Resolvers } from '../../generated/graphql.js';
import { blocks, executionStatsQuery, graphOfEntry, graphStats, statusSummary, timeSeriesPoints, topGraphs } from './stats-service.js';

// Thin: ExecutionStats fields resolve lazily, each from the request's stats loaders (see stats-service.ts).
export const statsResolvers: Resolvers = {
  Query: {
    executionStats: (_root, args, ctx, info) => executionStatsQuery(ctx, args, childFields(info, 'ExecutionStats', 'timeSeries').length > 0),
  },
  Graph: {
    stats: (graph, args, ctx) => graphStats(ctx, ownGraph(ctx.viewer, graph, 'statistics'), args),
  },
  ExecutionStats: {
    from: (q) => q.scope.from,
    to: (q) => q.scope.to,
    bucket: (q) => q.bucket,
    timezone: (q) => q.timezone,
    percentileRelativeError: (q, _args, ctx) => ctx.loaders.stats.percentileError(q.scope),
    total: async (q, _args, ctx) => (await statusSummary(ctx, q)).total,
    byStatus: async (q, _args, ctx) => (await statusSummary(ctx, q)).byStatus,
    successRate: async (q, _args, ctx) => (await statusSummary(ctx, q)).successRate,
    cost: async (q, _args, ctx) => (await statusSummary(ctx, q)).cost,
    duration: (q, _args, ctx) => ctx.loaders.stats.duration(q.scope, q.summaryFromSeries),
    nodeExecutions: async (q, _args, ctx) => (await ctx.loaders.stats.nodeCounts(q.scope)).total,
    failedNodeExecutions: async (q, _args, ctx) => (await ctx.loaders.stats.nodeCounts(q.scope)).failed,
    timeSeries: (q, _args, ctx) => timeSeriesPoints(ctx, q),
    topGraphs: (q, args, ctx) => topGraphs(ctx, q, args),
    blocks: (q, args, ctx) => blocks(ctx, q, args),
  },
  GraphStatsEntry: {
    graph: (entry, _args, ctx) => graphOfEntry(ctx, entry),
  },
};
