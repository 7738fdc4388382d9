/**
 * Which rollup rows answer a time range. Rollup rows cover aligned spans of creation time (15 minutes, one UTC day,
 * one week from Monday 00:00 UTC). An interval is read as whole spans of the coarsest size rounded to its nearest
 * edges, plus or minus finer spans between those edges and the interval's own (subtracting is exact: the figures
 * are sums), and raw rows for what is not on a 15-minute edge. A local day in Asia/Kathmandu (+05:45) is then one
 * UTC day, minus 23 quarter-hours at its end, plus 23 at its start — not 96 quarter-hours.
 */
import type { TimeBucket } from '../../generated/graphql.js';
import { MAX_BUCKETS } from './stats-service.js';
import { bucketStarts, isKnownTimeZone } from './time-buckets.js';

const MINUTE = 60_000;
/** The spans of the rollup tables, in minutes (the `span` column). */
export const ROLLUP_SPANS = [15, 1440, 10080] as const;
const SPAN_MS = ROLLUP_SPANS.map((m) => m * MINUTE);
export const QUARTER_MS = SPAN_MS[0]!;
export const DAY_MS = SPAN_MS[1]!;
/** The origin of every span (a Monday), as in the SQL function stats_bucket. */
const ORIGIN = Date.parse('2001-01-01T00:00:00Z');

/** `sign` × the rollup rows of one span, added to interval `index`. */
export type RollupCell = { span: number; start: number; index: number; sign: 1 | -1 };
/** Raw rows created in [from, to), added to interval `index`. */
export type RawFringe = { from: number; to: number; index: number };
/**
 * `aligned`: the part of each interval on 15-minute edges (what the cells cover), ascending: changes not yet folded
 * into the rollups are added where they fall in it (the fringes' raw rows already hold them).
 */
export type RollupPlan = { cells: RollupCell[]; fringes: RawFringe[]; aligned: RawFringe[] };

export const floorTo = (t: number, size: number) => ORIGIN + Math.floor((t - ORIGIN) / size) * size;
export const ceilTo = (t: number, size: number) => ORIGIN + Math.ceil((t - ORIGIN) / size) * size;
const nearest = (t: number, size: number) => ORIGIN + Math.round((t - ORIGIN) / size) * size;

/** Covers [a, b) (both on quarter-hour edges) with spans of `level` and finer, each counted `sign` times. */
function cover(a: number, b: number, level: number, sign: 1 | -1, index: number, out: RollupCell[]): void {
  if (a >= b) return;
  const size = SPAN_MS[level]!;
  if (level === 0) {
    for (let t = a; t < b; t += size) out.push({ span: ROLLUP_SPANS[0], start: t, index, sign });
    return;
  }
  const from = nearest(a, size);
  const to = nearest(b, size);
  if (to <= from) return cover(a, b, level - 1, sign, index, out);
  for (let t = from; t < to; t += size) out.push({ span: ROLLUP_SPANS[level]!, start: t, index, sign });
  if (a < from) cover(a, from, level - 1, sign, index, out);
  else if (a > from) cover(from, a, level - 1, (-sign) as 1 | -1, index, out);
  if (b > to) cover(to, b, level - 1, sign, index, out);
  else if (b < to) cover(b, to, level - 1, (-sign) as 1 | -1, index, out);
}

/** The cells and raw fringes of each interval [from, to) (epoch ms), tagged with its position in `intervals`. */
export function planIntervals(intervals: ReadonlyArray<{ from: number; to: number }>): RollupPlan {
  const plan: RollupPlan = { cells: [], fringes: [], aligned: [] };
  intervals.forEach(({ from, to }, index) => {
    if (from >= to) return;
    const a = ceilTo(from, QUARTER_MS);
    const b = floorTo(to, QUARTER_MS);
    if (a >= b) {
      plan.fringes.push({ from, to, index });
      return;
    }
    if (from < a) plan.fringes.push({ from, to: a, index });
    if (b < to) plan.fringes.push({ from: b, to, index });
    plan.aligned.push({ from: a, to: b, index });
    cover(a, b, SPAN_MS.length - 1, 1, index, plan.cells);
  });
  return plan;
}


