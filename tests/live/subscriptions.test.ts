import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../helpers/databases.js';
import { createApiKey, createGraph, createUser } from '../helpers/factories.js';
import { liveClient, sleep, sseClient } from '../helpers/live.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const RUNS = `subscription($filter: GraphExecutionUpdateFilter) {
  graphExecutionUpdated(filter: $filter) { kind status at graphExecution { id status graph { id } user { id } } }
}`;
const NODES = 'subscription($id: ID!) { nodeExecutionUpdated(executionId: $id) { kind status nodeExecution { id status graphExecution { id } } } }';
const EXECUTE = 'mutation($id: ID!) { executeGraph(graphId: $id) { graphExecution { id nodeExecutions(first: 10) { nodes { id } } } } }';
const UPDATE_RUN = 'mutation($id: ID!, $status: ExecutionStatus!) { updateGraphExecution(id: $id, status: $status) { graphExecution { id } } }';
const UPDATE_NODE = 'mutation($id: ID!, $status: ExecutionStatus!) { updateNodeExecution(id: $id, status: $status) { nodeExecution { id } } }';

type RunUpdate = { graphExecutionUpdated: { kind: string; status: string | null; graphExecution: { id: string; status: string; graph: { id: string }; user: { id: string } } | null } };
type NodeUpdate = { nodeExecutionUpdated: { kind: string; status: string; nodeExecution: { id: string; status: string; graphExecution: { id: string } } } };

describe.each(testDatabaseKinds)('subscriptions to runs on %s', (kind) => {
  let server: TestServer;
  let graphId: string;
  let other: { userId: string; apiKey: string; graphId: string };
  let adminKey: string;
  const clients: Array<{ dispose(): unknown }> = [];
  const ws = (key: string | null) => {
    const client = liveClient(server.url, key);
    clients.push(client);
    return client;
  };
  const sse = (key: string | null) => {
    const client = sseClient(server.url, key);
    clients.push(client);
    return client;
  };
  const execute = async (id = graphId, key = server.apiKey) => {
    const res = await server.graphql<{ executeGraph: { graphExecution: { id: string; nodeExecutions: { nodes: Array<{ id: string }> } } } }>(EXECUTE, { id }, key);
    expect(res.errors).toBeUndefined();
    return res.data!.executeGraph.graphExecution;
  };

  beforeAll(async () => {
    server = await startTestServer({ database: kind, live: { maxSubscriptionsPerKey: 5 } });
    graphId = (await createGraph(server.db, server.userId, { name: 'Live' })).graph.id;
    const second = await createUser(server.db);
    other = { userId: second.user.id, apiKey: second.apiKey, graphId: (await createGraph(server.db, second.user.id, { name: 'Theirs' })).graph.id };
    adminKey = (await createUser(server.db, { admin: true })).apiKey;
  });
  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await server?.close();
  });

  it('delivers runs created and moved, through graphql-ws and SSE, and only the caller’s own', async () => {
    const mine = ws(server.apiKey).subscribe<RunUpdate>(RUNS);
    const mineSse = sse(server.apiKey).subscribe<RunUpdate>(RUNS);
    const theirs = ws(other.apiKey).subscribe<RunUpdate>(RUNS);
    const admin = ws(adminKey).subscribe<RunUpdate>(RUNS);
    await sleep(300);
    const run = await execute();
    await server.graphql(UPDATE_RUN, { id: run.id, status: 'RUNNING' });
    for (const received of [mine, mineSse, admin]) await received.waitFor(2);
    for (const received of [mine, mineSse]) {
      expect(received.results.every((r) => !r.errors)).toBe(true);
      expect(received.data.map((d) => [d.graphExecutionUpdated.kind, d.graphExecutionUpdated.status, d.graphExecutionUpdated.graphExecution?.id])).toEqual([
        ['CREATED', 'QUEUED', run.id],
        ['STATUS_CHANGED', 'RUNNING', run.id],
      ]);
      expect(received.data[0]!.graphExecutionUpdated.graphExecution!.user.id).toBe(server.userId);
    }
    const theirRun = await execute(other.graphId, other.apiKey);
    await theirs.waitFor(1);
    await admin.waitFor(3);
    // The first user's subscribers never see the second user's run, and the second user saw none of the first's.
    await sleep(200);
    expect(theirs.data.map((d) => d.graphExecutionUpdated.graphExecution!.id)).toEqual([theirRun.id]);
    expect(mine.data).toHaveLength(2);
    expect(admin.data.map((d) => d.graphExecutionUpdated.graphExecution!.id)).toEqual([run.id, run.id, theirRun.id]);
    for (const received of [mine, mineSse, theirs, admin]) received.stop();
  });

  it('filters by graph, run and status', async () => {
    // Four subscriptions on one key below: the earlier test's must have closed (the limit is five per key).
    await expect.poll(() => server.liveStats()).toMatchObject({ subscriptions: 0 });
    const client = ws(server.apiKey);
    const completed = client.subscribe<RunUpdate>(RUNS, { filter: { statuses: ['COMPLETED'] } });
    const otherGraph = client.subscribe<RunUpdate>(RUNS, { filter: { graphId: other.graphId } });
    const everything = client.subscribe<RunUpdate>(RUNS);
    await sleep(300);
    const run = await execute();
    // On PostgreSQL the creation reaches the hub through NOTIFY, after the mutation has answered; once an
    // unfiltered subscriber has it, a subscription opened now cannot receive it.
    await everything.waitFor(1);
    const oneRun = client.subscribe<RunUpdate>(RUNS, { filter: { executionId: run.id } });
    await sleep(300);
    const unrelated = await execute();
    for (const status of ['RUNNING', 'COMPLETED']) await server.graphql(UPDATE_RUN, { id: run.id, status });
    await completed.waitFor(1);
    await oneRun.waitFor(2);
    await sleep(200);
    expect(completed.data.map((d) => [d.graphExecutionUpdated.status, d.graphExecutionUpdated.graphExecution!.id])).toEqual([['COMPLETED', run.id]]);
    expect(oneRun.data.map((d) => d.graphExecutionUpdated.status)).toEqual(['RUNNING', 'COMPLETED']);
    expect(oneRun.data.some((d) => d.graphExecutionUpdated.graphExecution!.id === unrelated.id)).toBe(false);
    expect(otherGraph.results).toEqual([]);
    for (const received of [completed, otherGraph, oneRun, everything]) received.stop();
  });

  it('delivers a run’s node executions to its owner; another user’s run is NOT_FOUND', async () => {
    const probe = ws(server.apiKey).subscribe<RunUpdate>(RUNS);
    await sleep(300);
    const run = await execute();
    // The run's creation (and its node executions') has been published before the subscription below opens.
    await probe.waitFor(1);
    probe.stop();
    const nodes = ws(server.apiKey).subscribe<NodeUpdate>(NODES, { id: run.id });
    const stranger = ws(other.apiKey).subscribe<NodeUpdate>(NODES, { id: run.id });
    await stranger.ended();
    expect(stranger.results[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await sleep(300);
    const [first] = run.nodeExecutions.nodes;
    await server.graphql(UPDATE_NODE, { id: first!.id, status: 'RUNNING' });
    await nodes.waitFor(1);
    expect(nodes.data[0]!.nodeExecutionUpdated).toMatchObject({ kind: 'STATUS_CHANGED', status: 'RUNNING', nodeExecution: { id: first!.id, status: 'RUNNING', graphExecution: { id: run.id } } });
    nodes.stop();
  });

  it('refuses what the key may not read, and a connection without a valid key', async () => {
    const { key: sessionsOnly } = await createApiKey(server.db, server.userId, ['READ_SESSIONS']);
    const refused = ws(sessionsOnly).subscribe<RunUpdate>(RUNS);
    await refused.ended();
    expect(JSON.stringify(refused.error ?? refused.results)).toContain('FORBIDDEN');
    const anonymous = ws(null);
    const nobody = anonymous.subscribe<RunUpdate>(RUNS);
    await nobody.ended();
    expect(anonymous.closes[0]).toMatchObject({ code: 4401 });
    const sseNobody = sse('agk_not-a-key').subscribe<RunUpdate>(RUNS);
    await sseNobody.ended();
    expect(String(sseNobody.error)).toMatch(/401|not valid/);
    // Queries and mutations are not served on live connections.
    const query = ws(server.apiKey).subscribe('{ viewer { id } }');
    await query.ended();
    expect(query.error ?? query.results).toBeTruthy();
  });

  it('prices a subscription like a query, and serves subscriptions only on live connections', async () => {
    const nested = `subscription { graphExecutionUpdated { graphExecution { nodeExecutions(first: 100) { nodes { node { graph {
      executions(first: 100) { nodes { nodeExecutions(first: 100) { nodes { id } } } } } } } } } } }`;
    const tooMuch = ws(server.apiKey).subscribe(nested);
    await tooMuch.ended();
    expect(JSON.stringify(tooMuch.error ?? tooMuch.results)).toContain('QUERY_TOO_COMPLEX');
    const overHttp = await server.graphql(RUNS);
    expect(overHttp.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    const queryOverSse = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${server.apiKey}` },
      body: JSON.stringify({ query: '{ viewer { id } }' }),
    });
    expect(queryOverSse.status).toBe(400);
    expect(JSON.stringify(await queryOverSse.json())).toContain('Only subscriptions');
    // Refused before anything was opened (streams of earlier tests may still be closing).
    await expect.poll(() => server.liveStats()).toMatchObject({ subscriptions: 0, eventStreams: 0 });
  });

  it('ends a revoked key’s subscriptions within seconds, with the reason', async () => {
    const { key: apiKey, id } = await createApiKey(server.db, server.userId, ['READ_GRAPHS']);
    const client = ws(apiKey);
    const wsSub = client.subscribe<RunUpdate>(RUNS);
    const sseSub = sse(apiKey).subscribe<RunUpdate>(RUNS);
    await sleep(300);
    const revoked = await server.graphql('mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id status } } }', { id });
    expect(revoked.errors).toBeUndefined();
    await wsSub.ended(5_000);
    await sseSub.ended(5_000);
    expect(client.closes[0]).toMatchObject({ code: 4401, reason: 'The API key has been revoked.' });
    expect(JSON.stringify(sseSub.results)).toContain('UNAUTHENTICATED');
  });

  it('limits the subscriptions a key has open', async () => {
    const { key: apiKey } = await createApiKey(server.db, server.userId, ['READ_GRAPHS']);
    const client = ws(apiKey);
    const open = Array.from({ length: 5 }, () => client.subscribe<RunUpdate>(RUNS));
    await sleep(300);
    const sixth = client.subscribe<RunUpdate>(RUNS);
    await sixth.ended();
    expect(sixth.results[0]?.errors?.[0]?.extensions?.code).toBe('TOO_MANY_SUBSCRIPTIONS');
    open[0]!.stop();
    await sleep(200);
    const again = client.subscribe<RunUpdate>(RUNS);
    await sleep(300);
    expect(again.results).toEqual([]);
    for (const received of [...open, again]) received.stop();
  });
});
