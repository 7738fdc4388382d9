import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDatabase, type SeedSummary } from '../../src/seed/index.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { createApiKey } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectedGraphStats, expectedStats, readRows, rounded, type Filter, type Rows } from './expected.js';

const STATS = `query($filter: ExecutionStatsFilter!, $bucket: TimeBucket, $tz: String, $by: GraphStatsOrder, $top: Int, $blocks: Int, $minRuns: Int) {
  executionStats(filter: $filter, bucket: $bucket, timezone: $tz) {
    from to bucket timezone percentileRelativeError total byStatus { status count } successRate
    duration { count avgMs p50Ms p90Ms p95Ms p99Ms maxMs relativeError }
    cost { total avg } nodeExecutions failedNodeExecutions
    timeSeries { bucketStart total completed failed p95DurationMs cost }
    topGraphs(by: $by, limit: $top) { graph { id version isActive } runs completed failures successRate cost p95DurationMs }
    blocks(limit: $blocks, minRuns: $minRuns) { blockId runs failures failureRate p95DurationMs }
  }
}`;

const GRAPH_STATS = `query($from: DateTime!, $to: DateTime!, $filter: GraphFilter) {
  graphs(first: 50, filter: $filter) { nodes { id version stats(from: $from, to: $to) { from to runs completed failed successRate lastRunAt p95DurationMs } } }
}`;

const APPROXIMATE = new Set(['p50Ms', 'p90Ms', 'p95Ms', 'p99Ms', 'maxMs', 'p95DurationMs']);

/**
 * `actual` with each percentile or maximum replaced by the expected value when it lies within `error` of it (relative),
 * so that a deep comparison fails only on values outside the stated bound (and on everything else).
 */
function withinError(actual: unknown, expected: unknown, error: number): unknown {
  if (Array.isArray(actual) && Array.isArray(expected)) return actual.map((v, i) => withinError(v, expected[i], error));
  if (actual && expected && typeof actual === 'object' && typeof expected === 'object') {
    return Object.fromEntries(
      Object.entries(actual).map(([k, v]) => {
        const e = (expected as Record<string, unknown>)[k];
        if (APPROXIMATE.has(k) && typeof v === 'number' && typeof e === 'number') return [k, Math.abs(v - e) <= error * Math.abs(e) + 1e-9 ? e : v];
        return [k, withinError(v, e, error)];
      }),
    );
  }
  return actual;
}

type Stats = Record<string, unknown> & { total: number; timeSeries: Array<{ bucketStart: string }>; topGraphs: Array<{ graph: { id: string; version: number; isActive: boolean } } & Record<string, unknown>> };

// The seeded data spans 2026-01-24 .. 2026-11-20: both 2026 DST changes of America/New_York (03-08, 11-01).
const NOW = Date.parse('2026-11-20T00:00:00Z');
const FULL: Pick<Filter, 'from' | 'to'> = { from: '2026-01-01T00:00:00.000Z', to: '2026-11-21T00:00:00.000Z' };

