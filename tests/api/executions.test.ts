import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../helpers/databases.js';
import { createGraph, createRuns } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';

const EXECUTE = 'mutation($id: ID!, $v: Int, $inputs: JSONObject) { executeGraph(graphId: $id, version: $v, inputs: $inputs) { graphExecution { id status graphVersion inputs startedAt nodeExecutions(first: 100) { totalCount nodes { id status node { label } } } } } }';
const UPDATE_RUN = 'mutation($id: ID!, $status: ExecutionStatus!, $outputs: JSON, $stats: JSONObject, $error: String) { updateGraphExecution(id: $id, status: $status, outputs: $outputs, stats: $stats, errorMessage: $error) { graphExecution { id status startedAt endedAt durationMs outputs errorMessage cost } } }';
const UPDATE_NODE = 'mutation($id: ID!, $status: ExecutionStatus!, $cost: NonNegativeInt, $outputs: JSON) { updateNodeExecution(id: $id, status: $status, cost: $cost, outputs: $outputs) { nodeExecution { id status queuedAt startedAt endedAt cost graphExecution { cost } } } }';

type Run = { id: string; status: string; graphVersion: number; inputs: unknown; startedAt: string | null; endedAt: string | null; durationMs: number | null; cost: number; nodeExecutions: { totalCount: number; nodes: Array<{ id: string; status: string; node: { label: string } }> } };

