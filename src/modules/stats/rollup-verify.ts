/**
 * The rollups' check (`npm run stats:verify`, and the tests): recompute every rollup row of a range from the raw rows
 * with the triggers' own definitions (stats_run_change_of, stats_node_change_of, stats_bucket, stats_duration_bin) and
 * compare with the rollups plus the changes not folded yet, per key. Rows whose figures are all zero count as absent.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { SqlRunner } from '../../db/sql.js';
import { ROLLUP_SPANS } from './rollup-cells.js';

export type RollupMismatch = { table: string; key: Record<string, unknown>; rollup: Record<string, number> | null; raw: Record<string, number> | null };

export type RollupReport = { from: Date; to: Date; rowsCompared: number; mismatches: RollupMismatch[] };

const spansOf = (spans: readonly number[]) => Prisma.raw(`(VALUES ${spans.map((s) => `(${s}::smallint)`).join(', ')}) s(span)`);
const SPANS = spansOf(ROLLUP_SPANS);
/** A graph's rollups are kept per day and week only (migration 20261205160000_graph_rollups_daily). */
const GRAPH_SPANS = spansOf(ROLLUP_SPANS.slice(1));

/** How the rows of each counted table are read as changes (the triggers' own definitions). */
const COUNTED = {
  runs: { table: 'graph_executions', changeOf: 'stats_run_change_of', mark: 'runs_through', deleted: 'is_deleted', time: 'created_at' },
  nodes: { table: 'node_executions', changeOf: 'stats_node_change_of', mark: 'node_executions_through', deleted: 'run_is_deleted', time: 'run_created_at' },
} as const;

/** The counted runs or node executions whose bucket of some span starts in [from, to), one row per span. */
function countedChanges(which: keyof typeof COUNTED, from: Date, to: Date, spans = SPANS): Prisma.Sql {
  const [table, changeOf, mark, deleted, time] = Object.values(COUNTED[which]).map((name) => Prisma.raw(name));
  return Prisma.sql`
  SELECT s.span, stats_bucket(s.span, (c).${time}) AS bucket, (c).*
  FROM (SELECT ${changeOf}(1, x) AS c FROM ${table} x
        WHERE (x.in_rollups OR x.id <= (SELECT ${mark} FROM stats_rollup_state WHERE id = 1)) AND NOT x.${deleted}
          AND x.${time} >= ${from} AND x.${time} < ${to}::timestamptz + interval '7 days') x
  CROSS JOIN ${spans}
  WHERE stats_bucket(s.span, (c).${time}) >= ${from} AND stats_bucket(s.span, (c).${time}) < ${to}`;
}
const runChanges = (from: Date, to: Date, spans = SPANS) => countedChanges('runs', from, to, spans);
const nodeChanges = (from: Date, to: Date) => countedChanges('nodes', from, to);

type Check = { table: string; keys: string[]; figures: string[]; rollup: Prisma.Sql; raw: Prisma.Sql };

/** A rollup table's bins as rows (span, bucket, <keys>, bin, runs). */
const binsOf = (table: string, keys: string, inRange: Prisma.Sql) => Prisma.sql`
  SELECT span, bucket, ${Prisma.raw(keys)}, i AS bin, r.bins[i]::bigint AS runs
  FROM ${Prisma.raw(table)} r CROSS JOIN LATERAL generate_subscripts(r.bins, 1) i
  WHERE ${inRange} AND r.bins[i] IS NOT NULL`;

/** The changes not folded yet, as the rollups' rows of every span (alias columns as in stats_run_change). */
const unfoldedOf = (kind: 1 | 2, from: Date, to: Date, spans = SPANS) => Prisma.sql`
  SELECT s.span, stats_bucket(s.span, p.created_at) AS bucket, p.sign, p.graph_id, p.block_id, p.status, p.cost, p.duration_ms
  FROM stats_changes p CROSS JOIN ${spans}
  WHERE p.kind = ${kind} AND stats_bucket(s.span, p.created_at) >= ${from} AND stats_bucket(s.span, p.created_at) < ${to}`;

