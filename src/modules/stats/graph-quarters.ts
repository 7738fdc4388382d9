/**
 * One graph's runs over every user and a long range, read from its quarter-hour rollups where it has them (its busy
 * UTC days, migration 20261205170000_graph_busy_day_quarters) and from its runs elsewhere: on the other days it has
 * fewer than stats_busy_day_runs() runs each, so a day costs at most a day of quarter-hour rows or that many runs.
 * They are summed per quarter-hour in the database and into the intervals asked for here, whose edges must lie on
 * quarter-hour edges (every time zone in use today; `quarterAligned`). Counts, costs and duration sums are exact;
 * durations come as bins (duration-sketch.ts).
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { SqlRunner } from '../../db/sql.js';
import { ExecutionStatus } from '../../generated/prisma/enums.js';
import { ceilTo, DAY_MS, floorTo, QUARTER_MS, type RawFringe } from './rollup-cells.js';
import { fringesOf, statusIn } from './rollup-store.js';
import { collectByInterval, intervalsOf, type SeriesFigures } from './series-figures.js';
import { aggregate } from './stats-store.js';

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
 * One graph's runs in [from, to) per quarter-hour and status: its kept quarter-hours, their changes not folded yet, and
 * its runs elsewhere (per quarter-hour, status and duration bin), in no particular order, as one text: rows
 * `STATUS,at,runs,cost,durationMs[,bin,runs,…]` (`at`: the quarter-hour's start in epoch seconds) joined by ';'.
 * Summed per interval here, not in the database: grouping a year's 20,000 quarter-hour rows by interval there cost
 * twice the scan. And one text, not rows: the driver spent more on 20,000 rows of six columns than the scan took.
 */
async function quarterRowsText(sql: SqlRunner, scope: { graphId: string; statuses: ExecutionStatus[] | null }, plan: { quarters: RawFringe[]; runs: RawFringe[] }) {
  const { graphId, statuses } = scope;
  const parts: Prisma.Sql[] = [];
  if (plan.quarters.length) {
    const ranges = fringesOf(plan.quarters);
    parts.push(Prisma.sql`
      SELECT q.status, q.bucket, q.runs::bigint, q.cost, q.duration_ms, q.durations
      FROM ${ranges} JOIN graph_quarter_rollups q ON q.graph_id = ${graphId}::uuid AND q.bucket >= f.lo AND q.bucket < f.hi
      WHERE true ${statusIn('q.status', statuses)}`);
    parts.push(Prisma.sql`
      SELECT p.status, stats_bucket(15::smallint, p.created_at), sum(p.sign)::bigint, sum(p.sign * p.cost)::bigint,
             coalesce(sum(p.sign * p.duration_ms), 0)::bigint, stats_duration_bin(p.duration_ms) || ',' || sum(p.sign)
      FROM ${ranges} JOIN stats_changes p ON p.kind = 1 AND p.graph_id = ${graphId}::uuid AND p.created_at >= f.lo AND p.created_at < f.hi
      WHERE true ${statusIn('p.status', statuses)}
      GROUP BY stats_bucket(15::smallint, p.created_at), p.status, stats_duration_bin(p.duration_ms)`);
  }
  if (plan.runs.length) {
    parts.push(Prisma.sql`
      SELECT (x.ch).status, stats_bucket(15::smallint, (x.ch).created_at), count(*), sum((x.ch).cost)::bigint,
             coalesce(sum((x.ch).duration_ms), 0)::bigint, stats_duration_bin((x.ch).duration_ms) || ',' || count(*)
      FROM ${fringesOf(plan.runs)}
      CROSS JOIN LATERAL (SELECT stats_run_change_of(1, e) AS ch FROM graph_executions e
                          WHERE e.graph_id = ${graphId}::uuid AND NOT e.is_deleted AND e.created_at >= f.lo AND e.created_at < f.hi
                          ${statusIn('e.status', statuses)} OFFSET 0) x
      GROUP BY stats_bucket(15::smallint, (x.ch).created_at), (x.ch).status, stats_duration_bin((x.ch).duration_ms)`);
  }
  const [row] = await aggregate<{ rows: string | null }>(
    sql,
    Prisma.sql`SELECT string_agg(concat_ws(',', status, date_part('epoch', at)::bigint, runs, cost, duration_ms, durations), ';') AS rows
      FROM (${Prisma.join(parts, ' UNION ALL ')}) g(status, at, runs, cost, duration_ms, durations)`,
  );
  return row?.rows ?? '';
}

const STATUSES = Object.values(ExecutionStatus);

/** quarterRowsText's rows, parsed in place (their durations stay in the text, from `pairsFrom` to `pairsTo`). */
function parseQuarterRows(text: string) {
  const rows = { status: [] as ExecutionStatus[], at: [] as number[], runs: [] as number[], cost: [] as number[], durationMs: [] as number[], pairsFrom: [] as number[], pairsTo: [] as number[] };
  let i = 0;
  /** The integer at i (optionally negative), moving i past it and its separator. */
  const integer = () => {
    const negative = text.charCodeAt(i) === 45;
    if (negative) i++;
    let value = 0;
    for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) value = value * 10 + (c - 48);
    i++;
    return negative ? -value : value;
  };
  while (i < text.length) {
    const status = STATUSES.find((s) => text.startsWith(s, i) && text.charCodeAt(i + s.length) === 44);
    if (!status) throw new Error(`Unexpected statistics row at ${i}: ${JSON.stringify(text.slice(i, i + 40))}`);
    i += status.length + 1;
    rows.status.push(status);
    rows.at.push(integer() * 1000);
    rows.runs.push(integer());
    rows.cost.push(integer());
    rows.durationMs.push(integer());
    const end = text.indexOf(';', i - 1);
    const to = end < 0 ? text.length : end;
    rows.pairsFrom.push(Math.min(i, to));
    rows.pairsTo.push(to);
    i = to + 1;
  }
  return rows;
}

/**
 * Figures of one graph (every user's runs, every version) per interval and over all of them: `starts` are the
 * ascending starts of the intervals, on quarter-hour edges (a quarter-hour then lies in one interval; the range's
 * partial first one counts from `from`), the last one ending at `to` (intervals with no run are absent).
 */
export async function graphQuarterFigures(
  sql: SqlRunner,
  scope: { graphId: string; from: Date; to: Date; statuses: ExecutionStatus[] | null },
  starts: readonly number[],
): Promise<SeriesFigures> {
  const from = scope.from.getTime();
  const to = scope.to.getTime();
  const plan = planRange(from, to, await keptDays(sql, scope.graphId, from, to));
  const text = await quarterRowsText(sql, scope, plan);
  const rows = parseQuarterRows(text);
  return collectByInterval(intervalsOf(rows.at, starts), (collector, index, r) => {
    const durations = collector.row(index, rows.status[r]!, rows.runs[r]!, rows.cost[r]!, rows.durationMs[r]!);
    durations.addPairsText(text, 1, rows.pairsFrom[r]!, rows.pairsTo[r]!);
  });
}
