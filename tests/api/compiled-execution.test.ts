/**
 * Compiled execution (graphql-jit) against graphql-js: two servers on one seeded database, one executing every
 * operation on graphql-js, one compiling every operation from its first use, must give the same HTTP status and
 * body for a corpus that covers every query field, nested connections, arguments through variables and defaults,
 * fragments, directives, aliases, introspection and the error paths. Mutations run compiled in the rest of the suite
 * (tests/helpers/server.ts compiles everything).
 */
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { seedDatabase } from '../../src/seed/index.js';
import { createServer, type AppServer } from '../../src/server/app.js';
import { createTestDatabase, testDatabaseKinds } from '../helpers/databases.js';

type Answer = { status: number; body: unknown };

async function post(url: string, key: string | null, query: string, variables?: Record<string, unknown>, operationName?: string): Promise<Answer> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables, operationName }),
  });
  return { status: response.status, body: await response.json() };
}

/**
 * Errors of sibling fields resolved concurrently come in the order their reads finish, on either executor: compared
 * as a set (ordered by path), everything else as is.
 */
const inPathOrder = (answer: Answer): Answer => {
  const body = answer.body as { errors?: Array<{ path?: unknown }> };
  if (!Array.isArray(body?.errors)) return answer;
  const errors = [...body.errors].sort((a, b) => JSON.stringify(a.path ?? null).localeCompare(JSON.stringify(b.path ?? null)));
  return { ...answer, body: { ...body, errors } };
};