describe.each(testDatabaseKinds)('executionStats on %s', (kind) => {
  let server: TestServer;
  let seed: SeedSummary;
  let rows: Rows;
  let keys: { admin: string; a: string; b: string };
  let ids: { a: string; b: string };

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    seed = await seedDatabase(server.db, { users: 3, graphsPerUser: 4, executions: 3000, sessions: 0, maxEventsPerSession: 1, seed: 11, days: 300, now: NOW });
    const [admin, a, b] = seed.apiKeys;
    keys = { admin: admin!.key, a: a!.key, b: b!.key };
    ids = { a: a!.userId, b: b!.userId };
    rows = await readRows(server.db);
  });
  afterAll(() => server?.close());

  async function stats(key: string, filter: Filter, options: { bucket?: string; timezone?: string; by?: string; top?: number; blocks?: number; minRuns?: number } = {}) {
    const res = await server.graphql<{ executionStats: Stats }>(
      STATS,
      { filter, bucket: options.bucket, tz: options.timezone, by: options.by, top: options.top ?? 100, blocks: options.blocks ?? 100, minRuns: options.minRuns },
      key,
    );
    expect(res.errors).toBeUndefined();
    return res.data!.executionStats;
  }

  async function compare(key: string, viewerId: string | null, filter: Filter, options: { bucket: string; timezone: string; by?: string; top?: number; blocks?: number; minRuns?: number }) {
    const actual = await stats(key, filter, options);
    const expected = expectedStats(rows, { ...filter, userId: filter.userId ?? viewerId }, {
      bucket: options.bucket,
      timezone: options.timezone,
      topBy: options.by ?? 'RUNS',
      topLimit: options.top ?? 100,
      blockLimit: options.blocks ?? 100,
      minRuns: options.minRuns ?? 1,
    });
    const { topGraphs, percentileRelativeError, ...rest } = actual;
    const graphs = rows.runs;
    // Every user's runs come from the rollups: percentiles within the error the answer states, all else exact.
    const wide = filter.userId === undefined && viewerId === null && filter.graphId === undefined;
    expect(percentileRelativeError).toBe(wide ? 0.02 : 0);
    expect((rest.duration as { relativeError: number }).relativeError).toBe(percentileRelativeError);
    const answer = { ...rest, topGraphs: topGraphs.map(({ graph, ...entry }) => ({ graphId: graph.id, ...entry })) };
    const wanted = { from: new Date(filter.from).toISOString(), to: new Date(filter.to).toISOString(), bucket: options.bucket, timezone: options.timezone, ...expected };
    expect(rounded(withinError(answer, { ...wanted, duration: { ...wanted.duration, relativeError: percentileRelativeError } }, percentileRelativeError as number))).toEqual(
      rounded({ ...wanted, duration: { ...wanted.duration, relativeError: percentileRelativeError } }),
    );
    // A ranking entry shows the filter's version, else the graph's current (active) version.
    for (const entry of topGraphs) {
      if (filter.graphVersion !== undefined) expect(entry.graph.version).toBe(filter.graphVersion);
      else expect(entry.graph.isActive).toBe(true);
      expect(graphs.some((r) => r.graphId === entry.graph.id)).toBe(true);
    }
    expect(actual.total).toBeGreaterThan(0);
    return actual;
  }

  it('matches an independent computation for a user, in UTC by day, every field', async () => {
    const actual = await compare(keys.a, ids.a, FULL, { bucket: 'DAY', timezone: 'UTC' });
    expect(actual.timeSeries).toHaveLength(324);
    expect(actual.timeSeries.some((p) => (p as unknown as { total: number }).total === 0)).toBe(true);
  });

  it('matches for the admin over every user (and one named user), ranked by each order', async () => {
    await compare(keys.admin, null, FULL, { bucket: 'WEEK', timezone: 'UTC', by: 'RUNS', top: 5, blocks: 5, minRuns: 10 });
    for (const by of ['FAILURES', 'COST', 'DURATION']) await compare(keys.admin, null, FULL, { bucket: 'WEEK', timezone: 'Asia/Kolkata', by, top: 7 });
    await compare(keys.admin, null, { ...FULL, userId: ids.b }, { bucket: 'DAY', timezone: 'UTC' });
  });

  it('follows America/New_York across both DST changes: 23- and 25-hour days, local-midnight starts', async () => {
    const actual = await compare(keys.admin, null, { from: '2026-03-01T05:00:00.000Z', to: '2026-11-08T05:00:00.000Z' }, { bucket: 'DAY', timezone: 'America/New_York' });
    const starts = actual.timeSeries.map((p) => Date.parse(p.bucketStart));
    const hours = (day: string) => {
      const i = actual.timeSeries.findIndex((p) => p.bucketStart === day);
      return (starts[i + 1]! - starts[i]!) / 3_600_000;
    };
    expect(hours('2026-03-08T05:00:00.000Z')).toBe(23);
    expect(hours('2026-11-01T04:00:00.000Z')).toBe(25);
    expect(hours('2026-03-09T04:00:00.000Z')).toBe(24);
  });

  it('hourly buckets in New York have 23 / 25 hours on the DST days; Kolkata hours start at :30 UTC', async () => {
    const fall = await compare(keys.admin, null, { from: '2026-10-31T04:00:00.000Z', to: '2026-11-02T05:00:00.000Z' }, { bucket: 'HOUR', timezone: 'America/New_York' });
    expect(fall.timeSeries.filter((p) => p.bucketStart >= '2026-11-01T04:00:00.000Z' && p.bucketStart < '2026-11-02T05:00:00.000Z')).toHaveLength(25);
    const spring = await compare(keys.admin, null, { from: '2026-03-07T05:00:00.000Z', to: '2026-03-09T04:00:00.000Z' }, { bucket: 'HOUR', timezone: 'America/New_York' });
    expect(spring.timeSeries.filter((p) => p.bucketStart >= '2026-03-08T05:00:00.000Z')).toHaveLength(23);
    const kolkata = await compare(keys.admin, null, { from: '2026-11-10T00:00:00.000Z', to: '2026-11-20T00:00:00.000Z' }, { bucket: 'HOUR', timezone: 'Asia/Kolkata' });
    expect(kolkata.timeSeries[0]!.bucketStart).toBe('2026-11-09T23:30:00.000Z');
    expect(kolkata.timeSeries.every((p) => p.bucketStart.slice(14) === '30:00.000Z')).toBe(true);
    await compare(keys.a, ids.a, { from: '2026-10-01T00:00:00.000Z', to: '2026-11-20T00:00:00.000Z' }, { bucket: 'WEEK', timezone: 'America/New_York' });
  });

  it('matches with graph, version and status filters', async () => {
    const [graphId, version] = mostRunGraph(rows, ids.a);
    await compare(keys.a, ids.a, { ...FULL, graphId }, { bucket: 'WEEK', timezone: 'Asia/Kolkata' });
    await compare(keys.a, ids.a, { ...FULL, graphId, graphVersion: version }, { bucket: 'DAY', timezone: 'America/New_York', by: 'COST' });
    await compare(keys.admin, null, { ...FULL, statuses: ['FAILED', 'TERMINATED'] }, { bucket: 'DAY', timezone: 'UTC', by: 'FAILURES' });
    await compare(keys.b, ids.b, { ...FULL, statuses: ['COMPLETED'], graphId: mostRunGraph(rows, ids.b)[0] }, { bucket: 'WEEK', timezone: 'UTC' });
  });

  it('Graph.stats matches per graph version, batched into one statement, scoped to the viewer', async () => {
    const range = { from: '2026-06-01T00:00:00.000Z', to: '2026-11-21T00:00:00.000Z' };
    for (const [key, userId] of [[keys.a, ids.a], [keys.admin, null]] as const) {
      const statements: string[] = [];
      const stop = server.db.onQuery((e) => statements.push(e.query));
      const res = await server.graphql<{ graphs: { nodes: Array<{ id: string; version: number; stats: Record<string, unknown> }> } }>(GRAPH_STATS, range, key);
      stop();
      expect(res.errors).toBeUndefined();
      const graphs = res.data!.graphs.nodes;
      expect(graphs.length).toBeGreaterThan(3);
      for (const g of graphs) {
        expect(rounded(g.stats)).toEqual(rounded({ ...range, ...expectedGraphStats(rows, g, { ...range, userId }) }));
      }
      expect(graphs.some((g) => (g.stats.runs as number) > 0)).toBe(true);
      expect(statements.filter((q) => q.includes('percentile_cont'))).toHaveLength(1);
    }
    // Admins see every user's runs of a graph; the owner only their own (here: the same, as runs are the owner's).
    const other = await server.graphql<{ graphs: { nodes: Array<{ stats: { runs: number } }> } }>(GRAPH_STATS, range, server.apiKey);
    expect(other.data!.graphs.nodes.every((g) => g.stats.runs === 0)).toBe(true);
  });

  it('counts a run finished through updateGraphExecution in the very next query; deleted runs never count', async () => {
    const graph = await server.db.prisma.graph.findFirstOrThrow({ where: { userId: ids.a, isActive: true } });
    const window = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() };
    const summary = () => stats(keys.a, window, { bucket: 'HOUR' }) as Promise<Stats & { byStatus: Array<{ status: string; count: number }>; duration: { count: number } }>;
    const before = await summary();
    const run = await server.graphql<{ executeGraph: { graphExecution: { id: string } } }>(
      'mutation($id: ID!) { executeGraph(graphId: $id) { graphExecution { id } } }',
      { id: graph.id },
      keys.a,
    );
    const runId = run.data!.executeGraph.graphExecution.id;
    const update = (status: string) =>
      server.graphql('mutation($id: ID!, $s: ExecutionStatus!) { updateGraphExecution(id: $id, status: $s) { graphExecution { status } } }', { id: runId, s: status }, keys.a);
    const nodeIds = await server.db.prisma.nodeExecution.findMany({ where: { graphExecutionId: runId }, select: { id: true, nodeId: true, node: { select: { blockId: true } } } });
    const updateNode = (id: string, status: string) =>
      server.graphql('mutation($id: ID!, $s: ExecutionStatus!) { updateNodeExecution(id: $id, status: $s) { nodeExecution { status } } }', { id, s: status }, keys.a);
    expect((await update('RUNNING')).errors).toBeUndefined();
    for (const status of ['QUEUED', 'RUNNING', 'FAILED']) expect((await updateNode(nodeIds[0]!.id, status)).errors).toBeUndefined();
    expect((await update('COMPLETED')).errors).toBeUndefined();
    const after = await summary();
    expect(after.total).toBe(before.total + 1);
    // Node-level figures follow at once too: the run's node executions and the failed node's block.
    expect(after.nodeExecutions).toBe((before.nodeExecutions as number) + nodeIds.length);
    expect(after.failedNodeExecutions).toBe((before.failedNodeExecutions as number) + 1);
    const blockOf = (s: Stats) => (s.blocks as Array<{ blockId: string; runs: number; failures: number }>).find((b) => b.blockId === nodeIds[0]!.node.blockId);
    expect(blockOf(after)).toMatchObject({ runs: (blockOf(before)?.runs ?? 0) + 1, failures: (blockOf(before)?.failures ?? 0) + 1 });
    expect(after.byStatus.find((s) => s.status === 'COMPLETED')!.count).toBe(before.byStatus.find((s) => s.status === 'COMPLETED')!.count + 1);
    expect(after.duration.count).toBe(before.duration.count + 1);
    const deleted = await server.graphql('mutation($id: ID!) { deleteGraphExecution(id: $id) { deletedGraphExecutionId } }', { id: runId }, keys.a);
    expect(deleted.errors).toBeUndefined();
    expect(rounded(await summary())).toEqual(rounded(before));
    // The seeded data has deleted runs, which the comparisons above already exclude.
    expect(rows.runs.some((r) => r.isDeleted)).toBe(true);
    // Every node execution's copies of its run's and node's fields (seeded by COPY, created by executeGraph,
    // soft-deleted through the run, inserted without them) agree with the run and node.
    const bare = await server.db.prisma.nodeExecution.create({ data: { graphExecutionId: runId, nodeId: nodeIds[1]!.nodeId } });
    expect(bare).toMatchObject({ userId: ids.a, runIsDeleted: true, blockId: nodeIds[1]!.node.blockId });
    const [outOfStep] = await server.db.prisma.$queryRaw<Array<{ n: number }>>`
      SELECT count(*)::int AS n FROM node_executions n
        JOIN graph_executions e ON e.id = n.graph_execution_id JOIN nodes nd ON nd.id = n.node_id
       WHERE n.user_id IS DISTINCT FROM e.user_id OR n.run_created_at IS DISTINCT FROM e.created_at
          OR n.run_is_deleted IS DISTINCT FROM e.is_deleted OR n.block_id IS DISTINCT FROM nd.block_id`;
    expect(outOfStep!.n).toBe(0);
  });

  it('authorizes: own data only, admin any user, FORBIDDEN for another user, READ_GRAPHS required', async () => {
    const forB = await server.graphql(STATS, { filter: { ...FULL, userId: ids.b } }, keys.a);
    expect(forB.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const own = await server.graphql<{ executionStats: { total: number } }>('query($f: ExecutionStatsFilter!) { executionStats(filter: $f) { total } }', { f: { ...FULL, userId: ids.a } }, keys.a);
    expect(own.data!.executionStats.total).toBe(expectedStats(rows, { ...FULL, userId: ids.a }, { bucket: 'DAY', timezone: 'UTC', topBy: 'RUNS', topLimit: 1, blockLimit: 1, minRuns: 1 }).total);
    const noRead = await createApiKey(server.db, ids.a, ['EXECUTE_GRAPHS']);
    const refused = await server.graphql('query($f: ExecutionStatsFilter!) { executionStats(filter: $f) { total } }', { f: FULL }, noRead.key);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await server.graphql('query($f: ExecutionStatsFilter!) { executionStats(filter: $f) { total } }', { f: FULL }, null);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const graphStatsNoRead = await server.graphql(GRAPH_STATS, FULL, noRead.key);
    expect(graphStatsNoRead.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it.each([
    ['a range over 400 days', { filter: { from: '2025-01-01T00:00:00Z', to: '2026-02-06T00:00:01Z' } }],
    ['to before from', { filter: { from: '2026-05-01T00:00:00Z', to: '2026-04-01T00:00:00Z' } }],
    ['an empty range', { filter: { from: '2026-05-01T00:00:00Z', to: '2026-05-01T00:00:00Z' } }],
    ['an unknown timezone', { filter: FULL, tz: 'Mars/Olympus_Mons' }],
    ['a malformed timezone', { filter: FULL, tz: "UTC'; drop table users; --" }],
    ['a bad user id', { filter: { ...FULL, userId: 'nope' } }],
    ['a bad graph id', { filter: { ...FULL, graphId: 'nope' } }],
    ['topGraphs limit over the cap', { filter: FULL, top: 101 }],
    ['blocks limit over the cap', { filter: FULL, blocks: 1000 }],
    ['a zero limit', { filter: FULL, top: 0 }],
  ])('refuses %s with BAD_USER_INPUT', async (_name, variables) => {
    const res = await server.graphql(STATS, variables, keys.admin);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a Graph.stats range over 400 days with BAD_USER_INPUT', async () => {
    const res = await server.graphql(GRAPH_STATS, { from: '2025-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' }, keys.a);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('computes only the selected fields', async () => {
    const statements: string[] = [];
    const stop = server.db.onQuery((e) => statements.push(e.query));
    const res = await server.graphql('query($f: ExecutionStatsFilter!) { executionStats(filter: $f) { total successRate byStatus { count } cost { total } } }', { f: FULL }, keys.admin);
    stop();
    expect(res.errors).toBeUndefined();
    expect(statements.filter((q) => q.includes('graph_executions'))).toHaveLength(1);
    expect(statements.some((q) => q.includes('percentile_cont') || q.includes('node_executions'))).toBe(false);
  });
});

function mostRunGraph(rows: Rows, userId: string): [string, number] {
  const counts = new Map<string, number>();
  for (const r of rows.runs) if (r.userId === userId) counts.set(`${r.graphId}|${r.graphVersion}`, (counts.get(`${r.graphId}|${r.graphVersion}`) ?? 0) + 1);
  const [key] = [...counts].sort((x, y) => y[1] - x[1])[0]!;
  const [graphId, version] = key.split('|');
  return [graphId!, Number(version)];
}
