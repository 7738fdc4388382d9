/**
 * The ExecutionStats figures of a wide scope (every user's runs), read from the rollups: the same shapes the rows path
 * returns, so stats-service.ts picks a source and maps either the same way. Counts, rates, costs and averages are
 * exact; percentiles and maxima are within DURATION_RELATIVE_ERROR (the answer's `percentileRelativeError`).
 */
import type { SqlRunner } from '../../db/sql.js';
import type { ExecutionStatus, GraphStatsOrder } from '../../generated/graphql.js';
import { FINISHED_STATUSES } from '../executions/status-transitions.js';
import { planDays, planIntervals, seriesIntervals } from './rollup-cells.js';
import { blockFigures, graphDurations, rankGraphs, runFigures } from './rollup-store.js';
import type { IntervalFigures, SeriesFigures } from './series-figures.js';
import { graphQuarterFigures } from './graph-quarters.js';
import type { BlockRow, DurationRow, GraphRankRow, SeriesRow, StatsScope } from './stats-store.js';

const wholeRange = (scope: StatsScope) => planIntervals([{ from: scope.from.getTime(), to: scope.to.getTime() }]);

/** Whether the rollups can answer a scope's run figures: every user's runs of any graph (statuses are a key). */
export const rollupsAnswerRuns = (scope: StatsScope) => scope.userId === null && !scope.graphId;
/** Node figures and the graph ranking have no run-status key: every user's runs in any status only. */
export const rollupsAnswerNodes = (scope: StatsScope) => rollupsAnswerRuns(scope) && !scope.statuses?.length;

/** Ranges up to this long of one graph read its runs (exact); longer ones its busy days' rollups (graph-quarters.ts). */
const RECENT_GRAPH_RANGE_MS = 7 * 86_400_000;

/**
 * Whether one graph's rollups answer a scope's run figures: its runs over every user and version, over more than a
 * week. (Statuses are a key.) The figures of its time series also need buckets on quarter-hour edges.
 */
export const graphRollupsAnswer = (scope: StatsScope) =>
  scope.userId === null && !!scope.graphId && (scope.graphVersion ?? null) === null && scope.to.getTime() - scope.from.getTime() > RECENT_GRAPH_RANGE_MS;

const graphScope = (scope: StatsScope) => ({ graphId: scope.graphId!, from: scope.from, to: scope.to, statuses: scope.statuses ?? null });

/** Figures per bucket of a time series and over its range: every user's, or one graph's. */
export function seriesFigures(sql: SqlRunner, scope: StatsScope, starts: number[]): Promise<SeriesFigures> {
  if (scope.graphId) return graphQuarterFigures(sql, graphScope(scope), starts);
  return runFigures(sql, planIntervals(seriesIntervals(starts, scope.from.getTime(), scope.to.getTime())), scope.statuses ?? null);
}

/** Figures over the whole range: read as such, or summed from the series' buckets when those are read anyway. */
export async function rangeFigures(sql: SqlRunner, scope: StatsScope, series: Promise<SeriesFigures> | null): Promise<IntervalFigures> {
  if (series) return (await series).whole;
  if (scope.graphId) return (await graphQuarterFigures(sql, graphScope(scope), [scope.from.getTime()])).whole;
  return (await runFigures(sql, wholeRange(scope), scope.statuses ?? null)).whole;
}

export function statusCountsOf(figures: IntervalFigures): Array<{ status: ExecutionStatus; count: number; cost: number }> {
  return [...figures.byStatus].filter(([, s]) => s.runs !== 0).map(([status, s]) => ({ status, count: s.runs, cost: s.cost }));
}

export function durationOf(figures: IntervalFigures): DurationRow {
  const count = figures.durations.count;
  const [p50Ms, p90Ms, p95Ms, p99Ms] = figures.durations.percentiles([0.5, 0.9, 0.95, 0.99]);
  return {
    count,
    avgMs: count > 0 ? figures.durationSumMs / count : null,
    p50Ms: p50Ms ?? null,
    p90Ms: p90Ms ?? null,
    p95Ms: p95Ms ?? null,
    p99Ms: p99Ms ?? null,
    maxMs: figures.durations.max(),
  };
}

export async function rollupTimeSeries(series: Promise<SeriesFigures>): Promise<SeriesRow[]> {
  return [...(await series).points].map(([index, f]) => {
    const runs = (status: ExecutionStatus) => f.byStatus.get(status)?.runs ?? 0;
    let total = 0;
    let cost = 0;
    for (const s of f.byStatus.values()) {
      total += s.runs;
      cost += s.cost;
    }
    return { bucket: index + 1, total, completed: runs('COMPLETED'), failed: runs('FAILED'), cost, p95DurationMs: f.p95DurationMs };
  });
}

export async function rollupNodeCounts(sql: SqlRunner, scope: StatsScope): Promise<{ total: number; failed: number }> {
  let total = 0;
  let failed = 0;
  for (const block of await blockFigures(sql, wholeRange(scope))) {
    for (const [status, n] of block.byStatus) {
      total += n;
      if (status === 'FAILED') failed += n;
    }
  }
  return { total, failed };
}

export async function rollupBlocks(sql: SqlRunner, scope: StatsScope, limit: number, minRuns: number): Promise<BlockRow[]> {
  const rows = (await blockFigures(sql, wholeRange(scope))).map((b) => {
    const runs = FINISHED_STATUSES.reduce((sum, s) => sum + (b.byStatus.get(s) ?? 0), 0);
    const failures = b.byStatus.get('FAILED') ?? 0;
    return { blockId: b.blockId, runs, failures, failureRate: runs > 0 ? failures / runs : 0, p95DurationMs: b.durations.percentile(0.95) };
  });
  return rows
    .filter((r) => r.runs > 0 && r.runs >= minRuns)
    .sort((x, y) => y.runs - x.runs || (x.blockId < y.blockId ? -1 : x.blockId > y.blockId ? 1 : 0))
    .slice(0, limit);
}

export async function rollupTopGraphs(sql: SqlRunner, scope: StatsScope, by: Exclude<GraphStatsOrder, 'DURATION'>, limit: number): Promise<GraphRankRow[]> {
  const plan = planDays(scope.from.getTime(), scope.to.getTime());
  const ranked = await rankGraphs(sql, plan, by, limit);
  const durations = await graphDurations(sql, plan, ranked.map((g) => g.graphId));
  return ranked.map((g) => ({
    graphId: g.graphId,
    graphVersion: null,
    runs: g.runs,
    completed: g.completed,
    failures: g.failures,
    successRate: g.finished > 0 ? g.completed / g.finished : null,
    cost: g.cost,
    p95DurationMs: durations.get(g.graphId)?.percentile(0.95) ?? null,
  }));
}