/** A graph's quarter-hours of the days kept so (graph_run_rollups.quarters) in [from, to), with the figures of rows `x`. */
const keptQuarters = (from: Date, to: Date, rows: Prisma.Sql) => Prisma.sql`
  SELECT x.* FROM (${rows}) x JOIN graph_run_rollups g
    ON g.span = 1440 AND g.quarters AND g.graph_id = x.graph_id AND g.bucket = stats_bucket(1440::smallint, x.bucket)
  WHERE x.bucket >= ${from} AND x.bucket < ${to}`;

function checks(from: Date, to: Date): Check[] {
  const inRange = Prisma.sql`bucket >= ${from} AND bucket < ${to}`;
  const quarter = spansOf([ROLLUP_SPANS[0]]);
  return [
    {
      table: 'run_rollups',
      keys: ['span', 'bucket', 'status'],
      figures: ['runs', 'cost', 'duration_ms'],
      rollup: Prisma.sql`SELECT span, bucket, status::text AS status, sum(runs)::bigint AS runs, sum(cost)::bigint AS cost, sum(duration_ms)::bigint AS duration_ms
        FROM (SELECT span, bucket, status, runs, cost, duration_ms FROM run_rollups WHERE ${inRange}
              UNION ALL SELECT span, bucket, status, sign, sign * cost, coalesce(sign * duration_ms, 0) FROM (${unfoldedOf(1, from, to)}) u) x
        GROUP BY 1, 2, 3`,
      raw: Prisma.sql`SELECT span, bucket, status::text AS status, count(*)::bigint AS runs, sum(cost)::bigint AS cost, coalesce(sum(duration_ms), 0)::bigint AS duration_ms
        FROM (${runChanges(from, to)}) c GROUP BY 1, 2, 3`,
    },
    {
      table: 'run_rollups.bins',
      keys: ['span', 'bucket', 'status', 'bin'],
      figures: ['runs'],
      rollup: Prisma.sql`SELECT span, bucket, status, bin, sum(runs)::bigint AS runs FROM (
          ${binsOf('run_rollups', 'status::text AS status', inRange)}
          UNION ALL SELECT span, bucket, status::text, stats_duration_bin(duration_ms)::int, sign FROM (${unfoldedOf(1, from, to)}) u WHERE duration_ms IS NOT NULL
        ) x GROUP BY 1, 2, 3, 4`,
      raw: Prisma.sql`SELECT span, bucket, status::text AS status, stats_duration_bin(duration_ms)::int AS bin, count(*)::bigint AS runs
        FROM (${runChanges(from, to)}) c WHERE duration_ms IS NOT NULL GROUP BY 1, 2, 3, 4`,
    },
    {
      table: 'graph_run_rollups',
      keys: ['span', 'bucket', 'graph_id'],
      figures: ['runs', 'completed', 'failed', 'finished', 'cost'],
      rollup: Prisma.sql`SELECT span, bucket, graph_id::text AS graph_id, sum(runs)::bigint AS runs, sum(completed)::bigint AS completed,
          sum(failed)::bigint AS failed, sum(finished)::bigint AS finished, sum(cost)::bigint AS cost
        FROM (SELECT span, bucket, graph_id, runs, completed, failed, finished, cost FROM graph_run_rollups WHERE ${inRange}
              UNION ALL
              SELECT span, bucket, graph_id, sign, CASE WHEN status = 'COMPLETED' THEN sign ELSE 0 END, CASE WHEN status = 'FAILED' THEN sign ELSE 0 END,
                     CASE WHEN status IN ('COMPLETED', 'FAILED', 'TERMINATED') THEN sign ELSE 0 END, sign * cost
              FROM (${unfoldedOf(1, from, to, GRAPH_SPANS)}) u) x
        GROUP BY 1, 2, 3`,
      raw: Prisma.sql`SELECT span, bucket, graph_id::text AS graph_id, count(*)::bigint AS runs,
          count(*) FILTER (WHERE status = 'COMPLETED')::bigint AS completed, count(*) FILTER (WHERE status = 'FAILED')::bigint AS failed,
          count(*) FILTER (WHERE status IN ('COMPLETED', 'FAILED', 'TERMINATED'))::bigint AS finished, sum(cost)::bigint AS cost
        FROM (${runChanges(from, to, GRAPH_SPANS)}) c GROUP BY 1, 2, 3`,
    },
    {
      table: 'graph_run_rollups.bins',
      keys: ['span', 'bucket', 'graph_id', 'bin'],
      figures: ['runs'],
      rollup: Prisma.sql`SELECT span, bucket, graph_id, bin, sum(runs)::bigint AS runs FROM (
          ${binsOf('graph_run_rollups', 'graph_id::text AS graph_id', inRange)}
          UNION ALL SELECT span, bucket, graph_id::text, stats_duration_bin(duration_ms)::int, sign FROM (${unfoldedOf(1, from, to, GRAPH_SPANS)}) u WHERE duration_ms IS NOT NULL
        ) x GROUP BY 1, 2, 3, 4`,
      raw: Prisma.sql`SELECT span, bucket, graph_id::text AS graph_id, stats_duration_bin(duration_ms)::int AS bin, count(*)::bigint AS runs
        FROM (${runChanges(from, to, GRAPH_SPANS)}) c WHERE duration_ms IS NOT NULL GROUP BY 1, 2, 3, 4`,
    },
    {
      table: 'graph_quarter_rollups',
      keys: ['bucket', 'graph_id', 'status'],
      figures: ['runs', 'cost', 'duration_ms'],
      rollup: Prisma.sql`SELECT bucket, graph_id::text AS graph_id, status, sum(runs)::bigint AS runs, sum(cost)::bigint AS cost, sum(duration_ms)::bigint AS duration_ms
        FROM (${keptQuarters(from, to, Prisma.sql`
          SELECT graph_id, bucket, status::text AS status, runs, cost, duration_ms FROM graph_quarter_rollups
          UNION ALL SELECT graph_id, bucket, status::text, sign, sign * cost, coalesce(sign * duration_ms, 0) FROM (${unfoldedOf(1, from, to, quarter)}) u`)}) k
        GROUP BY 1, 2, 3`,
      raw: Prisma.sql`SELECT bucket, graph_id::text AS graph_id, status, count(*)::bigint AS runs, sum(cost)::bigint AS cost, coalesce(sum(duration_ms), 0)::bigint AS duration_ms
        FROM (${keptQuarters(from, to, Prisma.sql`SELECT graph_id, bucket, status::text AS status, cost, duration_ms FROM (${runChanges(from, to, quarter)}) c`)}) k
        GROUP BY 1, 2, 3`,
    },
    {
      table: 'graph_quarter_rollups.durations',
      keys: ['bucket', 'graph_id', 'bin'],
      figures: ['runs'],
      rollup: Prisma.sql`SELECT bucket, graph_id::text AS graph_id, bin, sum(runs)::bigint AS runs
        FROM (${keptQuarters(from, to, Prisma.sql`
          SELECT graph_id, bucket, a.v[2 * i - 1] AS bin, a.v[2 * i]::bigint AS runs
          FROM graph_quarter_rollups q CROSS JOIN LATERAL (SELECT string_to_array(q.durations, ',')::int[] AS v) a
          CROSS JOIN LATERAL generate_series(1, cardinality(a.v) / 2) i
          UNION ALL SELECT graph_id, bucket, stats_duration_bin(duration_ms)::int, sign FROM (${unfoldedOf(1, from, to, quarter)}) u WHERE duration_ms IS NOT NULL`)}) k
        GROUP BY 1, 2, 3`,
      raw: Prisma.sql`SELECT bucket, graph_id::text AS graph_id, bin, count(*)::bigint AS runs
        FROM (${keptQuarters(from, to, Prisma.sql`
          SELECT graph_id, bucket, stats_duration_bin(duration_ms)::int AS bin FROM (${runChanges(from, to, quarter)}) c WHERE duration_ms IS NOT NULL`)}) k
        GROUP BY 1, 2, 3`,
    },
    {
      table: 'block_rollups',
      keys: ['span', 'bucket', 'block_id', 'status'],
      figures: ['runs'],
      rollup: Prisma.sql`SELECT span, bucket, block_id, status::text AS status, sum(runs)::bigint AS runs
        FROM (SELECT span, bucket, block_id, status, runs FROM block_rollups WHERE ${inRange}
              UNION ALL SELECT span, bucket, block_id, status, sign FROM (${unfoldedOf(2, from, to)}) u) x
        GROUP BY 1, 2, 3, 4`,
      raw: Prisma.sql`SELECT span, bucket, block_id, status::text AS status, count(*)::bigint AS runs FROM (${nodeChanges(from, to)}) c GROUP BY 1, 2, 3, 4`,
    },
    {
      table: 'block_rollups.bins',
      keys: ['span', 'bucket', 'block_id', 'status', 'bin'],
      figures: ['runs'],
      rollup: Prisma.sql`SELECT span, bucket, block_id, status, bin, sum(runs)::bigint AS runs FROM (
          ${binsOf('block_rollups', 'block_id, status::text AS status', inRange)}
          UNION ALL SELECT span, bucket, block_id, status::text, stats_duration_bin(duration_ms)::int, sign FROM (${unfoldedOf(2, from, to)}) u WHERE duration_ms IS NOT NULL
        ) x GROUP BY 1, 2, 3, 4, 5`,
      raw: Prisma.sql`SELECT span, bucket, block_id, status::text AS status, stats_duration_bin(duration_ms)::int AS bin, count(*)::bigint AS runs
        FROM (${nodeChanges(from, to)}) c WHERE duration_ms IS NOT NULL GROUP BY 1, 2, 3, 4, 5`,
    },
  ];
}

