/**
 * The statistics recomputed independently of the server: plain TypeScript over the rows read back with Prisma.
 * Buckets are found by scanning time in 15-minute steps and watching the local calendar key change (every real
 * UTC offset and transition is on a 15-minute grid), not by the server's local-midnight arithmetic.
 * Percentiles use the same definition as PostgreSQL's `percentile_cont`: linear interpolation at rank p·(n−1).
 */
import type { Database } from '../../src/db/database.js';

export type RunRow = {
  id: string;
  graphId: string;
  graphVersion: number;
  userId: string;
  status: string;
  cost: number;
  isDeleted: boolean;
  createdAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
};
export type NodeRow = { graphExecutionId: string; status: string; blockId: string; startedAt: Date | null; endedAt: Date | null };
export type Rows = { runs: RunRow[]; nodes: NodeRow[] };

export async function readRows(db: Database): Promise<Rows> {
  const runs = await db.prisma.graphExecution.findMany({
    select: { id: true, graphId: true, graphVersion: true, userId: true, status: true, cost: true, isDeleted: true, createdAt: true, startedAt: true, endedAt: true },
  });
  const nodes = await db.prisma.nodeExecution.findMany({
    select: { graphExecutionId: true, status: true, startedAt: true, endedAt: true, node: { select: { blockId: true } } },
  });
  return { runs, nodes: nodes.map((n) => ({ graphExecutionId: n.graphExecutionId, status: n.status, startedAt: n.startedAt, endedAt: n.endedAt, blockId: n.node.blockId })) };
}

export type Filter = { from: string; to: string; userId?: string | null; graphId?: string; graphVersion?: number; statuses?: string[] };

const FINISHED = new Set(['COMPLETED', 'FAILED', 'TERMINATED']);
const STATUSES = ['INCOMPLETE', 'QUEUED', 'RUNNING', 'COMPLETED', 'TERMINATED', 'FAILED', 'REVIEW'];

