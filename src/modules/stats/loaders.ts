import type { Database } from '../../db/database.js';
import type { GraphStatsOrder } from '../../generated/graphql.js';
import { graphKeyString, type GraphKey } from '../graphs/graph-store.js';
import { childPageLoader } from '../shared/child-pages.js';
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

/** One computation per distinct arguments per request: fields that need the same figures share the statement. */
function memo<Args extends unknown[], T>(compute: (...args: Args) => Promise<T>): (...args: Args) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (...args) => {
    const key = JSON.stringify(args);
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
  return {
    statusCounts: memo((scope: StatsScope) => statusCounts(sql, scope)),
    duration: memo((scope: StatsScope) => durationStats(sql, scope)),
    nodeCounts: memo((scope: StatsScope) => nodeExecutionCounts(sql, scope)),
    timeSeries: memo((scope: StatsScope, starts: number[]) => timeSeries(sql, scope, starts)),
    topGraphs: memo((scope: StatsScope, by: GraphStatsOrder, limit: number) => topGraphs(sql, scope, by, limit)),
    blocks: memo((scope: StatsScope, limit: number, minRuns: number) => blockStats(sql, scope, limit, minRuns)),
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
