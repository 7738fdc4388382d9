/**
 * Statistics over every user's runs read from the rollups (migration 20261205150000_execution_stats_rollups): the
 * rows of a plan's cells (times the cell's sign), the changes not folded into them yet, and the raw rows of its fringes
 * (the parts of the range off a 15-minute edge), per interval, in one statement (one snapshot). Counts, costs and duration sums are
 * exact; durations come as bins (duration-sketch.ts). The rows path (stats-store.ts) answers every other scope.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { SqlRunner } from '../../db/sql.js';
import type { ExecutionStatus, GraphStatsOrder } from '../../generated/graphql.js';
import { DurationHistogram } from './duration-sketch.js';
import type { DayPlan, RawFringe, RollupPlan } from './rollup-cells.js';
import { collectByInterval, type SeriesFigures } from './series-figures.js';
import { aggregate, num } from './stats-store.js';

/** The plan's cells as a relation c(span, start, idx, sign). */
function cellsOf(plan: RollupPlan): Prisma.Sql {
  const { cells } = plan;
  return Prisma.sql`unnest(${cells.map((c) => c.span)}::int2[], ${cells.map((c) => new Date(c.start).toISOString())}::timestamptz[],
    ${cells.map((c) => c.index)}::int[], ${cells.map((c) => c.sign)}::int[]) AS c(span, start, idx, sign)`;
}

/** Raw ranges (a plan's fringes, a day plan's edges) as a relation f(lo, hi, idx). */
export function fringesOf(fringes: readonly RawFringe[]): Prisma.Sql {
  return Prisma.sql`unnest(${fringes.map((f) => new Date(f.from).toISOString())}::timestamptz[], ${fringes.map((f) => new Date(f.to).toISOString())}::timestamptz[],
    ${fringes.map((f) => f.index)}::int[]) AS f(lo, hi, idx)`;
}

/**
 * Changes not folded yet (alias `p`, with `p_idx` the interval each falls in) that lie in the aligned parts of the
 * plan's intervals, as a FROM item; null when no interval has one.
 */
function unfoldedChanges(plan: RollupPlan, kind: 1 | 2): Prisma.Sql | null {
  const { aligned } = plan;
  if (!aligned.length) return null;
  const from = aligned.map((a) => new Date(a.from).toISOString());
  const to = aligned.map((a) => new Date(a.to).toISOString());
  return Prisma.sql`(SELECT p.*, (${aligned.map((a) => a.index)}::int[])[w] AS p_idx
    FROM stats_changes p CROSS JOIN LATERAL (SELECT width_bucket(p.created_at, ${from}::timestamptz[]) AS w) b
    WHERE p.kind = ${kind} AND b.w > 0 AND p.created_at < (${to}::timestamptz[])[b.w]) p`;
}

/** `part(changes)` when the plan has aligned parts, else nothing. */
function unfolded(plan: RollupPlan, kind: 1 | 2, part: (changes: Prisma.Sql) => Prisma.Sql): Prisma.Sql {
  const changes = unfoldedChanges(plan, kind);
  return changes ? part(changes) : Prisma.empty;
}

export const statusIn = (column: string, statuses: ExecutionStatus[] | null) =>
  statuses?.length ? Prisma.sql`AND ${Prisma.raw(column)}::text = ANY(${statuses}::text[])` : Prisma.empty;

/**
 * A rollup row as read (counts, sums, and its bins array from its first bin), or an aggregate of raw rows or unfolded
 * changes per duration `bin` (null: no duration). Raw rows are counted per bin with count(*), not built into arrays
 * by stats_bins: its PL/pgSQL step per row cost more than the scan (10M runs: a quarter-hour's 23,000 node executions).
 */
type FigureRow = {
  idx: number;
  sign: number;
  status: ExecutionStatus;
  runs: number;
  cost: number;
  durationMs: number;
  binsFrom: number | null;
  bins: string | null;
  bin: number | null;
};

/** Adds a figure row's durations to `histogram`. */
function addDurations(histogram: DurationHistogram, r: Pick<FigureRow, 'sign' | 'runs' | 'binsFrom' | 'bins' | 'bin'>): void {
  if (r.bins) histogram.addBinsText(r.binsFrom!, r.bins, r.sign);
  else if (r.bin !== null) histogram.add(r.bin, r.sign * r.runs);
}

