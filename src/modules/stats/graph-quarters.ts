/**
 * One graph's runs over every user and a long range, read from its quarter-hour rollups where it has them (its busy
 * UTC days, migration 20261205170000_graph_busy_day_quarters) and from its runs elsewhere: on the other days it has
 * fewer than stats_busy_day_runs() runs each, so a day costs at most a day of quarter-hour rows or that many runs.
 * The database sums them into the intervals asked for, whose edges must lie on quarter-hour edges (every time zone
 * in use today; `quarterAligned`). Counts, costs and duration sums are exact; durations come as bins
 * (duration-sketch.ts).
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { SqlRunner } from '../../db/sql.js';
import type { ExecutionStatus } from '../../generated/graphql.js';
import { ceilTo, DAY_MS, floorTo, QUARTER_MS, type RawFringe } from './rollup-cells.js';
import { emptyFigures, fringesOf, statusIn, type IntervalFigures } from './rollup-store.js';
import { aggregate, instantsArray, num } from './stats-store.js';

/** Whether every one of `starts` lies on a quarter-hour edge. */
export const quarterAligned = (starts: readonly number[]) => starts.every((start) => floorTo(start, QUARTER_MS) === start);

/** The UTC days (epoch ms) in [from, to) whose quarter-hour rows `graphId` keeps. */
async function keptDays(sql: SqlRunner, graphId: string, from: number, to: number): Promise<Set<number>> {
  const rows = await aggregate<{ day: Date }>(sql, Prisma.sql`
    SELECT bucket AS day FROM graph_run_rollups
    WHERE span = 1440 AND graph_id = ${graphId}::uuid AND quarters AND bucket >= ${new Date(floorTo(from, DAY_MS))} AND bucket < ${new Date(to)}`);
  return new Set(rows.map((r) => r.day.getTime()));
}

/** [from, to) split into the whole quarter-hours of kept days (read from rollups) and the rest (read from runs). */
function planRange(from: number, to: number, kept: Set<number>): { quarters: RawFringe[]; runs: RawFringe[] } {
  const plan = { quarters: [] as RawFringe[], runs: [] as RawFringe[] };
  const add = (list: RawFringe[], lo: number, hi: number) => {
    if (lo >= hi) return;
    const last = list[list.length - 1];
    if (last && last.to === lo) last.to = hi;
    else list.push({ from: lo, to: hi, index: 0 });
  };
  for (let day = floorTo(from, DAY_MS); day < to; day += DAY_MS) {
    const lo = Math.max(day, from);
    const hi = Math.min(day + DAY_MS, to);
    if (!kept.has(day)) {
      add(plan.runs, lo, hi);
      continue;
    }
    const a = Math.min(ceilTo(lo, QUARTER_MS), hi);
    const b = Math.max(floorTo(hi, QUARTER_MS), a);
    add(plan.runs, lo, a);
    add(plan.quarters, a, b);
    add(plan.runs, b, hi);
  }
  return plan;
}

/**
 * Figures per interval and status of one graph's runs in [from, to): its kept quarter-hours, their changes not folded
 * yet, and its runs elsewhere, summed per interval in the database (a year of a busy graph is 20,000 quarter-hour rows,
 * 2,000 hours with runs), durations as the intervals' `bin,runs` pairs joined (a bin may recur: they add up).
 */
async function intervalRows(
  sql: SqlRunner,
  scope: { graphId: string; from: Date; statuses: ExecutionStatus[] | null },
  plan: { quarters: RawFringe[]; runs: RawFringe[] },
  starts: readonly number[],
) {
  const { graphId, statuses } = scope;
  const parts: Prisma.Sql[] = [];
  if (plan.quarters.length) {
    const ranges = fringesOf(plan.quarters);
    parts.push(Prisma.sql`
      SELECT q.bucket AS at, q.status, q.runs, q.cost::float8 AS cost, q.duration_ms::float8 AS duration_ms, q.durations
      FROM ${ranges} JOIN graph_quarter_rollups q ON q.graph_id = ${graphId}::uuid AND q.bucket >= f.lo AND q.bucket < f.hi
      WHERE true ${statusIn('q.status', statuses)}`);
    parts.push(Prisma.sql`
      SELECT min(p.created_at), p.status, sum(p.sign)::int, sum(p.sign * p.cost)::float8, coalesce(sum(p.sign * p.duration_ms), 0)::float8,
             stats_duration_bin(p.duration_ms) || ',' || sum(p.sign)
      FROM ${ranges} JOIN stats_changes p ON p.kind = 1 AND p.graph_id = ${graphId}::uuid AND p.created_at >= f.lo AND p.created_at < f.hi
      WHERE true ${statusIn('p.status', statuses)}
      GROUP BY stats_bucket(15::smallint, p.created_at), 2, stats_duration_bin(p.duration_ms)`);
  }
  if (plan.runs.length) {
    parts.push(Prisma.sql`
      SELECT min((x.ch).created_at), (x.ch).status, count(*)::int, sum((x.ch).cost)::float8, coalesce(sum((x.ch).duration_ms), 0)::float8,
             stats_duration_bin((x.ch).duration_ms) || ',' || count(*)
      FROM ${fringesOf(plan.runs)}
      CROSS JOIN LATERAL (SELECT stats_run_change_of(1, e) AS ch FROM graph_executions e
                          WHERE e.graph_id = ${graphId}::uuid AND NOT e.is_deleted AND e.created_at >= f.lo AND e.created_at < f.hi
                          ${statusIn('e.status', statuses)} OFFSET 0) x
      GROUP BY stats_bucket(15::smallint, (x.ch).created_at), 2, stats_duration_bin((x.ch).duration_ms)`);
  }
  return aggregate<{ idx: number; status: ExecutionStatus; runs: number; cost: number; durationMs: number; pairs: string | null }>(sql, Prisma.sql`
    SELECT width_bucket(greatest(at, ${scope.from}::timestamptz), ${instantsArray(starts)}) - 1 AS idx, status::text AS status,
           sum(runs)::int AS runs, sum(cost)::float8 AS cost, sum(duration_ms)::float8 AS "durationMs", string_agg(durations, ',') AS pairs
    FROM (${Prisma.join(parts, ' UNION ALL ')}) g(at, status, runs, cost, duration_ms, durations)
    GROUP BY 1, 2`);
}

/**
 * Figures of one graph (every user's runs, every version) per interval: `starts` are the ascending starts of the
 * intervals, on quarter-hour edges (a quarter-hour then lies in one interval; the range's partial first one counts
 * from `from`), the last one ending at `to` (index → figures; intervals with no run are absent).
 */
export async function graphQuarterFigures(
  sql: SqlRunner,
  scope: { graphId: string; from: Date; to: Date; statuses: ExecutionStatus[] | null },
  starts: readonly number[],
): Promise<Map<number, IntervalFigures>> {
  const from = scope.from.getTime();
  const to = scope.to.getTime();
  const plan = planRange(from, to, await keptDays(sql, scope.graphId, from, to));
  const figures = new Map<number, IntervalFigures>();
  for (const r of await intervalRows(sql, scope, plan, starts)) {
    let f = figures.get(r.idx);
    if (!f) figures.set(r.idx, (f = emptyFigures()));
    f.byStatus.set(r.status, { runs: r.runs, cost: num(r.cost) });
    f.durationSumMs += num(r.durationMs);
    if (r.pairs) f.durations.addPairsText(r.pairs, 1);
  }
  return figures;
}
