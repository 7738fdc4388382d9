/**
 * Figures read from the rollups, per interval of a time series and over its whole range. Rows are taken interval by
 * interval (collectByInterval orders them): each interval keeps only its runs and costs per status and its durations'
 * p95, while every duration also goes into one histogram for the whole range. A year of hourly buckets is thousands
 * of intervals; a histogram kept for each was most of such an answer's allocations and garbage-collection time.
 */
import type { ExecutionStatus } from '../../generated/graphql.js';
import { DurationHistogram } from './duration-sketch.js';

export type StatusFigures = Map<ExecutionStatus, { runs: number; cost: number }>;

/** Figures of a whole range: runs and cost per status, and the finished runs' durations. */
export type IntervalFigures = { byStatus: StatusFigures; durations: DurationHistogram; durationSumMs: number };

/** One interval of a series: runs and cost per status, and its finished runs' p95 duration (null: none). */
export type PointFigures = { byStatus: StatusFigures; p95DurationMs: number | null };

/** A series' intervals (index → figures; intervals with no row absent) and its whole range. */
export type SeriesFigures = { points: Map<number, PointFigures>; whole: IntervalFigures };

function addTo(byStatus: StatusFigures, status: ExecutionStatus, runs: number, cost: number): void {
  const s = byStatus.get(status);
  if (s) {
    s.runs += runs;
    s.cost += cost;
  } else byStatus.set(status, { runs, cost });
}

/** Builds SeriesFigures from rows grouped by interval. */
export class SeriesCollector {
  private readonly points = new Map<number, PointFigures>();
  private readonly whole: IntervalFigures = { byStatus: new Map(), durations: new DurationHistogram(), durationSumMs: 0 };
  /** The current interval's durations: cleared for each interval, so one array serves them all. */
  private readonly interval = new DurationHistogram();
  private point: PointFigures | null = null;
  private index = -1;

  /**
   * Adds a row of interval `index` (already multiplied by its sign) and returns the histogram its durations go to.
   * Rows of one interval must come together: an interval seen again after another one is a bug in the statement.
   */
  row(index: number, status: ExecutionStatus, runs: number, cost: number, durationMs: number): DurationHistogram {
    if (index !== this.index) {
      this.closeInterval();
      if (this.points.has(index)) throw new Error(`Statistics rows of interval ${index} are not grouped by interval.`);
      this.points.set(index, (this.point = { byStatus: new Map(), p95DurationMs: null }));
      this.index = index;
    }
    addTo(this.point!.byStatus, status, runs, cost);
    addTo(this.whole.byStatus, status, runs, cost);
    this.whole.durationSumMs += durationMs;
    return this.interval;
  }

  private closeInterval(): void {
    if (!this.point) return;
    this.point.p95DurationMs = this.interval.percentile(0.95);
    this.whole.durations.merge(this.interval);
    this.interval.clear();
    this.point = null;
  }

  finish(): SeriesFigures {
    this.closeInterval();
    return { points: this.points, whole: this.whole };
  }
}

/** The index of the interval holding `at`: the last start at or before it (0 before the first). */
function intervalAt(starts: readonly number[], at: number, hint: number): number {
  // Rows come mostly in time order: the previous row's interval or the next is usually right.
  for (let i = hint; i <= hint + 1 && i < starts.length; i++) if (starts[i]! <= at && (i + 1 === starts.length || at < starts[i + 1]!)) return i;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The interval of each instant (epoch ms) in the range of the ascending interval `starts`. */
export function intervalsOf(at: readonly number[], starts: readonly number[]): Int32Array {
  const intervals = new Int32Array(at.length);
  let hint = 0;
  for (let r = 0; r < at.length; r++) intervals[r] = hint = intervalAt(starts, at[r]!, hint);
  return intervals;
}

/**
 * SeriesFigures of rows in any order, row r in interval `intervals[r]` (0 or more): the rows are put
 * in interval order here (a counting sort: sorting them in the database held back rows of wide bins arrays until
 * all were read) and `add` adds each one to the collector.
 */
export function collectByInterval(intervals: ArrayLike<number>, add: (collector: SeriesCollector, index: number, row: number) => void): SeriesFigures {
  let intervalCount = 0;
  for (let r = 0; r < intervals.length; r++) intervalCount = Math.max(intervalCount, intervals[r]! + 1);
  const offsets = new Int32Array(intervalCount + 1);
  for (let r = 0; r < intervals.length; r++) offsets[intervals[r]! + 1]!++;
  for (let i = 1; i < offsets.length; i++) offsets[i]! += offsets[i - 1]!;
  const order = new Int32Array(intervals.length);
  for (let r = 0; r < intervals.length; r++) order[offsets[intervals[r]!]!++] = r;
  const collector = new SeriesCollector();
  for (const r of order) add(collector, intervals[r]!, r);
  return collector.finish();
}
