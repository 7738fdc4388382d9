/**
 * Statistics SQL: exact aggregates over the rows themselves (no rollups), so every figure is fresh and exact.
 * Node-level figures of a user read the run fields copied onto node_executions (kept in step by triggers).
 * Each statement reads the runs of the scope through a covering index (see the stats migration) with the
 * conditions of `graphExecutionConditions` (deleted runs excluded); percentiles are `percentile_cont`, with
 * non-finished runs mapped to NULL (which ordered-set aggregates ignore).
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { SqlRunner } from '../../db/sql.js';
import type { ExecutionStatus, GraphStatsOrder } from '../../generated/graphql.js';
import { graphKeyString, graphKeyTable, type GraphKey } from '../graphs/graph-store.js';
import { and, graphExecutionConditions } from '../executions/execution-sql.js';

export type StatsScope = {
  /** null: every user's runs (ADMIN). */
  userId: string | null;
  from: Date;
  to: Date;
  graphId?: string | null;
  graphVersion?: number | null;
  statuses?: ExecutionStatus[] | null;
};

const where = (scope: StatsScope) =>
  and(
    graphExecutionConditions({
      userId: scope.userId,
      filter: {
        graphId: scope.graphId ?? null,
        graphVersion: scope.graphVersion ?? null,
        statuses: scope.statuses ?? null,
        createdAt: { from: scope.from, to: scope.to },
      },
    }),
  );

const FINISHED = Prisma.raw(`('COMPLETED', 'FAILED', 'TERMINATED')`);
/**
 * A finished run's duration in ms; NULL otherwise (ignored by the aggregates). Float arithmetic (date_part) is much
 * cheaper per row than numeric (extract); timestamps have millisecond precision, so rounding makes it exact.
 */
const RUN_DURATION = Prisma.raw(
  `CASE WHEN e.status IN ('COMPLETED', 'FAILED', 'TERMINATED') THEN round(date_part('epoch', e.ended_at - e.started_at) * 1000) END`,
);
const NODE_DURATION = Prisma.raw(`round(date_part('epoch', n.ended_at - n.started_at) * 1000)`);

/**
 * Statistics are planned for their own parameters every time (never a generic plan): the best plan depends on how
 * many runs the user and range select, and planning is a negligible part of an aggregate over thousands of rows.
 */
export const aggregate = <Row>(sql: SqlRunner, statement: Prisma.Sql) => sql.query<Row>(statement, { planPerCall: true, workload: 'statistics' });

/**
 * Bucket starts (ascending epoch ms) as a timestamptz[] for `width_bucket`, sent as one float8[] parameter and
 * converted once per statement: a year of hourly buckets is 8,760 starts, and formatting each as timestamptz text
 * cost more than the rest of the answer (about 1 µs a string, then the driver escapes each element).
 */
export const instantsArray = (instants: readonly number[]) =>
  Prisma.sql`(SELECT array_agg(to_timestamp(b.ms / 1000) ORDER BY b.i) FROM unnest(${`{${instants.join(',')}}`}::float8[]) WITH ORDINALITY AS b(ms, i))`;

export const num = (value: unknown): number => Number(value ?? 0);
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

export async function statusCounts(sql: SqlRunner, scope: StatsScope): Promise<Array<{ status: ExecutionStatus; count: number; cost: number }>> {
  const rows = await aggregate<{ status: ExecutionStatus; count: number; cost: string | number }>(sql, Prisma.sql`
    SELECT e.status::text AS status, count(*)::int AS count, coalesce(sum(e.cost), 0)::bigint AS cost
    FROM graph_executions e WHERE ${where(scope)} GROUP BY e.status`);
  return rows.map((r) => ({ status: r.status, count: num(r.count), cost: num(r.cost) }));
}

export type DurationRow = { count: number; avgMs: number | null; p50Ms: number | null; p90Ms: number | null; p95Ms: number | null; p99Ms: number | null; maxMs: number | null };