/**
 * A bins array in SQL (any lower bound) as its first bin and its elements as comma-separated text: several times
 * cheaper for the driver than an int[] (a 90-day series brings a few hundred thousand elements).
 */
const binsColumns = Prisma.raw(`array_lower(bins, 1) AS "binsFrom", array_to_string(bins, ',', '0') AS bins`);

/** Run figures per interval of `plan` and over all of them (intervals with no run are absent). */
export async function runFigures(sql: SqlRunner, plan: RollupPlan, statuses: ExecutionStatus[] | null): Promise<SeriesFigures> {
  // One row per cell and status (a few hundred for a 90-day series), summed per interval by the collector.
  const rows = await aggregate<FigureRow>(sql, Prisma.sql`
    SELECT idx, sign, status::text AS status, runs, cost, duration_ms AS "durationMs", ${binsColumns}, bin
    FROM (
      SELECT c.idx, c.sign, r.status, r.runs, r.cost::float8 AS cost, r.duration_ms::float8 AS duration_ms, r.bins, NULL::int AS bin
      FROM ${cellsOf(plan)} JOIN run_rollups r ON r.span = c.span AND r.bucket = c.start
      WHERE true ${statusIn('r.status', statuses)}
      UNION ALL
      SELECT f.idx, 1, (x.ch).status, count(*)::int, sum((x.ch).cost)::float8, coalesce(sum((x.ch).duration_ms), 0)::float8,
             NULL, stats_duration_bin((x.ch).duration_ms)
      FROM ${fringesOf(plan.fringes)}
      CROSS JOIN LATERAL (SELECT stats_run_change_of(1, e) AS ch FROM graph_executions e
                          WHERE e.created_at >= f.lo AND e.created_at < f.hi AND NOT e.is_deleted ${statusIn('e.status', statuses)} OFFSET 0) x
      GROUP BY 1, 2, 3, 8
      ${unfolded(plan, 1, (p) => Prisma.sql`
      UNION ALL
      SELECT p.p_idx, 1, p.status, sum(p.sign)::int, sum(p.sign * p.cost)::float8, coalesce(sum(p.sign * p.duration_ms), 0)::float8,
             NULL, stats_duration_bin(p.duration_ms)
      FROM ${p} WHERE true ${statusIn('p.status', statuses)} GROUP BY 1, 2, 3, 8`)}
    ) g`);
  return collectByInterval(
    rows.map((r) => r.idx),
    (collector, index, row) => {
      const r = rows[row]!;
      addDurations(collector.row(index, r.status, r.sign * r.runs, r.sign * num(r.cost), r.sign * num(r.durationMs)), r);
    },
  );
}

export type GraphRank = { graphId: string; runs: number; completed: number; failures: number; finished: number; cost: number };

const RANK_METRIC: Record<Exclude<GraphStatsOrder, 'DURATION'>, string> = { RUNS: 'runs', FAILURES: 'failures', COST: 'cost' };

/** Per graph: runs, completed, failures, finished and cost of a plan's cells (times their sign) and its unfolded changes. */
function graphFigures(plan: RollupPlan): Prisma.Sql {
  if (!plan.cells.length) return Prisma.sql`SELECT NULL::uuid AS graph_id, 0 AS runs, 0 AS completed, 0 AS failures, 0 AS finished, 0::float8 AS cost WHERE false`;
  return Prisma.sql`
    SELECT graph_id, sum(runs)::int AS runs, sum(completed)::int AS completed, sum(failed)::int AS failures, sum(finished)::int AS finished, sum(cost) AS cost
    FROM (
      SELECT r.graph_id, c.sign * r.runs AS runs, c.sign * r.completed AS completed, c.sign * r.failed AS failed,
             c.sign * r.finished AS finished, (c.sign * r.cost)::float8 AS cost
      FROM ${cellsOf(plan)} JOIN graph_run_rollups r ON r.span = c.span AND r.bucket = c.start
      ${unfolded(plan, 1, (p) => Prisma.sql`
      UNION ALL
      SELECT p.graph_id, p.sign, CASE WHEN p.status = 'COMPLETED' THEN p.sign ELSE 0 END, CASE WHEN p.status = 'FAILED' THEN p.sign ELSE 0 END,
             CASE WHEN p.status IN ('COMPLETED', 'FAILED', 'TERMINATED') THEN p.sign ELSE 0 END, (p.sign * p.cost)::float8
      FROM ${p}`)}
    ) g GROUP BY 1`;
}

