import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDatabase } from '../../src/seed/index.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Query.graphExecution reads the run and the pages of `nodeExecutions` asked under it in one statement
 * (look-ahead). Its answers must be exactly those of the loader path, which a run reached through a list uses.
 */
const CHILDREN = `
  first: nodeExecutions(first: 2) { pageInfo { hasNextPage endCursor } nodes { id status addedAt startedAt endedAt cost } }
  all: nodeExecutions(first: 100) { totalCount nodes { id status inputs outputs stats errorMessage queuedAt durationMs node { id blockId label nodeType } } }
  finished: nodeExecutions(filter: { statuses: [COMPLETED, FAILED] }) { edges { cursor node { id status node { blockId } } } }
  next: nodeExecutions(first: 2, after: $after) { nodes { id addedAt } }
  ...Pages`;
const FRAGMENT = `fragment Pages on GraphExecution { viaFragment: nodeExecutions(first: 3) { edges { cursor node { id inputs graphExecution { id } } } } }`;
const BY_ID = `query($id: ID!, $after: String) { graphExecution(id: $id) { id status cost ${CHILDREN} } } ${FRAGMENT}`;
// 12 runs: each is priced at its 100 node executions with their JSON, and 12 are what the comparison walks.
const THROUGH_LIST = `query($filter: GraphExecutionFilter, $after: String) { graphExecutions(first: 12, filter: $filter) { nodes { id status cost ${CHILDREN} } } } ${FRAGMENT}`;

type Run = { id: string; first: { pageInfo: { endCursor: string | null } }; all: { nodes: unknown[] } };