export async function durationStats(sql: SqlRunner, scope: StatsScope): Promise<DurationRow> {
  const rows = await aggregate<{ count: number; avg: number | null; p: number[] | null; max: number | null }>(sql, Prisma.sql`
    SELECT count(d)::int AS count, avg(d) AS avg, max(d) AS max,
           percentile_cont(ARRAY[0.5, 0.9, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY d) AS p
    FROM (SELECT ${RUN_DURATION} AS d FROM graph_executions e
          WHERE ${where(scope)} AND e.status IN ${FINISHED} AND e.started_at IS NOT NULL AND e.ended_at IS NOT NULL) x`);
  const row = rows[0];
  const p = row?.p ?? null;
  return {
    count: num(row?.count),
    avgMs: numOrNull(row?.avg),
    p50Ms: numOrNull(p?.[0]),
    p90Ms: numOrNull(p?.[1]),
    p95Ms: numOrNull(p?.[2]),
    p99Ms: numOrNull(p?.[3]),
    maxMs: numOrNull(row?.max),
  };
}

/**
 * The node executions of a scope (alias `n`). A user's runs in a time range with no run-level filter read the
 * run's copies on node_executions through one range of `node_executions_stats_by_user_idx`; other scopes (a
 * graph, run statuses, every user) join their runs, found through the run indexes, to node executions.
 */
function nodeExecutionsOf(scope: StatsScope): Prisma.Sql {
  if (scope.userId !== null && !scope.graphId && !scope.statuses?.length) {
    return Prisma.sql`node_executions n
      WHERE n.user_id = ${scope.userId}::uuid AND n.run_is_deleted = false
        AND n.run_created_at >= ${scope.from} AND n.run_created_at < ${scope.to}`;
  }
  return Prisma.sql`graph_executions e JOIN node_executions n ON n.graph_execution_id = e.id WHERE ${where(scope)}`;
}

export async function nodeExecutionCounts(sql: SqlRunner, scope: StatsScope): Promise<{ total: number; failed: number }> {
  const rows = await aggregate<{ total: number; failed: number }>(sql, Prisma.sql`
    SELECT count(*)::int AS total, count(*) FILTER (WHERE n.status = 'FAILED')::int AS failed
    FROM ${nodeExecutionsOf(scope)}`);
  return { total: num(rows[0]?.total), failed: num(rows[0]?.failed) };
}

export type SeriesRow = { bucket: number; total: number; completed: number; failed: number; cost: number; p95DurationMs: number | null };

/** Aggregates per bucket; `starts` are the ascending bucket starts (row i+1 ↔ starts[i]); empty buckets are absent. */
export async function timeSeries(sql: SqlRunner, scope: StatsScope, starts: number[]): Promise<SeriesRow[]> {
  const rows = await aggregate<{ bucket: number; total: number; completed: number; failed: number; cost: string | number; p95: number | null }>(sql, Prisma.sql`
    SELECT width_bucket(e.created_at, ${instantsArray(starts)}) AS bucket, count(*)::int AS total,
           count(*) FILTER (WHERE e.status = 'COMPLETED')::int AS completed,
           count(*) FILTER (WHERE e.status = 'FAILED')::int AS failed,
           coalesce(sum(e.cost), 0)::bigint AS cost,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY ${RUN_DURATION}) AS p95
    FROM graph_executions e WHERE ${where(scope)} GROUP BY 1`);
  return rows.map((r) => ({
    bucket: num(r.bucket),
    total: num(r.total),
    completed: num(r.completed),
    failed: num(r.failed),
    cost: num(r.cost),
    p95DurationMs: numOrNull(r.p95),
  }));
}

export type GraphRankRow = {
  graphId: string;
  /** The version to show: the filter's, or null for the graph's current version. */
  graphVersion: number | null;
  runs: number;
  completed: number;
  failures: number;
  successRate: number | null;
  cost: number;
  p95DurationMs: number | null;
};

const RANK_ORDER: Record<GraphStatsOrder, string> = {
  RUNS: 'runs DESC',
  FAILURES: 'failures DESC',
  COST: 'cost DESC',
  DURATION: 'p95 DESC NULLS LAST',
};