/**
 * The `limit` graphs ranked by `by` over a range (every user's runs, every version, any status), exactly, without
 * reading every run of its partial days. The whole days give each graph a lower bound of its figure; its partial
 * days' whole-day figures an upper bound (every figure ranked is a sum of non-negative terms: the migration makes
 * costs so). Only graphs whose upper bound reaches the `limit`-th lower bound can rank, and only their runs at the
 * edges are read (the stats_by_graph index): usually a few more than `limit`.
 */
export async function rankGraphs(sql: SqlRunner, plan: DayPlan, by: Exclude<GraphStatsOrder, 'DURATION'>, limit: number): Promise<GraphRank[]> {
  const metric = Prisma.raw(RANK_METRIC[by]);
  const rows = await aggregate<GraphRank>(sql, Prisma.sql`
    WITH whole_days AS MATERIALIZED (${graphFigures(plan.wholeDays)}),
         edge_days AS MATERIALIZED (${graphFigures(plan.edgeDays)}),
         threshold AS (SELECT ${metric} AS t FROM whole_days ORDER BY ${metric} DESC OFFSET ${limit - 1} LIMIT 1),
         candidates AS (
           SELECT graph_id FROM whole_days w FULL JOIN edge_days d USING (graph_id)
           WHERE NOT EXISTS (SELECT 1 FROM threshold) OR coalesce(w.${metric}, 0) + coalesce(d.${metric}, 0) >= (SELECT t FROM threshold))
    SELECT graph_id AS "graphId", sum(runs)::int AS runs, sum(completed)::int AS completed, sum(failures)::int AS failures,
           sum(finished)::int AS finished, sum(cost)::float8 AS cost
    FROM (
      SELECT w.graph_id, w.runs, w.completed, w.failures, w.finished, w.cost FROM whole_days w JOIN candidates USING (graph_id)
      ${plan.edges.length ? Prisma.sql`
      UNION ALL
      SELECT k.graph_id, 1, (e.status = 'COMPLETED')::int, (e.status = 'FAILED')::int, (e.status IN ('COMPLETED', 'FAILED', 'TERMINATED'))::int, e.cost::float8
      FROM candidates k CROSS JOIN ${fringesOf(plan.edges)}
      CROSS JOIN LATERAL (SELECT e.status, e.cost FROM graph_executions e
                          WHERE e.graph_id = k.graph_id AND NOT e.is_deleted AND e.created_at >= f.lo AND e.created_at < f.hi) e` : Prisma.empty}
    ) g
    GROUP BY 1 HAVING sum(runs) > 0
    ORDER BY ${metric} DESC, 1 LIMIT ${limit}`);
  return rows.map((r) => ({ graphId: r.graphId, runs: num(r.runs), completed: num(r.completed), failures: num(r.failures), finished: num(r.finished), cost: num(r.cost) }));
}