describe.each(testDatabaseKinds)('look-ahead of a run with its node executions on %s', (kind) => {
  let server: TestServer;
  let owner: { key: string; userId: string };
  let stranger: { key: string; userId: string };
  let adminKey: string;
  let runs: Run[];

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    const seeded = await seedDatabase(server.db, { users: 3, graphsPerUser: 2, executions: 90, sessions: 0, maxEventsPerSession: 1, seed: 5, days: 5 });
    const users = seeded.apiKeys.filter((k) => !k.permissions.includes('ADMIN'));
    owner = users[0]!;
    adminKey = seeded.apiKeys.find((k) => k.permissions.includes('ADMIN'))!.key;
    stranger = users[1]!;
    const res = await server.graphql<{ graphExecutions: { nodes: Run[] } }>(THROUGH_LIST, { filter: { userId: owner.userId } }, owner.key);
    expect(res.errors).toBeUndefined();
    runs = res.data!.graphExecutions.nodes;
    expect(runs.length).toBeGreaterThan(5);
  });
  afterAll(() => server?.close());

  it('answers exactly as the loader path does, for every run, every alias, fragment, filter and cursor', async () => {
    let compared = 0;
    for (const reference of runs.slice(0, 12)) {
      const after = reference.first.pageInfo.endCursor;
      const viaList = await server.graphql<{ graphExecutions: { nodes: Run[] } }>(THROUGH_LIST, { filter: { userId: owner.userId }, after }, owner.key);
      const expected = viaList.data!.graphExecutions.nodes.find((r) => r.id === reference.id);
      const byId = await server.graphql<{ graphExecution: Run }>(BY_ID, { id: reference.id, after }, owner.key);
      expect(byId.errors).toBeUndefined();
      expect(byId.data!.graphExecution).toEqual(expected);
      compared += byId.data!.graphExecution.all.nodes.length;
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('reads the run and all its pages in one statement after the key', async () => {
    const statements: string[] = [];
    const stop = server.db.onQuery((e) => statements.push(e.query));
    const res = await server.graphql(BY_ID, { id: runs[0]!.id, after: runs[0]!.first.pageInfo.endCursor }, owner.key);
    stop();
    expect(res.errors).toBeUndefined();
    // The key, the run with its five pages, and `totalCount` (a separate count).
    expect(statements, statements.join('\n---\n')).toHaveLength(3);
  });

  it('reads of each node only what the selection asks: its block id from the node execution, else the node without or with its JSON', async () => {
    type Page = { graphExecution: { nodeExecutions: { nodes: Array<{ id: string; node: Record<string, unknown> }> } } };
    const forms: Array<[string, (statement: string) => boolean]> = [
      ['id blockId', (q) => !q.includes('FROM nodes nd')],
      ['blockId label nodeType graph { id }', (q) => q.includes('FROM nodes nd') && !q.includes('input_default')],
      ['blockId inputDefault metadata', (q) => q.includes('input_default')],
    ];
    for (const [selection, readsAsExpected] of forms) {
      const statements: string[] = [];
      const stop = server.db.onQuery((e) => statements.push(e.query));
      const res = await server.graphql<Page>(`query($id: ID!) { graphExecution(id: $id) { nodeExecutions(first: 100) { nodes { id node { ${selection} } } } } }`, { id: runs[0]!.id }, owner.key);
      stop();
      expect(res.errors).toBeUndefined();
      expect(statements.filter((q) => q.includes('node_executions n')).every(readsAsExpected), `${selection}:\n${statements.join('\n---\n')}`).toBe(true);
      // Each node as the by-id path (the whole node, read by its id) answers it.
      for (const row of res.data!.graphExecution.nodeExecutions.nodes) {
        const byId = await server.graphql<{ nodeExecution: { node: Record<string, unknown> } }>(`query($id: ID!) { nodeExecution(id: $id) { node { ${selection} } } }`, { id: row.id }, owner.key);
        expect(row.node).toEqual(byId.data!.nodeExecution.node);
      }
    }
  });

  it("answers NOT_FOUND for another user's run, with nothing of its node executions", async () => {
    const res = await server.graphql<{ graphExecution: Run | null }>(BY_ID, { id: runs[0]!.id, after: null }, stranger.key);
    expect(res.data).toEqual({ graphExecution: null });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(JSON.stringify(res)).not.toContain(runs[0]!.all.nodes.length ? (runs[0]!.all.nodes[0] as { id: string }).id : 'nothing');
  });

  it('leaves arguments the nested field refuses to it: that field fails with its own error (nulling the run, as before)', async () => {
    const res = await server.graphql<{ graphExecution: { id: string; bad: unknown; good: { nodes: unknown[] } } | null }>(
      `query($id: ID!) { graphExecution(id: $id) { id bad: nodeExecutions(filter: { nodeId: "not-a-node" }) { nodes { id } } good: nodeExecutions { nodes { id } } } }`,
      { id: runs[0]!.id },
      owner.key,
    );
    expect(res.errors?.map((e) => [e.extensions?.code, e.path])).toEqual([['BAD_USER_INPUT', ['graphExecution', 'bad']]]);
    // The connection is non-null, so its error nulls the run: what the field did before the look-ahead too.
    expect(res.data).toEqual({ graphExecution: null });
  });

  const RUNS = `
    latest: executions(first: 3) { totalCount pageInfo { hasNextPage endCursor } nodes { id status createdAt startedAt endedAt cost durationMs } }
    oldest: executions(first: 2, orderBy: { direction: ASC }) { edges { cursor node { id createdAt inputs outputs stats } } }
    finished: executions(filter: { statuses: [COMPLETED, FAILED] }) { nodes { id status user { id } } }
    more: executions(first: 2, after: $after) { nodes { id } }`;
  type Graph = { id: string; version: number; latest: { pageInfo: { endCursor: string | null } } };

  it('graph lists read their graphs’ runs in the list statement, answering as each graph alone does', async () => {
    const admin = (await server.graphql<{ viewer: { id: string } }>('{ viewer { id } }', undefined, adminKey)).data!.viewer.id;
    expect(admin).toBeTruthy();
    for (const [key, listArgs] of [
      [owner.key, 'first: 5'],
      [adminKey, 'first: 6, orderBy: { field: NAME, direction: ASC }'],
      [adminKey, `first: 4, filter: { ownerId: "${owner.userId}" }`],
      [stranger.key, `first: 3, filter: { isActive: false }`],
    ] as const) {
      const first = await server.graphql<{ graphs: { nodes: Graph[] } }>(`query($after: String) { graphs(${listArgs}) { nodes { id version ${RUNS} } } }`, { after: null }, key);
      expect(first.errors).toBeUndefined();
      const after = first.data!.graphs.nodes.find((g) => g.latest.pageInfo.endCursor)?.latest.pageInfo.endCursor ?? null;
      const statements: string[] = [];
      const stop = server.db.onQuery((e) => statements.push(e.query));
      const listed = await server.graphql<{ graphs: { nodes: Graph[] } }>(`query($after: String) { graphs(${listArgs}) { nodes { id version ${RUNS} } } }`, { after }, key);
      stop();
      expect(listed.errors).toBeUndefined();
      // The key, the list with every page of runs, the counts of `totalCount`, the runs' users.
      expect(statements.length, statements.join('\n---\n')).toBeLessThanOrEqual(4);
      for (const graph of listed.data!.graphs.nodes) {
        const alone = await server.graphql<{ graph: Graph }>(`query($id: ID!, $v: Int, $after: String) { graph(id: $id, version: $v) { id version ${RUNS} } }`, { id: graph.id, v: graph.version, after }, key);
        expect(alone.errors).toBeUndefined();
        expect(graph).toEqual(alone.data!.graph);
      }
    }
  });

  it('reads one row past a page only when the query asks for pageInfo, directly or through a fragment', async () => {
    type Runs = { totalCount: number; pageInfo?: { hasNextPage: boolean }; nodes: Array<{ id: string }> };
    type Listed = { graphs: { totalCount: number; pageInfo?: { hasNextPage: boolean }; nodes: Array<{ id: string; executions: Runs }> } };
    const limits = async (document: string) => {
      const statements: string[] = [];
      const stop = server.db.onQuery((e) => statements.push(e.query));
      const res = await server.graphql<Listed>(document, undefined, adminKey);
      stop();
      expect(res.errors).toBeUndefined();
      const list = statements.find((q) => /FROM graphs g/.test(q))!;
      return { data: res.data!, limits: [...list.matchAll(/LIMIT (\d+)/g)].map((m) => Number(m[1])).sort() };
    };
    const without = await limits('{ graphs(first: 3) { totalCount nodes { id executions(first: 2) { totalCount nodes { id } } } } }');
    expect(without.limits).toEqual([2, 3]);
    const withPageInfo = await limits(`{ graphs(first: 3) { totalCount ...More nodes { id executions(first: 2) { totalCount pageInfo { hasNextPage } nodes { id } } } } }
      fragment More on GraphConnection { pageInfo { hasNextPage } }`);
    expect(withPageInfo.limits).toEqual([3, 4]);
    // The same rows either way, and hasNextPage told right where asked.
    expect(withPageInfo.data.graphs.nodes.map((g) => ({ ...g, executions: { ...g.executions, pageInfo: undefined } }))).toEqual(
      without.data.graphs.nodes.map((g) => ({ ...g, executions: { ...g.executions, pageInfo: undefined } })),
    );
    expect(withPageInfo.data.graphs.pageInfo!.hasNextPage).toBe(withPageInfo.data.graphs.totalCount > 3);
    for (const graph of withPageInfo.data.graphs.nodes) expect(graph.executions.pageInfo!.hasNextPage).toBe(graph.executions.totalCount > 2);
    expect(withPageInfo.data.graphs.nodes.some((g) => g.executions.pageInfo!.hasNextPage)).toBe(true);
  });

  it('reads of listed graphs only the columns their fields need, and never answers a later field from such a row', async () => {
    type Listed = { graphs: { nodes: Array<{ id: string; version: number }> }; full: { nodes: Array<Record<string, unknown>> } };
    const statements: string[] = [];
    const stop = server.db.onQuery((e) => statements.push(e.query));
    const res = await server.graphql<Listed>(
      `{ graphs(first: 3) { nodes { id version } }
         full: graphs(first: 3) { nodes { id version name description isActive createdAt updatedAt owner { id } } } }`,
      undefined,
      adminKey,
    );
    stop();
    expect(res.errors).toBeUndefined();
    const lists = statements.filter((q) => /FROM graphs g/.test(q));
    expect(lists.some((q) => !/description/.test(q) && /g\.created_at/.test(q))).toBe(true);
    // The same graphs, whole where asked, although the lighter list read them first.
    expect(res.data!.full.nodes.map((g) => ({ id: g.id, version: g.version }))).toEqual(res.data!.graphs.nodes);
    for (const graph of res.data!.full.nodes) {
      const alone = await server.graphql<{ graph: Record<string, unknown> }>(
        'query($id: ID!, $v: Int) { graph(id: $id, version: $v) { id version name description isActive createdAt updatedAt owner { id } } }',
        { id: graph.id, v: graph.version },
        adminKey,
      );
      expect(graph).toEqual(alone.data!.graph);
    }
    // A run's graph, loaded by key after a light list of the same graphs, comes whole.
    type Nested = { graphs: { nodes: Array<{ id: string; executions: { nodes: Array<{ graph: Record<string, unknown> }> } }> } };
    const nested = await server.graphql<Nested>(
      '{ graphs(first: 20) { nodes { id executions(first: 1) { nodes { graph { id description isActive updatedAt } } } } } }',
      undefined,
      adminKey,
    );
    expect(nested.errors).toBeUndefined();
    const graphsOfRuns = nested.data!.graphs.nodes.flatMap((g) => g.executions.nodes.map((r) => r.graph));
    expect(graphsOfRuns.length).toBeGreaterThan(0);
    for (const graph of graphsOfRuns) expect(Object.keys(graph).filter((k) => graph[k] === undefined)).toEqual([]);
    expect(graphsOfRuns.every((g) => typeof g.isActive === 'boolean' && typeof g.updatedAt === 'string')).toBe(true);
  });

  it('answers NOT_FOUND for a deleted run', async () => {
    const id = runs[1]!.id;
    const deleted = await server.graphql('mutation($id: ID!) { deleteGraphExecution(id: $id) { deletedGraphExecutionId } }', { id }, owner.key);
    expect(deleted.errors).toBeUndefined();
    const res = await server.graphql(BY_ID, { id, after: null }, owner.key);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
  });
});