export async function topGraphs(sql: SqlRunner, scope: StatsScope, by: GraphStatsOrder, limit: number): Promise<GraphRankRow[]> {
  const rows = await aggregate<{ graphId: string; runs: number; completed: number; failures: number; finished: number; cost: string | number; p95: number | null }>(sql, Prisma.sql`
    SELECT e.graph_id AS "graphId", count(*)::int AS runs,
           count(*) FILTER (WHERE e.status = 'COMPLETED')::int AS completed,
           count(*) FILTER (WHERE e.status = 'FAILED')::int AS failures,
           count(*) FILTER (WHERE e.status IN ${FINISHED})::int AS finished,
           coalesce(sum(e.cost), 0)::bigint AS cost,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY ${RUN_DURATION}) AS p95
    FROM graph_executions e WHERE ${where(scope)}
    GROUP BY e.graph_id ORDER BY ${Prisma.raw(RANK_ORDER[by])}, e.graph_id LIMIT ${limit}`);
  return rows.map((r) => ({
    graphId: r.graphId,
    graphVersion: scope.graphVersion ?? null,
    runs: num(r.runs),
    completed: num(r.completed),
    failures: num(r.failures),
    successRate: num(r.finished) > 0 ? num(r.completed) / num(r.finished) : null,
    cost: num(r.cost),
    p95DurationMs: numOrNull(r.p95),
  }));
}

export type BlockRow = { blockId: string; runs: number; failures: number; failureRate: number; p95DurationMs: number | null };

export async function blockStats(sql: SqlRunner, scope: StatsScope, limit: number, minRuns: number): Promise<BlockRow[]> {
  const rows = await aggregate<{ blockId: string; runs: number; failures: number; p95: number | null }>(sql, Prisma.sql`
    SELECT n.block_id AS "blockId", count(*)::int AS runs, count(*) FILTER (WHERE n.status = 'FAILED')::int AS failures,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY ${NODE_DURATION}) AS p95
    FROM ${nodeExecutionsOf(scope)} AND n.status IN ${FINISHED}
    GROUP BY n.block_id HAVING count(*) >= ${minRuns}
    ORDER BY runs DESC, n.block_id LIMIT ${limit}`);
  return rows.map((r) => ({
    blockId: r.blockId,
    runs: num(r.runs),
    failures: num(r.failures),
    failureRate: num(r.failures) / num(r.runs),
    p95DurationMs: numOrNull(r.p95),
  }));
}

export type GraphStatsRow = {
  from: Date;
  to: Date;
  runs: number;
  completed: number;
  failed: number;
  successRate: number | null;
  lastRunAt: Date | null;
  p95DurationMs: number | null;
};

export type GraphStatsArgs = { userId: string | null; from: Date; to: Date };

/** Graph.stats of many graph versions in one statement: one LATERAL aggregate per version over its index range. */
export async function statsByGraphs(sql: SqlRunner, graphs: GraphKey[], args: GraphStatsArgs): Promise<Map<string, GraphStatsRow>> {
  const rows = await aggregate<{ graphId: string; graphVersion: number; runs: number; completed: number; failed: number; finished: number; last: Date | null; p95: number | null }>(sql, Prisma.sql`
    SELECT p.graph_id AS "graphId", p.graph_version AS "graphVersion", s.*
    FROM ${graphKeyTable(graphs)} AS p(graph_id, graph_version)
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS runs,
             count(*) FILTER (WHERE e.status = 'COMPLETED')::int AS completed,
             count(*) FILTER (WHERE e.status = 'FAILED')::int AS failed,
             count(*) FILTER (WHERE e.status IN ${FINISHED})::int AS finished,
             max(e.created_at) AS last,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY ${RUN_DURATION}) AS p95
      FROM graph_executions e
      WHERE e.graph_id = p.graph_id AND e.graph_version = p.graph_version
        AND ${where({ userId: args.userId, from: args.from, to: args.to })}
    ) s`);
  return new Map(
    rows.map((r) => [
      graphKeyString({ id: r.graphId, version: r.graphVersion }),
      {
        from: args.from,
        to: args.to,
        runs: num(r.runs),
        completed: num(r.completed),
        failed: num(r.failed),
        successRate: num(r.finished) > 0 ? num(r.completed) / num(r.finished) : null,
        lastRunAt: r.last,
        p95DurationMs: numOrNull(r.p95),
      },
    ]),
  );
}