export function percentileCont(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = p * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

const durationOf = (r: { startedAt: Date | null; endedAt: Date | null }) => (r.startedAt && r.endedAt ? r.endedAt.getTime() - r.startedAt.getTime() : null);
const runDuration = (r: RunRow) => (FINISHED.has(r.status) ? durationOf(r) : null);
const defined = (values: Array<number | null>) => values.filter((v): v is number => v !== null);

export function matchingRuns(rows: Rows, f: Filter): RunRow[] {
  const from = Date.parse(f.from);
  const to = Date.parse(f.to);
  return rows.runs.filter(
    (r) =>
      !r.isDeleted &&
      r.createdAt.getTime() >= from &&
      r.createdAt.getTime() < to &&
      (!f.userId || r.userId === f.userId) &&
      (!f.graphId || r.graphId === f.graphId) &&
      (f.graphVersion === undefined || r.graphVersion === f.graphVersion) &&
      (!f.statuses || f.statuses.includes(r.status)),
  );
}

function rate(numerator: number, denominator: number): number | null {
  return denominator > 0 ? numerator / denominator : null;
}

/** Keys of the local calendar bucket of an instant (the offset disambiguates a repeated fall-back hour). */
const keyFormats = new Map<string, Intl.DateTimeFormat>();
function bucketKey(bucket: string, timeZone: string, at: number): string {
  let format = keyFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset' });
    keyFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  if (bucket === 'DAY') return date;
  if (bucket === 'HOUR') return `${date}T${parts.hour} ${parts.timeZoneName}`;
  const day = new Date(`${date}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
  return day.toISOString().slice(0, 10);
}

const STEP = 15 * 60_000;

/** Bucket starts covering [from, to) by scanning: a start is the first 15-minute grid instant with a new key. */
export function expectedBucketStarts(bucket: string, timeZone: string, from: number, to: number): Array<{ start: number; key: string }> {
  const scanFrom = Math.floor((from - 8 * 86_400_000) / STEP) * STEP;
  const starts: Array<{ start: number; key: string }> = [];
  let previous = '';
  for (let t = scanFrom; t < to; t += STEP) {
    const key = bucketKey(bucket, timeZone, t);
    if (key !== previous) starts.push({ start: t, key });
    previous = key;
  }
  // Keep the bucket containing `from` and every later one.
  const firstIndex = starts.findLastIndex((s) => s.start <= from);
  return starts.slice(firstIndex);
}

export function expectedStats(rows: Rows, f: Filter, options: { bucket: string; timezone: string; topBy: string; topLimit: number; blockLimit: number; minRuns: number }) {
  const runs = matchingRuns(rows, f);
  const count = (status: string) => runs.filter((r) => r.status === status).length;
  const finished = count('COMPLETED') + count('FAILED') + count('TERMINATED');
  const durations = defined(runs.map(runDuration));
  const cost = runs.reduce((s, r) => s + r.cost, 0);
  const runIds = new Set(runs.map((r) => r.id));
  const nodes = rows.nodes.filter((n) => runIds.has(n.graphExecutionId));

  const starts = expectedBucketStarts(options.bucket, options.timezone, Date.parse(f.from), Date.parse(f.to));
  const byKey = new Map(starts.map((s) => [s.key, [] as RunRow[]]));
  for (const r of runs) byKey.get(bucketKey(options.bucket, options.timezone, r.createdAt.getTime()))!.push(r);
  const timeSeries = starts.map((s) => {
    const inBucket = byKey.get(s.key)!;
    return {
      bucketStart: new Date(s.start).toISOString(),
      total: inBucket.length,
      completed: inBucket.filter((r) => r.status === 'COMPLETED').length,
      failed: inBucket.filter((r) => r.status === 'FAILED').length,
      p95DurationMs: percentileCont(defined(inBucket.map(runDuration)), 0.95),
      cost: inBucket.reduce((s2, r) => s2 + r.cost, 0),
    };
  });

  const graphs = new Map<string, RunRow[]>();
  for (const r of runs) {
    const list = graphs.get(r.graphId);
    if (list) list.push(r);
    else graphs.set(r.graphId, [r]);
  }
  const graphEntries = [...graphs].map(([graphId, list]) => {
    const completed = list.filter((r) => r.status === 'COMPLETED').length;
    return {
      graphId,
      runs: list.length,
      completed,
      failures: list.filter((r) => r.status === 'FAILED').length,
      successRate: rate(completed, list.filter((r) => FINISHED.has(r.status)).length),
      cost: list.reduce((s, r) => s + r.cost, 0),
      p95DurationMs: percentileCont(defined(list.map(runDuration)), 0.95),
    };
  });
  const metric = (e: (typeof graphEntries)[number]) =>
    options.topBy === 'RUNS' ? e.runs : options.topBy === 'FAILURES' ? e.failures : options.topBy === 'COST' ? e.cost : (e.p95DurationMs ?? -Infinity);
  graphEntries.sort((a, b) => metric(b) - metric(a) || (a.graphId < b.graphId ? -1 : 1));

  const blocks = new Map<string, NodeRow[]>();
  for (const n of nodes) {
    if (!FINISHED.has(n.status)) continue;
    const list = blocks.get(n.blockId);
    if (list) list.push(n);
    else blocks.set(n.blockId, [n]);
  }
  const blockEntries = [...blocks]
    .map(([blockId, list]) => {
      const failures = list.filter((n) => n.status === 'FAILED').length;
      return { blockId, runs: list.length, failures, failureRate: failures / list.length, p95DurationMs: percentileCont(defined(list.map(durationOf)), 0.95) };
    })
    .filter((b) => b.runs >= options.minRuns)
    .sort((a, b) => b.runs - a.runs || (a.blockId < b.blockId ? -1 : 1));

  return {
    total: runs.length,
    byStatus: STATUSES.map((status) => ({ status, count: count(status) })),
    successRate: rate(count('COMPLETED'), finished),
    duration: {
      count: durations.length,
      avgMs: durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : null,
      p50Ms: percentileCont(durations, 0.5),
      p90Ms: percentileCont(durations, 0.9),
      p95Ms: percentileCont(durations, 0.95),
      p99Ms: percentileCont(durations, 0.99),
      maxMs: durations.length ? Math.max(...durations) : null,
    },
    cost: { total: cost, avg: runs.length ? cost / runs.length : null },
    nodeExecutions: nodes.length,
    failedNodeExecutions: nodes.filter((n) => n.status === 'FAILED').length,
    timeSeries,
    topGraphs: graphEntries.slice(0, options.topLimit),
    blocks: blockEntries.slice(0, options.blockLimit),
  };
}

/** Graph.stats of one graph version. */
export function expectedGraphStats(rows: Rows, graph: { id: string; version: number }, f: { from: string; to: string; userId: string | null }) {
  const runs = matchingRuns(rows, { ...f, graphId: graph.id, graphVersion: graph.version });
  const completed = runs.filter((r) => r.status === 'COMPLETED').length;
  const last = runs.reduce<number | null>((max, r) => (max === null || r.createdAt.getTime() > max ? r.createdAt.getTime() : max), null);
  return {
    runs: runs.length,
    completed,
    failed: runs.filter((r) => r.status === 'FAILED').length,
    successRate: rate(completed, runs.filter((r) => FINISHED.has(r.status)).length),
    lastRunAt: last === null ? null : new Date(last).toISOString(),
    p95DurationMs: percentileCont(defined(runs.map(runDuration)), 0.95),
  };
}

/** Replaces floats by their value rounded to 6 significant digits, so sums computed in another order compare equal. */
export function rounded<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_key, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(9)) : v)) as T;
}
