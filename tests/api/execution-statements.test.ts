import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../helpers/databases.js';
import { createGraph, createUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';

/**
 * Statements per request of the execution hot paths, and the behaviour the one-statement writes must keep. The test
 * server reads the API key on every request (its key cache is off): that is the first statement of each count.
 */
const RUN_FIELDS = 'id graphVersion status inputs outputs stats cost errorMessage createdAt startedAt endedAt durationMs';
const NODE_EXECUTION_FIELDS = 'id status inputs outputs stats cost errorMessage addedAt queuedAt startedAt endedAt durationMs';
const EXECUTE = `mutation($id: ID!, $v: Int, $inputs: JSONObject) { executeGraph(graphId: $id, version: $v, inputs: $inputs) { graphExecution { ${RUN_FIELDS} } } }`;
const UPDATE_RUN = `mutation($id: ID!, $status: ExecutionStatus!, $outputs: JSON, $stats: JSONObject, $error: String) {
  updateGraphExecution(id: $id, status: $status, outputs: $outputs, stats: $stats, errorMessage: $error) { graphExecution { ${RUN_FIELDS} } } }`;
const UPDATE_NODE = `mutation($id: ID!, $status: ExecutionStatus!, $cost: NonNegativeInt, $outputs: JSON, $inputs: JSONObject, $error: String) {
  updateNodeExecution(id: $id, status: $status, cost: $cost, outputs: $outputs, inputs: $inputs, errorMessage: $error) {
    nodeExecution { ${NODE_EXECUTION_FIELDS} graphExecution { ${RUN_FIELDS} } } } }`;
const READ_RUN = `query($id: ID!) { graphExecution(id: $id) { ${RUN_FIELDS} } }`;
const READ_NODE_EXECUTION = `query($id: ID!) { nodeExecution(id: $id) { ${NODE_EXECUTION_FIELDS} graphExecution { ${RUN_FIELDS} } } }`;
/** Question b of bench/compare: one run with its node executions and each one's node. */
const QUESTION_B = `query($id: ID!) { graphExecution(id: $id) { id status createdAt cost
  nodeExecutions(first: 100) { nodes { id status startedAt endedAt cost node { blockId } } } } }`;
const RUN_WITH_NODES = `query($id: ID!, $first: Int, $after: String, $filter: NodeExecutionFilter) { graphExecution(id: $id) {
  nodeExecutions(first: $first, after: $after, filter: $filter) { pageInfo { hasNextPage endCursor }
    edges { node { id nodeId: node { id } } } nodes { id status node { id blockId label nodeType inputDefault metadata } } } } }`;

type Run = { id: string; graphVersion: number; status: string; inputs: unknown; cost: number; createdAt: string; startedAt: string | null; endedAt: string | null };
type NodeExecution = { id: string; status: string; cost: number; queuedAt: string | null; startedAt: string | null; endedAt: string | null; graphExecution: Run };

describe.each(testDatabaseKinds)('statements of the execution hot paths on %s', (kind) => {
  let server: TestServer;
  let graphId: string;
  let otherGraphId: string;
  let adminKey: string;
  let adminId: string;

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    graphId = (await createGraph(server.db, server.userId, { name: 'Hot path' })).graph.id;
    await createGraph(server.db, server.userId, { name: 'Hot path v2', version: 2, isActive: false, nodes: [{ key: 'only', blockId: 'v2-block' }] }, graphId);
    const other = await createUser(server.db);
    otherGraphId = (await createGraph(server.db, other.user.id, { name: 'Not yours' })).graph.id;
    const admin = await createUser(server.db, { admin: true });
    adminKey = admin.apiKey;
    adminId = admin.user.id;
    // Records the keys' first use now, so measured requests do not write lastUsedAt.
    await server.graphql('{ viewer { id } }');
    await server.graphql('{ viewer { id } }', undefined, adminKey);
    await new Promise((resolve) => setTimeout(resolve, 200));
  });
  afterAll(() => server?.close());

  const measure = async <T>(query: string, variables: Record<string, unknown>, key?: string) => {
    const statements: string[] = [];
    const stop = server.db.onQuery((event) => statements.push(event.query));
    try {
      const res = await server.graphql<T>(query, variables, key);
      return { res, statements };
    } finally {
      stop();
    }
  };
  const ok = async <T>(query: string, variables: Record<string, unknown>, key?: string) => {
    const res = await server.graphql<T>(query, variables, key);
    expect(res.errors).toBeUndefined();
    return res.data!;
  };
  const execute = async (variables: Record<string, unknown> = {}) => (await ok<{ executeGraph: { graphExecution: Run } }>(EXECUTE, { id: graphId, ...variables })).executeGraph.graphExecution;
  const nodeExecutionsOf = async (runId: string) =>
    (await ok<{ graphExecution: { nodeExecutions: { nodes: Array<{ id: string }> } } }>(RUN_WITH_NODES, { id: runId, first: 100 })).graphExecution.nodeExecutions.nodes.map((n) => n.id);

  // A version stored without the catalogue's check (as these fixtures are) runs unchecked; a checked one found runnable
  // takes the same one statement (tests/blocks/enforcement.test.ts).
  it('executeGraph: the key, then one statement that picks the version and writes the run and its node executions', async () => {
    const { res, statements } = await measure<{ executeGraph: { graphExecution: Run } }>(EXECUTE, { id: graphId, inputs: { topic: 'count' } });
    expect(res.errors).toBeUndefined();
    expect(statements, statements.join('\n---\n')).toHaveLength(2);
    expect(statements.some((q) => /^\s*(BEGIN|COMMIT)/i.test(q))).toBe(false);
    const run = res.data!.executeGraph.graphExecution;
    expect(run).toMatchObject({ status: 'QUEUED', graphVersion: 1, inputs: { topic: 'count' }, outputs: null, stats: null, cost: 0, errorMessage: null, startedAt: null, endedAt: null, durationMs: null });
    // The payload, answered from the written row, is exactly what a later read answers.
    expect((await ok<{ graphExecution: Run }>(READ_RUN, { id: run.id })).graphExecution).toEqual(run);
  });

  it('updateGraphExecution: the key, then one compare-and-set UPDATE … RETURNING that checks access and the transition', async () => {
    const run = await execute();
    const { res, statements } = await measure<{ updateGraphExecution: { graphExecution: Run } }>(UPDATE_RUN, { id: run.id, status: 'RUNNING', stats: { step: 1 } });
    expect(res.errors).toBeUndefined();
    expect(statements, statements.join('\n---\n')).toHaveLength(2);
    const updated = res.data!.updateGraphExecution.graphExecution;
    expect(updated).toMatchObject({ status: 'RUNNING', stats: { step: 1 } });
    expect(updated.startedAt).not.toBeNull();
    expect((await ok<{ graphExecution: Run }>(READ_RUN, { id: run.id })).graphExecution).toEqual(updated);
  });

  it('updateNodeExecution: the key, the node execution with its run, one statement for the change and the cost roll-up', async () => {
    const run = await execute();
    const [nodeExecutionId] = await nodeExecutionsOf(run.id);
    await ok(UPDATE_NODE, { id: nodeExecutionId, status: 'RUNNING' });
    const { res, statements } = await measure<{ updateNodeExecution: { nodeExecution: NodeExecution } }>(UPDATE_NODE, { id: nodeExecutionId, status: 'COMPLETED', cost: 9, outputs: { text: 'done' } });
    expect(res.errors).toBeUndefined();
    expect(statements, statements.join('\n---\n')).toHaveLength(3);
    const updated = res.data!.updateNodeExecution.nodeExecution;
    expect(updated).toMatchObject({ status: 'COMPLETED', cost: 9, graphExecution: { cost: 9 } });
    expect(updated.startedAt && updated.endedAt).toBeTruthy();
    expect((await ok<{ nodeExecution: NodeExecution }>(READ_NODE_EXECUTION, { id: nodeExecutionId })).nodeExecution).toEqual(updated);

    // Without a cost change the run is not written; the payload's run is the one read for the check.
    const [, second] = await nodeExecutionsOf(run.id);
    const quiet = await measure<{ updateNodeExecution: { nodeExecution: NodeExecution } }>(UPDATE_NODE, { id: second, status: 'QUEUED' });
    expect(quiet.res.errors).toBeUndefined();
    expect(quiet.statements, quiet.statements.join('\n---\n')).toHaveLength(3);
    expect(quiet.res.data!.updateNodeExecution.nodeExecution.queuedAt).not.toBeNull();
    expect(quiet.res.data!.updateNodeExecution.nodeExecution.graphExecution.cost).toBe(9);
  });

  it('question b: the key, then the run with its node executions and their nodes in one statement', async () => {
    const run = await execute();
    const { res, statements } = await measure<{ graphExecution: { nodeExecutions: { nodes: Array<{ node: { blockId: string } }> } } }>(QUESTION_B, { id: run.id });
    expect(res.errors).toBeUndefined();
    expect(statements, statements.join('\n---\n')).toHaveLength(2);
    expect(res.data!.graphExecution.nodeExecutions.nodes.map((n) => n.node.blockId).sort()).toEqual(['block-in', 'block-llm', 'block-out']);
  });

  it('executeGraph picks the active version, or the one asked for, and refuses graphs the viewer cannot see', async () => {
    const pinned = await execute({ v: 2 });
    expect(pinned.graphVersion).toBe(2);
    expect(await nodeExecutionsOf(pinned.id)).toHaveLength(1);
    const before = await snapshotDatabase(server.db);
    for (const variables of [{ id: otherGraphId }, { id: graphId, v: 3 }, { id: otherGraphId, inputs: { bad: 'a\u0000b' } }, { id: 'not-a-uuid' }]) {
      const res = await server.graphql(EXECUTE, variables);
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe('NOT_FOUND');
    }
    const bad = await server.graphql(EXECUTE, { id: graphId, inputs: { bad: 'a\u0000b' } });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await snapshotDatabase(server.db)).toEqual(before);

    // An admin runs anyone's graph, as themselves.
    const admin = await ok<{ executeGraph: { graphExecution: Run } }>(EXECUTE, { id: otherGraphId }, adminKey);
    const stored = await server.db.prisma.graphExecution.findUniqueOrThrow({ where: { id: admin.executeGraph.graphExecution.id } });
    expect(stored).toMatchObject({ graphId: otherGraphId, userId: adminId });
    const mine = await server.db.prisma.graphExecution.findUniqueOrThrow({ where: { id: pinned.id } });
    expect(mine).toMatchObject({ graphId, graphVersion: 2, userId: server.userId });
  });

  it("executeGraph writes the node executions' copies of their run and node, so the fill trigger has nothing to do", async () => {
    const run = await execute();
    const rows = await server.db.prisma.nodeExecution.findMany({ where: { graphExecutionId: run.id }, include: { node: true, graphExecution: true } });
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row).toMatchObject({ status: 'INCOMPLETE', inputs: {}, userId: row.graphExecution.userId, runIsDeleted: false, blockId: row.node.blockId });
      expect(row.runCreatedAt).toEqual(row.graphExecution.createdAt);
    }
    expect(rows[0]!.graphExecution.updatedAt).toEqual(rows[0]!.graphExecution.createdAt);
  });

  it('explains a change that did not apply: NOT_FOUND for others and missing runs, CONFLICT with the reason, arguments after both', async () => {
    const run = await execute();
    const mine = (status: string, extra: Record<string, unknown> = {}, key?: string) => server.graphql(UPDATE_RUN, { id: run.id, status, ...extra }, key);
    const stranger = await createUser(server.db);
    const before = await snapshotDatabase(server.db);
    for (const [status, extra, key, code] of [
      ['RUNNING', {}, stranger.apiKey, 'NOT_FOUND'],
      ['RUNNING', { outputs: 'a\u0000b' }, stranger.apiKey, 'NOT_FOUND'],
      ['COMPLETED', {}, undefined, 'CONFLICT'],
      ['COMPLETED', { outputs: 'a\u0000b' }, undefined, 'CONFLICT'],
      ['RUNNING', { outputs: 'a\u0000b' }, undefined, 'BAD_USER_INPUT'],
      ['INCOMPLETE', {}, undefined, 'CONFLICT'],
    ] as const) {
      const res = await mine(status, extra, key);
      expect(res.errors?.[0]?.extensions?.code, `${status} ${JSON.stringify(extra)}`).toBe(code);
    }
    expect((await mine('COMPLETED')).errors?.[0]?.message).toMatch(/cannot go from QUEUED to COMPLETED/);
    const missing = await server.graphql(UPDATE_RUN, { id: '00000000-0000-4000-8000-000000000000', status: 'RUNNING' });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await snapshotDatabase(server.db)).toEqual(before);
    // An admin changes anyone's run.
    expect((await mine('RUNNING', {}, adminKey)).errors).toBeUndefined();
  });

  it('judges racing changes against the status the other left: legal chains both apply, a final status stops the rest', async () => {
    const run = await execute();
    await ok(UPDATE_RUN, { id: run.id, status: 'RUNNING' });
    const results = await Promise.all(['REVIEW', 'TERMINATED'].map((status) => server.graphql<{ updateGraphExecution: { graphExecution: Run } }>(UPDATE_RUN, { id: run.id, status })));
    const outcome = results.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK');
    const stored = (await ok<{ graphExecution: Run }>(READ_RUN, { id: run.id })).graphExecution;
    // RUNNING → REVIEW → TERMINATED (both legal in that order), or RUNNING → TERMINATED and REVIEW refused.
    if (outcome.every((o) => o === 'OK')) expect(stored.status).toBe('TERMINATED');
    else expect({ outcome, status: stored.status }).toEqual({ outcome: ['CONFLICT', 'OK'], status: 'TERMINATED' });
    expect(stored.endedAt).not.toBeNull();
  });

  it('lets exactly one of two racing transitions win, and answers the winner as stored', async () => {
    for (const [a, b] of [['TERMINATED', 'FAILED'], ['COMPLETED', 'FAILED']]) {
      const run = await execute();
      await ok(UPDATE_RUN, { id: run.id, status: 'RUNNING' });
      const results = await Promise.all([a, b].map((status) => server.graphql<{ updateGraphExecution: { graphExecution: Run } }>(UPDATE_RUN, { id: run.id, status })));
      expect(results.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK').sort()).toEqual(['CONFLICT', 'OK']);
      const winner = results.find((r) => !r.errors)!.data!.updateGraphExecution.graphExecution;
      expect((await ok<{ graphExecution: Run }>(READ_RUN, { id: run.id })).graphExecution).toEqual(winner);
    }
  });

  it('rolls node costs up into the run: exactly once per racing pair, by difference when a cost changes, across concurrent nodes', async () => {
    const run = await execute();
    const [first, second, third] = await nodeExecutionsOf(run.id);
    for (const id of [first, second, third]) await ok(UPDATE_NODE, { id, status: 'RUNNING' });
    // Two executors finish the same node execution: one wins, and only its cost counts.
    const racing = await Promise.all([
      server.graphql<{ updateNodeExecution: { nodeExecution: NodeExecution } }>(UPDATE_NODE, { id: first, status: 'COMPLETED', cost: 5 }),
      server.graphql<{ updateNodeExecution: { nodeExecution: NodeExecution } }>(UPDATE_NODE, { id: first, status: 'FAILED', cost: 7 }),
    ]);
    expect(racing.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK').sort()).toEqual(['CONFLICT', 'OK']);
    const won = racing.find((r) => !r.errors)!.data!.updateNodeExecution.nodeExecution;
    expect(won.graphExecution.cost).toBe(won.cost);
    // A cost set again replaces the earlier one in the run's sum.
    await ok(UPDATE_NODE, { id: second, status: 'REVIEW', cost: 3 });
    const resumed = await ok<{ updateNodeExecution: { nodeExecution: NodeExecution } }>(UPDATE_NODE, { id: second, status: 'RUNNING', cost: 10 });
    expect(resumed.updateNodeExecution.nodeExecution.graphExecution.cost).toBe(won.cost + 10);
    // Different node executions of one run, concurrently: every increment lands.
    await Promise.all([ok(UPDATE_NODE, { id: second, status: 'COMPLETED', cost: 11 }), ok(UPDATE_NODE, { id: third, status: 'COMPLETED', cost: 20 })]);
    const stored = await server.db.prisma.graphExecution.findUniqueOrThrow({ where: { id: run.id } });
    expect(stored.cost).toBe(won.cost + 11 + 20);
    const sum = await server.db.prisma.nodeExecution.aggregate({ where: { graphExecutionId: run.id }, _sum: { cost: true } });
    expect(sum._sum.cost).toBe(stored.cost);
  });

  it('refuses updates of runs that are deleted, not visible, or finished, and changes nothing', async () => {
    const run = await execute();
    const [nodeExecutionId] = await nodeExecutionsOf(run.id);
    const others = await ok<{ executeGraph: { graphExecution: Run } }>(EXECUTE, { id: otherGraphId }, adminKey);
    await ok(UPDATE_RUN, { id: run.id, status: 'TERMINATED' });
    const before = await snapshotDatabase(server.db);
    const cases: Array<[string, Record<string, unknown>, string]> = [
      [UPDATE_RUN, { id: run.id, status: 'RUNNING' }, 'CONFLICT'],
      [UPDATE_RUN, { id: run.id, status: 'RUNNING', outputs: { bad: 'a\u0000b' } }, 'CONFLICT'],
      [UPDATE_RUN, { id: others.executeGraph.graphExecution.id, status: 'RUNNING' }, 'NOT_FOUND'],
      [UPDATE_RUN, { id: others.executeGraph.graphExecution.id, status: 'RUNNING', error: 'a\u0000b' }, 'NOT_FOUND'],
      [UPDATE_NODE, { id: nodeExecutionId, status: 'COMPLETED', cost: 1 }, 'CONFLICT'],
    ];
    for (const [query, variables, code] of cases) {
      const res = await server.graphql(query, variables);
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe(code);
    }
    expect(await snapshotDatabase(server.db)).toEqual(before);

    const live = await execute();
    await ok('mutation($id: ID!) { deleteGraphExecution(id: $id) { deletedGraphExecutionId } }', { id: live.id });
    const deleted = await server.graphql(UPDATE_RUN, { id: live.id, status: 'RUNNING' });
    expect(deleted.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('node executions read with their nodes answer the same nodes, pages and filters as before', async () => {
    const run = await execute();
    const nodes = await server.db.prisma.node.findMany({ where: { graphId, graphVersion: 1 } });
    const full = await ok<{ graphExecution: { nodeExecutions: { nodes: Array<{ id: string; node: { id: string; blockId: string; label: string; nodeType: string; inputDefault: unknown; metadata: unknown } }> } } }>(
      RUN_WITH_NODES,
      { id: run.id, first: 100 },
    );
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const rows = full.graphExecution.nodeExecutions.nodes;
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      const node = byId.get(row.node.id)!;
      expect(row.node).toEqual({ id: node.id, blockId: node.blockId, label: node.label, nodeType: node.nodeType, inputDefault: node.inputDefault, metadata: node.metadata });
    }
    const page1 = await ok<{ graphExecution: { nodeExecutions: { pageInfo: { hasNextPage: boolean; endCursor: string }; nodes: Array<{ id: string }> } } }>(RUN_WITH_NODES, { id: run.id, first: 2 });
    expect(page1.graphExecution.nodeExecutions.pageInfo.hasNextPage).toBe(true);
    const page2 = await ok<{ graphExecution: { nodeExecutions: { nodes: Array<{ id: string }> } } }>(RUN_WITH_NODES, { id: run.id, first: 2, after: page1.graphExecution.nodeExecutions.pageInfo.endCursor });
    expect([...page1.graphExecution.nodeExecutions.nodes, ...page2.graphExecution.nodeExecutions.nodes].map((n) => n.id)).toEqual(rows.map((r) => r.id));
    const oneNode = rows[1]!.node.id;
    const filtered = await ok<{ graphExecution: { nodeExecutions: { nodes: Array<{ node: { id: string } }> } } }>(RUN_WITH_NODES, { id: run.id, first: 100, filter: { nodeId: oneNode } });
    expect(filtered.graphExecution.nodeExecutions.nodes.map((n) => n.node.id)).toEqual([oneNode]);
  });
});