/** The finished runs' durations of each of `graphIds` over a range: whole days from the rollups, partial ones from runs. */
export async function graphDurations(sql: SqlRunner, plan: DayPlan, graphIds: string[]): Promise<Map<string, DurationHistogram>> {
  const result = new Map(graphIds.map((id) => [id, new DurationHistogram()]));
  if (!graphIds.length) return result;
  const { wholeDays } = plan;
  // Rows (graph_id, sign, runs, bins, bin): rollup rows' bins arrays, or counts per bin of unfolded changes and runs.
  const parts: Prisma.Sql[] = [];
  if (wholeDays.cells.length) {
    parts.push(Prisma.sql`SELECT r.graph_id, c.sign, 0, r.bins, NULL::int FROM ${cellsOf(wholeDays)}
      JOIN graph_run_rollups r ON r.span = c.span AND r.bucket = c.start AND r.graph_id = ANY(${graphIds}::uuid[]) WHERE r.bins IS NOT NULL`);
    const changes = unfoldedChanges(wholeDays, 1);
    if (changes) {
      parts.push(Prisma.sql`SELECT p.graph_id, 1, sum(p.sign)::int, NULL::int[], stats_duration_bin(p.duration_ms)::int
        FROM ${changes} WHERE p.graph_id = ANY(${graphIds}::uuid[]) AND p.duration_ms IS NOT NULL GROUP BY 1, 5`);
    }
  }
  if (plan.edges.length) {
    parts.push(Prisma.sql`SELECT e.graph_id, 1, count(*)::int, NULL::int[], stats_duration_bin(e.duration_ms)::int
      FROM unnest(${graphIds}::uuid[]) k(id) CROSS JOIN ${fringesOf(plan.edges)}
      CROSS JOIN LATERAL (SELECT e.graph_id, (stats_run_change_of(1, e)).duration_ms FROM graph_executions e
                          WHERE e.graph_id = k.id AND NOT e.is_deleted AND e.created_at >= f.lo AND e.created_at < f.hi) e
      WHERE e.duration_ms IS NOT NULL GROUP BY 1, 5`);
  }
  if (!parts.length) return result;
  const rows = await aggregate<Pick<FigureRow, 'sign' | 'runs' | 'binsFrom' | 'bins' | 'bin'> & { graphId: string }>(sql, Prisma.sql`
    SELECT graph_id AS "graphId", sign, runs, ${binsColumns}, bin FROM (${Prisma.join(parts, ' UNION ALL ')}) x(graph_id, sign, runs, bins, bin)`);
  for (const r of rows) {
    const histogram = result.get(r.graphId);
    if (histogram) addDurations(histogram, r);
  }
  return result;
}

/** Node executions of every user's runs per block over interval 0 of `plan`: counts per status, finished ones' durations. */
export type BlockFigures = { blockId: string; byStatus: Map<ExecutionStatus, number>; durations: DurationHistogram };

export async function blockFigures(sql: SqlRunner, plan: RollupPlan): Promise<BlockFigures[]> {
  const rows = await aggregate<Omit<FigureRow, 'idx' | 'cost' | 'durationMs'> & { blockId: string }>(sql, Prisma.sql`
    SELECT block_id AS "blockId", sign, status::text AS status, runs, ${binsColumns}, bin
    FROM (
      SELECT r.block_id, c.sign, r.status, r.runs, r.bins, NULL::int AS bin
      FROM ${cellsOf(plan)} JOIN block_rollups r ON r.span = c.span AND r.bucket = c.start
      UNION ALL
      SELECT (x.ch).block_id, 1, (x.ch).status, count(*)::int, NULL, stats_duration_bin((x.ch).duration_ms)
      FROM ${fringesOf(plan.fringes)}
      CROSS JOIN LATERAL (SELECT stats_node_change_of(1, n) AS ch FROM node_executions n
                          WHERE n.run_created_at >= f.lo AND n.run_created_at < f.hi AND NOT n.run_is_deleted OFFSET 0) x
      GROUP BY 1, 2, 3, 6
      ${unfolded(plan, 2, (p) => Prisma.sql`
      UNION ALL
      SELECT p.block_id, 1, p.status, sum(p.sign)::int, NULL, stats_duration_bin(p.duration_ms) FROM ${p} GROUP BY 1, 2, 3, 6`)}
    ) g`);
  const blocks = new Map<string, BlockFigures>();
  for (const r of rows) {
    let b = blocks.get(r.blockId);
    if (!b) blocks.set(r.blockId, (b = { blockId: r.blockId, byStatus: new Map(), durations: new DurationHistogram() }));
    b.byStatus.set(r.status, (b.byStatus.get(r.status) ?? 0) + r.sign * r.runs);
    addDurations(b.durations, r);
  }
  return [...blocks.values()];
}

/** Whether every run and node execution is counted (the back-fill is done): until then, statistics read rows. */
export async function rollupsComplete(sql: SqlRunner): Promise<boolean> {
  const rows = await sql.query<{ complete: boolean }>(Prisma.sql`SELECT complete FROM stats_rollup_state WHERE id = 1`);
  return rows[0]?.complete === true;
}
