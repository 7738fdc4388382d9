import type { Database } from '../../db/database.js';
import type { GraphStatsOrder } from '../../generated/graphql.js';
import { graphKeyString, type GraphKey } from '../graphs/graph-store.js';
import { childPageLoader } from '../shared/child-pages.js';
import { DURATION_RELATIVE_ERROR } from './duration-sketch.js';
import { quarterAligned } from './graph-quarters.js';
import {
  durationOf,
  graphRollupsAnswer,
  rangeFigures,
  rollupBlocks,
  rollupNodeCounts,
  rollupsAnswerNodes,
  rollupsAnswerRuns,
  rollupTimeSeries,
  rollupTopGraphs,
  seriesFigures,
  statusCountsOf,
} from './rollup-stats.js';
import { rollupsComplete } from './rollup-store.js';
import {
  blockStats,
  durationStats,
  nodeExecutionCounts,
  statsByGraphs,
  statusCounts,
  timeSeries,
  topGraphs,
  type GraphStatsArgs,
  type GraphStatsRow,
  type StatsScope,
} from './stats-store.js';

/**
 * One computation per distinct arguments per request: fields that need the same figures share the statement. Long
 * arrays (a series' bucket starts: 8,760 for a year of hours) are keyed by identity: a request's fields pass the same
 * one, and writing it out for every call cost more than the rest of the key.
 */
function memo<Args extends unknown[], T>(compute: (...args: Args) => Promise<T>): (...args: Args) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  const arrayIds = new WeakMap<object, string>();
  let arrays = 0;
  const byIdentity = (_key: string, value: unknown) => {
    if (!Array.isArray(value) || value.length <= 16) return value;
    let id = arrayIds.get(value);
    if (!id) arrayIds.set(value, (id = `array #${++arrays}`));
    return id;
  };
  return (...args) => {
    const key = JSON.stringify(args, byIdentity);
    let result = cache.get(key);
    if (!result) cache.set(key, (result = compute(...args)));
    return result;
  };
}

export function createStatsLoaders(db: Database) {
  const sql = db.sql;
  const graphStatsPages = childPageLoader<GraphKey, GraphStatsArgs, GraphStatsRow>({
    parentKey: graphKeyString,
    argsKey: (args) => JSON.stringify(args),
    fetch: async (graphs, args) => {
      const rows = await statsByGraphs(sql, graphs, args);
      return new Map([...rows].map(([key, row]) => [key, [row]]));
    },
  });
  // Wide scopes (every user's runs; one graph's over more than a week) read the rollups once the back-fill is done;
  // every other scope reads rows.
  const complete = memo(() => rollupsComplete(sql));
  const fromRollups = async (answers: boolean) => answers && (await complete());
  /** Run figures: every user's (run rollups) or one graph's over a long range (its quarter-hour rollups), else rows. */
  const runsFromRollups = (scope: StatsScope) => fromRollups(rollupsAnswerRuns(scope) || graphRollupsAnswer(scope));
  /** A time series from rollups: a graph's needs its buckets on quarter-hour edges (every zone in use today). */
  const seriesFromRollups = async (scope: StatsScope, starts: number[]) =>
    (await runsFromRollups(scope)) && (!scope.graphId || quarterAligned(starts));
  const series = memo((scope: StatsScope, starts: number[]) => seriesFigures(sql, scope, starts));
  const figures = memo(async (scope: StatsScope, fromSeries: number[] | null) =>
    rangeFigures(sql, scope, fromSeries && (await seriesFromRollups(scope, fromSeries)) ? series(scope, fromSeries) : null),
  );
  return {
    /** The relative error of the percentiles and maxima of an answer over `scope` (0: exact). */
    percentileError: async (scope: StatsScope) => ((await runsFromRollups(scope)) ? DURATION_RELATIVE_ERROR : 0),
    /** `fromSeries`: the time series' bucket starts when it is selected too (the rollups then read once). */
    statusCounts: memo(async (scope: StatsScope, fromSeries: number[] | null) =>
      (await runsFromRollups(scope)) ? statusCountsOf(await figures(scope, fromSeries)) : statusCounts(sql, scope),
    ),
    duration: memo(async (scope: StatsScope, fromSeries: number[] | null) => {
      if (await runsFromRollups(scope)) return { ...durationOf(await figures(scope, fromSeries)), relativeError: DURATION_RELATIVE_ERROR };
      return { ...(await durationStats(sql, scope)), relativeError: 0 };
    }),
    nodeCounts: memo(async (scope: StatsScope) =>
      (await fromRollups(rollupsAnswerNodes(scope))) ? rollupNodeCounts(sql, scope) : nodeExecutionCounts(sql, scope),
    ),
    timeSeries: memo(async (scope: StatsScope, starts: number[]) =>
      (await seriesFromRollups(scope, starts)) ? rollupTimeSeries(series(scope, starts)) : timeSeries(sql, scope, starts),
    ),
    topGraphs: memo(async (scope: StatsScope, by: GraphStatsOrder, limit: number) =>
      by !== 'DURATION' && (await fromRollups(rollupsAnswerNodes(scope))) ? rollupTopGraphs(sql, scope, by, limit) : topGraphs(sql, scope, by, limit),
    ),
    blocks: memo(async (scope: StatsScope, limit: number, minRuns: number) =>
      (await fromRollups(rollupsAnswerNodes(scope))) ? rollupBlocks(sql, scope, limit, minRuns) : blockStats(sql, scope, limit, minRuns),
    ),
    /** Graph.stats: every graph of a response with the same arguments in one statement. */
    graphStats: {
      load: async (key: { parent: GraphKey; args: GraphStatsArgs }): Promise<GraphStatsRow> => {
        const [row] = await graphStatsPages.load({ parent: { id: key.parent.id, version: key.parent.version }, args: key.args });
        return row ?? { from: key.args.from, to: key.args.to, runs: 0, completed: 0, failed: 0, successRate: null, lastRunAt: null, p95DurationMs: null };
      },
    },
  };
}

export type StatsLoaders = ReturnType<typeof createStatsLoaders>;
