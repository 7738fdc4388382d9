/**
 * Statistics policy: who may see which runs, argument validation and bounds. `executionStats` only validates and
 * returns a StatsQuery; each field of ExecutionStats then computes what it needs through the request's stats
 * loaders (fields sharing a computation — total, byStatus, successRate, cost — share one statement).
 */
import type { GraphQLContext } from '../../context.js';
import type { ExecutionStatsFilter, GraphStatsOrder, TimeBucket } from '../../generated/graphql.js';
import type { Graph } from '../../generated/prisma/client.js';
import { badUserInput } from '../../errors.js';
import { ownerScope, requireViewer } from '../auth/guards.js';
import { isUuid } from '../shared/ids.js';
import type { GraphRankRow, GraphStatsRow, StatsScope } from './stats-store.js';
import { bucketCountBound, bucketStarts, isKnownTimeZone } from './time-buckets.js';

export const MAX_RANGE_DAYS = 400;
export const MAX_BUCKETS = 10_000;
export const MAX_LIMIT = 100;
const DAY = 86_400_000;

/**
 * The earliest `filter.from` of `executionStats`: a week after the start of year 1 (a Monday). From there the first
 * bucket — the local hour, day or week holding `from`, in any zone (offsets, local mean time included, stay within
 * ±16 h) — starts in year 1 or later, where PostgreSQL's timestamps and the DateTime scalar are defined; earlier, it
 * can start in year 0 (tests/stats/time-buckets.test.ts checks every zone at this bound).
 */
export const EARLIEST_STATS_FROM = '0001-01-08T00:00:00Z';
const EARLIEST_STATS_FROM_MS = Date.parse(EARLIEST_STATS_FROM);

/** The parent object of every ExecutionStats field: a validated, scoped query. */
export type StatsQuery = {
  scope: StatsScope;
  bucket: TimeBucket;
  timezone: string;
  /** Ascending bucket starts (epoch ms) covering [from, to). */
  starts: number[];
  /**
   * The bucket starts when the time series is selected too: figures over the whole range are then the sum of the
   * series' buckets (one statement for both where they read rollups). Null otherwise.
   */
  summaryFromSeries: number[] | null;
};

function checkRange(from: Date, to: Date, argument: string): void {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw badUserInput('`from` and `to` must be dates.', argument);
  if (to.getTime() <= from.getTime()) throw badUserInput('`to` must be after `from`.', argument);
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY) throw badUserInput(`A statistics range spans at most ${MAX_RANGE_DAYS} days.`, argument);
}

export function checkLimit(value: number | null | undefined, fallback: number, argument: string, min = 1, max = MAX_LIMIT): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw badUserInput(`\`${argument}\` must be between ${min} and ${max}.`, argument);
  return v;
}

export function executionStatsQuery(
  ctx: GraphQLContext,
  args: { filter: ExecutionStatsFilter; bucket?: TimeBucket | null; timezone?: string | null },
  seriesSelected = false,
): StatsQuery {
  const viewer = requireViewer(ctx.viewer);
  const { filter } = args;
  if (filter.userId != null && !isUuid(filter.userId)) throw badUserInput('`userId` must be a user id.', 'filter');
  const userId = ownerScope(viewer, filter.userId ?? null);
  checkRange(filter.from, filter.to, 'filter');
  if (filter.from.getTime() < EARLIEST_STATS_FROM_MS) {
    throw badUserInput(`\`from\` must be on or after ${EARLIEST_STATS_FROM}: an earlier range's first bucket can start before year 1.`, 'filter');
  }
  if (filter.graphId != null && !isUuid(filter.graphId)) throw badUserInput('`graphId` must be a graph id.', 'filter');
  if (filter.graphVersion !== null && filter.graphVersion !== undefined && !filter.graphId) {
    throw badUserInput('`graphVersion` needs `graphId`.', 'filter');
  }
  const timezone = args.timezone ?? 'UTC';
  if (!isKnownTimeZone(timezone)) throw badUserInput(`Unknown timezone ${JSON.stringify(args.timezone)}: use an IANA name such as Europe/Paris.`, 'timezone');
  const bucket = args.bucket ?? 'DAY';
  const from = filter.from.getTime();
  const to = filter.to.getTime();
  const starts = bucketCountBound(bucket, from, to) <= MAX_BUCKETS * 2 ? bucketStarts(bucket, timezone, from, to, MAX_BUCKETS) : null;
  if (!starts) throw badUserInput(`A time series has at most ${MAX_BUCKETS} buckets: use a larger bucket or a shorter range.`, 'bucket');
  const statuses = filter.statuses?.length ? [...new Set(filter.statuses)] : null;
  return {
    scope: { userId, from: filter.from, to: filter.to, graphId: filter.graphId ?? null, graphVersion: filter.graphVersion ?? null, statuses },
    bucket,
    timezone,
    starts,
    summaryFromSeries: seriesSelected ? starts : null,
  };
}