/** Compares one table in the database (a FULL JOIN of both sides); returns the rows compared and up to `limit` mismatches. */
async function compare(sql: SqlRunner, check: Check, limit: number): Promise<{ compared: number; mismatches: RollupMismatch[] }> {
  const keys = check.keys.map((k) => Prisma.raw(k));
  const using = Prisma.join(keys, ', ');
  const nonZero = (side: string) => Prisma.raw(check.figures.map((f) => `${side}.${f} <> 0`).join(' OR '));
  const figures = (side: string) => Prisma.raw(`jsonb_build_object(${check.figures.map((f) => `'${f}', ${side}.${f}`).join(', ')})`);
  const [row] = await sql.query<{ compared: number; mismatches: Array<{ key: Record<string, unknown>; rollup: Record<string, number> | null; raw: Record<string, number> | null }> }>(
    Prisma.sql`
      WITH r AS (SELECT * FROM (${check.rollup}) x WHERE ${nonZero('x')}),
           w AS (SELECT * FROM (${check.raw}) x WHERE ${nonZero('x')}),
           j AS (SELECT ${using}, CASE WHEN r IS NULL THEN NULL ELSE ${figures('r')} END AS rollup, CASE WHEN w IS NULL THEN NULL ELSE ${figures('w')} END AS raw
                 FROM r FULL JOIN w USING (${using}))
      SELECT (SELECT count(*)::int FROM j) AS compared,
             (SELECT coalesce(jsonb_agg(m), '[]'::jsonb) FROM (
                SELECT jsonb_build_object(${Prisma.join(check.keys.map((k) => Prisma.sql`${k}::text, ${Prisma.raw(k)}`), ', ')}) AS key, rollup, raw
                FROM j WHERE rollup IS DISTINCT FROM raw LIMIT ${limit}) m) AS mismatches`,
    { prepare: false },
  );
  return { compared: row?.compared ?? 0, mismatches: (row?.mismatches ?? []).map((m) => ({ table: check.table, ...m })) };
}

/**
 * Recomputes the rollup rows whose spans start in [from, to) (aligned: a week starting before `from` is left out)
 * from the raw rows and compares them. Runs as one snapshot when `sql` is a transaction's runner.
 */
export async function verifyRollups(sql: SqlRunner, from: Date, to: Date, limit = 20): Promise<RollupReport> {
  const report: RollupReport = { from, to, rowsCompared: 0, mismatches: [] };
  for (const check of checks(from, to)) {
    const { compared, mismatches } = await compare(sql, check, limit);
    report.rowsCompared += compared;
    report.mismatches.push(...mismatches);
  }
  return report;
}