/**
 * A range read by whole UTC days: `wholeDays`, the day and week cells of the whole days inside it (none when it has
 * none); `edgeDays`, the day cells of the days it covers only partly (at most two, each once); `edges`, those partial
 * parts, for raw rows. For rollups kept per day and week only (a graph's: below a day they would hold about one row
 * per run): the whole days are exact, and the partial days' cells bound what their edges can add.
 */
export type DayPlan = { wholeDays: RollupPlan; edgeDays: RollupPlan; edges: RawFringe[] };

export function planDays(from: number, to: number): DayPlan {
  const plan: DayPlan = { wholeDays: { cells: [], fringes: [], aligned: [] }, edgeDays: { cells: [], fringes: [], aligned: [] }, edges: [] };
  if (!(from < to)) return plan;
  const a = ceilTo(from, DAY_MS);
  const b = floorTo(to, DAY_MS);
  const edgeDay = (start: number, edge: RawFringe) => {
    plan.edgeDays.cells.push({ span: ROLLUP_SPANS[1], start, index: 0, sign: 1 });
    plan.edgeDays.aligned.push({ from: start, to: start + DAY_MS, index: 0 });
    plan.edges.push(edge);
  };
  if (a > b) {
    // Within one day.
    edgeDay(b, { from, to, index: 0 });
    return plan;
  }
  if (from < a) edgeDay(a - DAY_MS, { from, to: a, index: 0 });
  if (a < b) {
    cover(a, b, SPAN_MS.length - 1, 1, 0, plan.wholeDays.cells);
    plan.wholeDays.aligned.push({ from: a, to: b, index: 0 });
  }
  if (b < to) edgeDay(b, { from: b, to, index: 0 });
  return plan;
}

/** The intervals of a time series: bucket i is [starts[i], starts[i + 1]) clipped to [from, to). */
export function seriesIntervals(starts: readonly number[], from: number, to: number): Array<{ from: number; to: number }> {
  return starts.map((start, i) => ({ from: Math.max(start, from), to: Math.min(starts[i + 1] ?? to, to) }));
}

export type RollupCellCounts = { quarters: number; days: number; weeks: number; fringes: number };

const countCells = (cells: RollupCell[], fringes: number): RollupCellCounts => {
  const counts: RollupCellCounts = { quarters: 0, days: 0, weeks: 0, fringes };
  for (const cell of cells) {
    if (cell.span === ROLLUP_SPANS[0]) counts.quarters++;
    else if (cell.span === ROLLUP_SPANS[1]) counts.days++;
    else counts.weeks++;
  }
  return counts;
};

/** What planDays(from, to) reads: day and week cells, and (as `fringes`) the partial days read from raw rows. */
export function dayCellsRead(from: number, to: number): RollupCellCounts | null {
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) return null;
  const plan = planDays(from, to);
  return countCells([...plan.wholeDays.cells, ...plan.edgeDays.cells], plan.edges.length);
}

/**
 * How many rollup spans of each size, and raw fringes, the range [from, to) reads — as a whole, or bucket by bucket
 * for a time series. Null for arguments `executionStats` refuses before reading anything.
 */
export function rollupCellsRead(from: number, to: number, series: { bucket: string; timezone: string } | null): RollupCellCounts | null {
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) return null;
  let intervals = [{ from, to }];
  if (series) {
    if (!['HOUR', 'DAY', 'WEEK'].includes(series.bucket) || !isKnownTimeZone(series.timezone)) return null;
    const starts = bucketStarts(series.bucket as TimeBucket, series.timezone, from, to, MAX_BUCKETS);
    if (!starts) return null;
    intervals = seriesIntervals(starts, from, to);
  }
  const plan = planIntervals(intervals);
  return countCells(plan.cells, plan.fringes.length);
}