const STATUSES = ['INCOMPLETE', 'QUEUED', 'RUNNING', 'COMPLETED', 'TERMINATED', 'FAILED', 'REVIEW'] as const;

export async function statusSummary(ctx: GraphQLContext, query: StatsQuery) {
  const rows = await ctx.loaders.stats.statusCounts(query.scope, query.summaryFromSeries);
  const byStatus = STATUSES.map((status) => ({ status, count: rows.find((r) => r.status === status)?.count ?? 0 }));
  const count = (status: string) => rows.find((r) => r.status === status)?.count ?? 0;
  const total = rows.reduce((sum, r) => sum + r.count, 0);
  const cost = rows.reduce((sum, r) => sum + r.cost, 0);
  const finished = count('COMPLETED') + count('FAILED') + count('TERMINATED');
  return {
    total,
    byStatus,
    successRate: finished > 0 ? count('COMPLETED') / finished : null,
    cost: { total: cost, avg: total > 0 ? cost / total : null },
  };
}

export async function timeSeriesPoints(ctx: GraphQLContext, query: StatsQuery) {
  const rows = await ctx.loaders.stats.timeSeries(query.scope, query.starts);
  // Indexed by bucket (a year of hours is 8,760 points, most of them empty).
  const byBucket: Array<(typeof rows)[number] | undefined> = new Array(query.starts.length + 1);
  for (const row of rows) byBucket[row.bucket] = row;
  return query.starts.map((start, i) => {
    const row = byBucket[i + 1];
    return {
      bucketStart: new Date(start),
      total: row?.total ?? 0,
      completed: row?.completed ?? 0,
      failed: row?.failed ?? 0,
      p95DurationMs: row?.p95DurationMs ?? null,
      cost: row?.cost ?? 0,
    };
  });
}

export function topGraphs(ctx: GraphQLContext, query: StatsQuery, args: { by?: GraphStatsOrder | null; limit?: number | null }) {
  const limit = checkLimit(args.limit, 10, 'limit');
  return ctx.loaders.stats.topGraphs(query.scope, args.by ?? 'RUNS', limit);
}

export function blocks(ctx: GraphQLContext, query: StatsQuery, args: { limit?: number | null; minRuns?: number | null }) {
  const limit = checkLimit(args.limit, 20, 'limit');
  const minRuns = checkLimit(args.minRuns, 1, 'minRuns', 0, 1_000_000_000);
  return ctx.loaders.stats.blocks(query.scope, limit, minRuns);
}

/** The graph of a ranking entry, through the graph loaders (batched with every other graph of the response). */
export async function graphOfEntry(ctx: GraphQLContext, entry: GraphRankRow): Promise<Graph> {
  const graph =
    entry.graphVersion === null
      ? await ctx.loaders.graphs.currentGraphById.load(entry.graphId)
      : await ctx.loaders.graphs.graphByKey.load({ id: entry.graphId, version: entry.graphVersion });
  // Runs cascade with their graph version, so a counted run's graph exists.
  return graph!;
}

/** Graph.stats: batched across the graphs of the response; non-admins count only their own runs. */
export function graphStats(ctx: GraphQLContext, graph: Graph, args: { from: Date; to: Date }): Promise<GraphStatsRow> {
  const viewer = requireViewer(ctx.viewer);
  checkRange(args.from, args.to, 'from');
  return ctx.loaders.stats.graphStats.load({ parent: graph, args: { userId: ownerScope(viewer, null), from: args.from, to: args.to } });
}
