/**
 * EXPLAIN (ANALYZE, BUFFERS) of the statistics statements on an existing database (e.g. one kept by
 * `npm run bench:stats -- --keep`): `tsx bench/stats/explain.ts <database url>`. Used to choose the indexes.
 */
import pg from 'pg';
import type { SqlRunner } from '../../src/db/sql.js';
import { blockStats, durationStats, nodeExecutionCounts, statsByGraphs, statusCounts, timeSeries, topGraphs, type StatsScope } from '../../src/modules/stats/stats-store.js';
import { bucketStarts } from '../../src/modules/stats/time-buckets.js';
import { planDays, planIntervals, seriesIntervals } from '../../src/modules/stats/rollup-cells.js';
import { blockFigures, graphDurations, rankGraphs, runFigures } from '../../src/modules/stats/rollup-store.js';
import { capture, explainAnalyze } from '../lib/explain.js';

const DAY = 86_400_000;

async function main() {
  const url = process.argv[2];
  if (!url) throw new Error('usage: tsx bench/stats/explain.ts <database url> [--summary]');
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const now = (await pool.query<{ t: Date }>('SELECT max(created_at) AS t FROM graph_executions')).rows[0]!.t.getTime();
  const range90 = { from: new Date(now - 90 * DAY), to: new Date(now) };
  const range30 = { from: new Date(now - 30 * DAY), to: new Date(now) };
  const busiest = (await pool.query<{ id: string }>(`SELECT user_id AS id FROM graph_executions GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`)).rows[0]!.id;
  const graph = (await pool.query<{ id: string }>(`SELECT graph_id AS id FROM graph_executions GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`)).rows[0]!.id;
  const page = (await pool.query<{ id: string; version: number }>(`SELECT id, version FROM graphs WHERE is_active ORDER BY created_at DESC LIMIT 50`)).rows;
  const user: StatsScope = { userId: busiest, ...range90 };
  const oneGraph: StatsScope = { userId: null, graphId: graph, ...range30 };
  const all: StatsScope = { userId: null, ...range30 };
  // Every user's 90 days from the rollups, the range ending off any 15-minute edge as a request's `now` does.
  const [wideFrom, wideTo] = [range90.from.getTime() - 7 * 60_000, range90.to.getTime() - 7 * 60_000];
  const wide = planIntervals([{ from: wideFrom, to: wideTo }]);
  const wideDays = planDays(wideFrom, wideTo);
  const daily = bucketStarts('DAY', 'UTC', range90.from.getTime(), range90.to.getTime(), 10_000)!;
  const wideDaily = planIntervals(seriesIntervals(daily, range90.from.getTime(), range90.to.getTime()));
  const topTen = (await pool.query<{ id: string }>(`SELECT graph_id AS id FROM graph_executions GROUP BY 1 ORDER BY count(*) DESC LIMIT 10`)).rows.map((r) => r.id);
  const statements: Array<[string, (p: SqlRunner) => Promise<unknown>]> = [
    ['user 90d status counts', (p) => statusCounts(p, user)],
    ['user 90d durations', (p) => durationStats(p, user)],
    ['user 90d daily series', (p) => timeSeries(p, user, bucketStarts('DAY', 'UTC', range90.from.getTime(), range90.to.getTime(), 10_000)!)],
    ['user 90d node counts', (p) => nodeExecutionCounts(p, user)],
    ['user 90d top graphs', (p) => topGraphs(p, user, 'RUNS', 10)],
    ['user 90d blocks', (p) => blockStats(p, user, 20, 1)],
    ['graph 30d hourly series', (p) => timeSeries(p, oneGraph, bucketStarts('HOUR', 'UTC', range30.from.getTime(), range30.to.getTime(), 10_000)!)],
    ['Graph.stats x50', (p) => statsByGraphs(p, page, { userId: null, ...range30 })],
    ['admin 30d status counts (all users)', (p) => statusCounts(p, all)],
    ['admin 30d durations (all users)', (p) => durationStats(p, all)],
    ['rollups: every user 90d daily series', (p) => runFigures(p, wideDaily, null)],
    ['rollups: every user 90d graph ranking', (p) => rankGraphs(p, wideDays, 'RUNS', 10)],
    ['rollups: every user 90d durations of 10 graphs', (p) => graphDurations(p, wideDays, topTen)],
    ['rollups: every user 90d blocks', (p) => blockFigures(p, wide)],
  ];
  for (const [label, run] of statements) {
    const statement = await capture(run);
    let best = Infinity;
    let plan = '';
    for (let i = 0; i < 3; i++) {
      plan = await explainAnalyze(pool, statement);
      best = Math.min(best, Number(/Execution Time: ([\d.]+)/.exec(plan)?.[1]));
    }
    console.log(`${label}: ${best.toFixed(1)} ms`);
    if (!process.argv.includes('--summary')) console.log(plan, '\n');
  }
  await pool.end();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