const RUN = 'id status graphVersion inputs outputs stats cost errorMessage createdAt startedAt endedAt durationMs';
const CORPUS: Array<{ name: string; query: string; variables?: (ids: Ids) => Record<string, unknown>; operationName?: string; as?: 'admin' | 'user' | 'anonymous' }> = [
  { name: 'viewer', query: '{ viewer { id email name createdAt permissions __typename } }' },
  {
    name: 'dashboard',
    as: 'admin',
    query: `query Dashboard($first: Int!) { graphs(first: $first) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { id version name description isActive createdAt updatedAt owner { id email }
        nodes { id blockId label nodeType inputDefault metadata inputLinks { id } outputLinks { id sinkName } }
        links { id sourceName sinkName isStatic source { id } sink { blockId } }
        executions(first: 3) { totalCount edges { cursor node { ${RUN} user { id } nodeExecutions(first: 5) { nodes { id status addedAt queuedAt startedAt endedAt durationMs cost inputs node { blockId } } } } } } } } }`,
    // Two graphs: at the schema maxima (500 nodes with JSON fields) four are estimated over the cost limit.
    variables: () => ({ first: 2 }),
  },
  {
    name: 'one graph with versions and stats',
    query: `query G($id: ID!, $from: DateTime!, $to: DateTime!) { graph(id: $id) { id version versions(first: 5) { nodes { version isActive } }
      stats(from: $from, to: $to) { from to runs completed failed successRate lastRunAt p95: p95DurationMs } } }`,
    variables: (ids) => ({ id: ids.graphId, from: '2026-04-01T00:00:00Z', to: '2026-06-02T00:00:00Z' }),
  },
  {
    name: 'runs filtered, ordered, with defaults of input fields',
    query: `query R($filter: GraphExecutionFilter, $orderBy: GraphExecutionOrder) { graphExecutions(first: 7, filter: $filter, orderBy: $orderBy) {
      totalCount pageInfo { hasNextPage endCursor } nodes { ${RUN} graph { name } parent { id } } } }`,
    variables: () => ({ filter: { statuses: ['COMPLETED', 'FAILED'] }, orderBy: { direction: 'ASC' } }),
  },
  {
    name: 'one run with node executions, by variables',
    query: `query B($id: ID!, $statuses: [ExecutionStatus!]) { graphExecution(id: $id) { ${RUN}
      nodeExecutions(first: 100, filter: { statuses: $statuses }) { nodes { id status node { id blockId graph { id } } graphExecution { id } } } } }`,
    variables: (ids) => ({ id: ids.runId, statuses: null }),
  },
  { name: 'a node execution', query: 'query N($id: ID!) { nodeExecution(id: $id) { id status outputs stats errorMessage } }', variables: (ids) => ({ id: ids.nodeExecutionId }) },
  {
    name: 'fragments, inline fragments, aliases, directives',
    query: `query F($withRuns: Boolean!, $skipOwner: Boolean!) { a: graphs(first: 2) { ...Page } b: graphs(first: 1, orderBy: { field: NAME, direction: ASC }) { ...Page }
      viewer { ... on User { id } } }
      fragment Page on GraphConnection { nodes { id ...Named owner @skip(if: $skipOwner) { email } executions(first: 2) @include(if: $withRuns) { nodes { id __typename } } } }
      fragment Named on Graph { name version }`,
    variables: () => ({ withRuns: true, skipOwner: true }),
  },
  {
    name: 'sessions with events, forwards and backwards',
    query: `{ sessions(first: 3) { totalCount nodes { id appName agentId status metadata state version createdAt updatedAt eventCount user { id }
      teamSession { id } memberSessions(first: 2) { nodes { id } }
      first: events(first: 3) { pageInfo { hasNextPage endCursor } nodes { id sequence author content actions metadata branch timestamp clientEventId invocationId } }
      last: events(last: 2) { pageInfo { hasPreviousPage startCursor } nodes { sequence session { id } } } } } }`,
  },
  {
    name: 'execution statistics',
    query: `query S($from: DateTime!, $to: DateTime!) { executionStats(filter: { from: $from, to: $to }, bucket: WEEK) { from to bucket timezone total successRate
      byStatus { status count } duration { count avgMs p50Ms p90Ms p95Ms p99Ms maxMs } cost { total avg } nodeExecutions failedNodeExecutions
      timeSeries { bucketStart total completed failed p95DurationMs cost } topGraphs(by: COST, limit: 3) { graph { id } runs cost } blocks(limit: 3) { blockId runs failures failureRate p95DurationMs } } }`,
    variables: () => ({ from: '2026-04-01T00:00:00Z', to: '2026-06-02T00:00:00Z' }),
  },
  { name: 'user lists under viewer', query: '{ viewer { graphs(first: 2) { nodes { id } } graphExecutions(first: 2) { nodes { id } } apiKeys(first: 5) { nodes { id name prefix permissions status } } sessions(first: 2) { nodes { id } } } }' },
  { name: 'introspection', query: '{ __schema { queryType { name } types { name kind fields { name args { name defaultValue } } } } __type(name: "GraphExecution") { name fields { name type { kind name ofType { name } } } } }' },
  { name: 'two operations, one named', query: 'query One { viewer { id } } query Two { graphs(first: 1) { totalCount } }', operationName: 'Two' },
  // Errors: the same codes, messages, paths and statuses both ways.
  { name: 'not found', query: 'query M($id: ID!) { graphExecution(id: $id) { id } graph(id: $id) { id } }', variables: () => ({ id: '00000000-0000-4000-8000-000000000000' }) },
  { name: 'another user’s run', query: 'query O($id: ID!) { graphExecution(id: $id) { id } }', variables: (ids) => ({ id: ids.adminRunId }) },
  { name: 'page size over the cap', query: '{ graphs(first: 1000) { totalCount } }' },
  { name: 'malformed cursor', query: '{ graphExecutions(first: 2, after: "nope") { totalCount } }' },
  { name: 'variable of the wrong type', query: 'query V($first: Int) { graphs(first: $first) { totalCount } }', variables: () => ({ first: 'many' }) },
  { name: 'missing required variable', query: 'query V($id: ID!) { graph(id: $id) { id } }', variables: () => ({}) },
  { name: 'bad enum in a variable', query: 'query V($f: GraphExecutionFilter) { graphExecutions(filter: $f) { totalCount } }', variables: () => ({ f: { statuses: ['DONE'] } }) },
  { name: 'DateTime out of range', query: 'query V($from: DateTime!) { executionStats(filter: { from: $from, to: "2100-01-01T00:00:00Z" }) { total } }', variables: () => ({ from: '0000-01-01T00:00:00Z' }) },
  { name: 'unknown operation name', query: '{ viewer { id } }', operationName: 'Nope' },
  { name: 'anonymous', query: '{ viewer { id } graphs(first: 1) { totalCount } }', as: 'anonymous' },
  { name: 'admin statistics of one user', as: 'admin', query: 'query A($u: ID) { executionStats(filter: { from: "2026-04-01T00:00:00Z", to: "2026-06-02T00:00:00Z", userId: $u }) { total } }', variables: (ids) => ({ u: ids.userId }) },
];

type Ids = { graphId: string; runId: string; nodeExecutionId: string; adminRunId: string; userId: string };