describe.each(testDatabaseKinds)('graph executions on %s', (kind) => {
  let server: TestServer;
  let graphId: string;

  const execute = async (variables: Record<string, unknown> = {}) => {
    const res = await server.graphql<{ executeGraph: { graphExecution: Run } }>(EXECUTE, { id: graphId, ...variables });
    expect(res.errors).toBeUndefined();
    return res.data!.executeGraph.graphExecution;
  };

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    graphId = (await createGraph(server.db, server.userId, { name: 'Runner' })).graph.id;
    await createGraph(server.db, server.userId, { name: 'Runner v2', version: 2, isActive: false }, graphId);
  });
  afterAll(() => server?.close());

  it('queues a run of the active version with an INCOMPLETE node execution per node', async () => {
    const run = await execute({ inputs: { topic: 'agents' } });
    expect(run).toMatchObject({ status: 'QUEUED', graphVersion: 1, inputs: { topic: 'agents' }, startedAt: null });
    expect(run.nodeExecutions.totalCount).toBe(3);
    expect(run.nodeExecutions.nodes.map((n) => n.status)).toEqual(['INCOMPLETE', 'INCOMPLETE', 'INCOMPLETE']);
    const stored = await server.db.prisma.graphExecution.findUniqueOrThrow({ where: { id: run.id }, include: { nodeExecutions: true } });
    expect(stored.userId).toBe(server.userId);
    expect(stored.nodeExecutions).toHaveLength(3);
    const pinned = await execute({ v: 2 });
    expect(pinned.graphVersion).toBe(2);
  });

  it('walks the legal transitions, setting timestamps and summing node costs into the run', async () => {
    const run = await execute();
    const running = await server.graphql<{ updateGraphExecution: { graphExecution: Run } }>(UPDATE_RUN, { id: run.id, status: 'RUNNING' });
    expect(running.data!.updateGraphExecution.graphExecution.startedAt).not.toBeNull();

    const [first, second] = run.nodeExecutions.nodes;
    for (const status of ['QUEUED', 'RUNNING']) await server.graphql(UPDATE_NODE, { id: first!.id, status });
    const done = await server.graphql<{ updateNodeExecution: { nodeExecution: { status: string; queuedAt: string; startedAt: string; endedAt: string; graphExecution: { cost: number } } } }>(
      UPDATE_NODE,
      { id: first!.id, status: 'COMPLETED', cost: 7, outputs: { text: 'hi' } },
    );
    expect(done.errors).toBeUndefined();
    const node = done.data!.updateNodeExecution.nodeExecution;
    expect(node.queuedAt && node.startedAt && node.endedAt).toBeTruthy();
    expect(node.graphExecution.cost).toBe(7);
    await server.graphql(UPDATE_NODE, { id: second!.id, status: 'RUNNING' });
    await server.graphql(UPDATE_NODE, { id: second!.id, status: 'FAILED', cost: 5 });

    const review = await server.graphql(UPDATE_RUN, { id: run.id, status: 'REVIEW' });
    expect(review.errors).toBeUndefined();
    await server.graphql(UPDATE_RUN, { id: run.id, status: 'RUNNING' });
    const finished = await server.graphql<{ updateGraphExecution: { graphExecution: Run } }>(UPDATE_RUN, {
      id: run.id,
      status: 'FAILED',
      outputs: { partial: true },
      stats: { walltime: 1.5 },
      error: 'llm timed out',
    });
    const final = finished.data!.updateGraphExecution.graphExecution;
    expect(final).toMatchObject({ status: 'FAILED', cost: 12, errorMessage: 'llm timed out', outputs: { partial: true } });
    expect(final.durationMs).toBe(Date.parse(final.endedAt!) - Date.parse(final.startedAt!));
    expect(final.startedAt).toBe(running.data!.updateGraphExecution.graphExecution.startedAt);
    const stored = await server.db.prisma.graphExecution.findUniqueOrThrow({ where: { id: run.id } });
    expect(stored.stats).toEqual({ walltime: 1.5 });
  });

  it.each([
    ['QUEUED', 'COMPLETED'],
    ['QUEUED', 'REVIEW'],
    ['QUEUED', 'QUEUED'],
    ['QUEUED', 'INCOMPLETE'],
  ])('refuses %s → %s with CONFLICT and changes nothing', async (_from, to) => {
    const run = await execute();
    const before = await snapshotDatabase(server.db);
    const res = await server.graphql(UPDATE_RUN, { id: run.id, status: to, error: 'x' });
    expect(res.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await snapshotDatabase(server.db)).toEqual(before);
  });

  it('refuses any transition out of a finished run, and illegal node transitions', async () => {
    const run = await execute();
    await server.graphql(UPDATE_RUN, { id: run.id, status: 'TERMINATED' });
    const before = await snapshotDatabase(server.db);
    for (const status of ['RUNNING', 'COMPLETED', 'QUEUED']) {
      const res = await server.graphql(UPDATE_RUN, { id: run.id, status });
      expect(res.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    }
    const node = run.nodeExecutions.nodes[0]!;
    const skip = await server.graphql(UPDATE_NODE, { id: node.id, status: 'COMPLETED', cost: 3 });
    expect(skip.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await snapshotDatabase(server.db)).toEqual(before);
  });

  it('reads JSON payloads only when asked, and never serves a row read without them to a field that asks', async () => {
    const run = await execute({ inputs: { topic: 'payloads' } });
    const statements: string[] = [];
    const stop = server.db.onQuery((e) => statements.push(e.query));
    const res = await server.graphql<{ graph: { executions: { nodes: Array<{ id: string }> } }; graphExecution: { inputs: unknown } }>(
      'query($g: ID!, $id: ID!) { graph(id: $g) { executions(first: 50) { nodes { id status } } } graphExecution(id: $id) { inputs } }',
      { g: graphId, id: run.id },
    );
    stop();
    expect(res.errors).toBeUndefined();
    expect(res.data!.graph.executions.nodes.map((n) => n.id)).toContain(run.id);
    expect(res.data!.graphExecution.inputs).toEqual({ topic: 'payloads' });
    // The list's statement reads no payload column (its rows leave them out); the run by id reads them.
    expect(statements.some((q) => q.includes('FROM graph_executions e') && !q.includes('e.inputs'))).toBe(true);
    expect(statements.some((q) => q.includes('e.inputs'))).toBe(true);
  });

  it('lets exactly one of two racing transitions win', async () => {
    const run = await execute();
    await server.graphql(UPDATE_RUN, { id: run.id, status: 'RUNNING' });
    const results = await Promise.all([
      server.graphql(UPDATE_RUN, { id: run.id, status: 'COMPLETED' }),
      server.graphql(UPDATE_RUN, { id: run.id, status: 'FAILED' }),
    ]);
    const codes = results.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK').sort();
    expect(codes).toEqual(['CONFLICT', 'OK']);
  });

  it('rejects bad executor input with BAD_USER_INPUT', async () => {
    const run = await execute();
    const before = await snapshotDatabase(server.db);
    const nul = await server.graphql(UPDATE_RUN, { id: run.id, status: 'RUNNING', outputs: { text: 'a\u0000b' } });
    expect(nul.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const negative = await server.graphql(UPDATE_NODE, { id: run.nodeExecutions.nodes[0]!.id, status: 'QUEUED', cost: -1 });
    expect(negative.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await snapshotDatabase(server.db)).toEqual(before);
  });

  it('hides soft-deleted runs from lists and lookups but keeps the row', async () => {
    const run = await execute();
    const res = await server.graphql<{ deleteGraphExecution: { deletedGraphExecutionId: string } }>('mutation($id: ID!) { deleteGraphExecution(id: $id) { deletedGraphExecutionId } }', { id: run.id });
    expect(res.data?.deleteGraphExecution.deletedGraphExecutionId).toBe(run.id);
    expect((await server.db.prisma.graphExecution.findUniqueOrThrow({ where: { id: run.id } })).isDeleted).toBe(true);
    const lookup = await server.graphql('query($id: ID!) { graphExecution(id: $id) { id } }', { id: run.id });
    expect(lookup.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const list = await server.graphql<{ graphExecutions: { nodes: Array<{ id: string }> } }>('{ graphExecutions(first: 100) { nodes { id } } }');
    expect(list.data!.graphExecutions.nodes.map((n) => n.id)).not.toContain(run.id);
    const again = await server.graphql('mutation($id: ID!) { deleteGraphExecution(id: $id) { deletedGraphExecutionId } }', { id: run.id });
    expect(again.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe.each(testDatabaseKinds)('listing graph executions on %s', (kind) => {
  let server: TestServer;
  let graphA: string;
  let graphB: string;
  const base = Date.parse('2026-03-01T00:00:00Z');
  const LIST = 'query($first: Int, $after: String, $filter: GraphExecutionFilter, $orderBy: GraphExecutionOrder) { graphExecutions(first: $first, after: $after, filter: $filter, orderBy: $orderBy) { totalCount pageInfo { hasNextPage endCursor } nodes { id status createdAt graph { id } graphVersion } } }';
  type Page = { graphExecutions: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Array<{ id: string; status: string; createdAt: string; graph: { id: string }; graphVersion: number }> } };
  const statuses = ['COMPLETED', 'FAILED', 'RUNNING', 'QUEUED', 'COMPLETED'] as const;

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    graphA = (await createGraph(server.db, server.userId)).graph.id;
    graphB = (await createGraph(server.db, server.userId)).graph.id;
    await createGraph(server.db, server.userId, { version: 2, isActive: false }, graphA);
    const rows = Array.from({ length: 25 }, (_, i) => ({
      graphId: i % 2 ? graphB : graphA,
      version: i % 5 === 0 && i % 2 === 0 ? 2 : 1,
      userId: server.userId,
      status: statuses[i % 5]!,
      // Pairs share a timestamp so the id tie-breaker matters.
      createdAt: new Date(base + Math.floor(i / 2) * 3_600_000),
      startedAt: i % 5 === 3 ? null : new Date(base + Math.floor(i / 2) * 3_600_000 + 1000),
      isDeleted: i === 24,
    }));
    await createRuns(server.db, rows);
  });
  afterAll(() => server?.close());

  it('pages newest first without gaps or duplicates, and oldest first when asked', async () => {
    for (const direction of ['DESC', 'ASC']) {
      const ids: string[] = [];
      const times: number[] = [];
      let after: string | null = null;
      for (;;) {
        const res: Awaited<ReturnType<typeof server.graphql<Page>>> = await server.graphql<Page>(LIST, { first: 7, after, orderBy: { direction } });
        const page = res.data!.graphExecutions;
        expect(page.totalCount).toBe(24);
        ids.push(...page.nodes.map((n) => n.id));
        times.push(...page.nodes.map((n) => Date.parse(n.createdAt)));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(new Set(ids).size).toBe(24);
      const sorted = [...times].sort((a, b) => (direction === 'DESC' ? b - a : a - b));
      expect(times).toEqual(sorted);
    }
  });

  it('filters by graph, version, statuses and time ranges', async () => {
    const count = async (filter: Record<string, unknown>) => (await server.graphql<Page>(LIST, { first: 100, filter })).data!.graphExecutions;
    expect((await count({ graphId: graphA })).nodes.every((n) => n.graph.id === graphA)).toBe(true);
    expect((await count({ graphId: graphA })).totalCount).toBe(12);
    expect((await count({ graphId: graphA, graphVersion: 2 })).totalCount).toBe(3);
    expect((await count({ statuses: ['FAILED', 'RUNNING'] })).totalCount).toBe(10);
    const created = await count({ createdAt: { from: new Date(base + 2 * 3_600_000).toISOString(), to: new Date(base + 4 * 3_600_000).toISOString() } });
    expect(created.totalCount).toBe(4);
    const started = await count({ startedAt: { from: new Date(base).toISOString() } });
    expect(started.totalCount).toBe(24 - 5);
    const bad = await server.graphql(LIST, { filter: { createdAt: { from: new Date(base + 1000).toISOString(), to: new Date(base).toISOString() } } });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('pages nested node executions and graph executions per graph', async () => {
    const run = await server.graphql<{ executeGraph: { graphExecution: { id: string } } }>('mutation($id: ID!) { executeGraph(graphId: $id) { graphExecution { id } } }', { id: graphB });
    const id = run.data!.executeGraph.graphExecution.id;
    const first = await server.graphql<{ graphExecution: { nodeExecutions: { totalCount: number; pageInfo: { endCursor: string }; nodes: Array<{ id: string }> } } }>(
      'query($id: ID!, $after: String) { graphExecution(id: $id) { nodeExecutions(first: 2, after: $after) { totalCount pageInfo { endCursor hasNextPage } nodes { id } } } }',
      { id },
    );
    const page1 = first.data!.graphExecution.nodeExecutions;
    expect(page1.totalCount).toBe(3);
    const second = await server.graphql<{ graphExecution: { nodeExecutions: { nodes: Array<{ id: string }> } } }>(
      'query($id: ID!, $after: String) { graphExecution(id: $id) { nodeExecutions(first: 2, after: $after) { nodes { id } } } }',
      { id, after: page1.pageInfo.endCursor },
    );
    expect([...page1.nodes, ...second.data!.graphExecution.nodeExecutions.nodes].map((n) => n.id)).toHaveLength(3);

    const perGraph = await server.graphql<{ graphs: { nodes: Array<{ id: string; executions: { totalCount: number; nodes: Array<{ graph: { id: string } }> } }> } }>(
      '{ graphs(first: 10) { nodes { id executions(first: 3, filter: { statuses: [COMPLETED, QUEUED] }) { totalCount nodes { graph { id } } } } } }',
    );
    for (const graph of perGraph.data!.graphs.nodes) {
      expect(graph.executions.nodes.length).toBeLessThanOrEqual(3);
      expect(graph.executions.nodes.every((n) => n.graph.id === graph.id)).toBe(true);
    }
    const a = perGraph.data!.graphs.nodes.find((g) => g.id === graphA)!;
    // Version 1 of graph A: rows 4, 8, 12, 14, 16, 18, 22 (even i, not a multiple of 10, excluding deleted 24) with status COMPLETED/QUEUED.
    expect(a.executions.totalCount).toBe(4);
  });
});