describe.each(testDatabaseKinds)('compiled execution on %s', (kind) => {
  let db: Database;
  let interpreted: AppServer;
  let compiled: AppServer;
  let urls: { interpreted: string; compiled: string };
  let keys: { admin: string; user: string };
  let ids: Ids;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const summary = await seedDatabase(db, { users: 3, graphsPerUser: 3, executions: 60, sessions: 8, maxEventsPerSession: 12, seed: 99, days: 30, now: Date.parse('2026-06-01T00:00:00Z') });
    keys = { admin: summary.apiKeys[0]!.key, user: summary.apiKeys[1]!.key };
    const log = pino({ level: 'silent' });
    interpreted = await createServer({ db, log, apiKeyCacheMs: 0, compileAfterUses: Number.POSITIVE_INFINITY, playground: false });
    compiled = await createServer({ db, log, apiKeyCacheMs: 0, compileAfterUses: 0, playground: false });
    urls = { interpreted: (await interpreted.listen(0, '127.0.0.1')).url, compiled: (await compiled.listen(0, '127.0.0.1')).url };
    const mine = (await post(urls.interpreted, keys.user, '{ viewer { id } graphExecutions(first: 1) { nodes { id graph { id } nodeExecutions(first: 1) { nodes { id } } } } }')).body as {
      data: { viewer: { id: string }; graphExecutions: { nodes: Array<{ id: string; graph: { id: string }; nodeExecutions: { nodes: Array<{ id: string }> } }> } };
    };
    const run = mine.data.graphExecutions.nodes[0]!;
    const admins = (await post(urls.interpreted, keys.admin, '{ viewer { graphExecutions(first: 1) { nodes { id } } } }')).body as { data: { viewer: { graphExecutions: { nodes: Array<{ id: string }> } } } };
    ids = { graphId: run.graph.id, runId: run.id, nodeExecutionId: run.nodeExecutions.nodes[0]!.id, adminRunId: admins.data.viewer.graphExecutions.nodes[0]!.id, userId: mine.data.viewer.id };
  });
  afterAll(async () => {
    await interpreted?.stop();
    await compiled?.stop();
    await db?.close();
  });

  it.each(CORPUS.map((c) => [c.name, c] as const))('%s: the same status and body', async (_name, c) => {
    const key = c.as === 'anonymous' ? null : c.as === 'admin' ? keys.admin : keys.user;
    const variables = c.variables?.(ids);
    const expected = inPathOrder(await post(urls.interpreted, key, c.query, variables, c.operationName));
    // Twice: the first answer is from a fresh compilation, the second from the cached one.
    for (let i = 0; i < 2; i++) expect(inPathOrder(await post(urls.compiled, key, c.query, variables, c.operationName))).toEqual(expected);
    // The corpus is meant to exercise real answers too, not only errors.
    if (!c.name.match(/not found|another|over the cap|malformed|wrong type|missing|bad enum|out of range|unknown operation|anonymous/)) {
      expect((expected.body as { errors?: unknown }).errors, JSON.stringify(expected.body)).toBeUndefined();
    }
  });

  it('answers each operation of a batch on its own variables, when the operations share a document', async () => {
    const query = 'query($first: Int, $nodes: Int) { graphs(first: 3) { nodes { id executions(first: $first) { totalCount nodes { id nodeExecutions(first: $nodes) { nodes { id } } } } } } }';
    const variables = [{ first: 1, nodes: 1 }, { first: 3, nodes: 2 }, { first: 2, nodes: 3 }];
    for (const url of [urls.interpreted, urls.compiled]) {
      const alone = await Promise.all(variables.map(async (v) => (await post(url, keys.user, query, v)).body));
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.user}` },
        body: JSON.stringify(variables.map((v) => ({ query, variables: v }))),
      });
      expect(await response.json()).toEqual(alone);
      // Each operation's pages are of its own size.
      alone.forEach((body, i) => {
        for (const graph of (body as { data: { graphs: { nodes: Array<{ executions: { totalCount: number; nodes: unknown[] } }> } } }).data.graphs.nodes) {
          expect(graph.executions.nodes).toHaveLength(Math.min(variables[i]!.first, graph.executions.totalCount));
        }
      });
    }
  });

  it('compiles a document on the use after `compileAfterUses`, and answers the same before and after', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const server = await createServer({ db, log: pino({ level: 'debug' }, sink), apiKeyCacheMs: 0, compileAfterUses: 2, playground: false });
    const { url } = await server.listen(0, '127.0.0.1');
    try {
      const compiledAt: number[] = [];
      const answers: Answer[] = [];
      for (let use = 1; use <= 4; use++) {
        answers.push(await post(url, keys.user, 'query Hot { graphExecutions(first: 3) { nodes { id status createdAt } } }'));
        if (lines.some((line) => line.includes('operation compiled')) && !compiledAt.length) compiledAt.push(use);
      }
      expect(compiledAt).toEqual([3]);
      expect(lines.filter((line) => line.includes('operation compiled'))).toHaveLength(1);
      for (const answer of answers) expect(answer).toEqual(answers[0]);
    } finally {
      await server.stop();
    }
  });
});
