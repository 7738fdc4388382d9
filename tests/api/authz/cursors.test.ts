import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOk, expectRefused, forgeCursor } from '../../helpers/authz.js';
import { testDatabaseKinds } from '../../helpers/databases.js';
import { createApiKey, createGraph, createRun, createUser } from '../../helpers/factories.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

/**
 * Cursors are opaque but not secret: they carry keyset values only, so replaying another user's cursor must page
 * the replaying user's own rows, and anything that is not a cursor this server made for this list is BAD_USER_INPUT
 * (never a server error, never rows).
 */

const QUERIES = {
  graphs: 'query($a: String, $o: GraphOrder) { graphs(first: 100, after: $a, orderBy: $o) { pageInfo { endCursor hasPreviousPage } nodes { id owner { id } } } }',
  graphExecutions:
    'query($a: String, $o: GraphExecutionOrder) { graphExecutions(first: 100, after: $a, orderBy: $o) { pageInfo { endCursor hasPreviousPage } nodes { id user { id } } } }',
  graphRuns: 'query($id: ID!, $a: String) { graph(id: $id) { executions(first: 100, after: $a) { pageInfo { endCursor } nodes { id user { id } } } } }',
  versions: 'query($id: ID!, $a: String) { graph(id: $id) { versions(first: 100, after: $a) { pageInfo { endCursor } nodes { version } } } }',
  nodeExecutions: 'query($id: ID!, $a: String) { graphExecution(id: $id) { nodeExecutions(first: 100, after: $a) { pageInfo { endCursor } nodes { id } } } }',
  apiKeys: 'query($a: String) { viewer { apiKeys(first: 100, after: $a) { pageInfo { endCursor } nodes { id } } } }',
} as const;
type ListName = keyof typeof QUERIES;

type Row = { id: string; owner?: { id: string }; user?: { id: string } };
type PageData = { nodes: Row[]; pageInfo: { endCursor: string | null; hasPreviousPage?: boolean } };

const MINUTE = 60_000;
const BASE = Date.parse('2026-02-01T00:00:00Z');
const UUID = '00000000-0000-4000-8000-000000000001';
const ISO = '2026-02-01T00:00:00.000Z';

describe.each(testDatabaseKinds)('cursors on %s', (kind) => {
  let server: TestServer;
  let a: { id: string; key: string };
  let b: { id: string; key: string };
  const graphsOf: Record<'A' | 'B', string[]> = { A: [], B: [] };
  const runsOf: Record<'A' | 'B', string[]> = { A: [], B: [] };
  /** Real cursors of A's lists, to truncate and to replay elsewhere. */
  const cursors: Record<string, string> = {};

  const page = async (list: ListName, key: string, variables: Record<string, unknown>) => {
    const res = await server.graphql<Record<string, unknown>>(QUERIES[list], variables, key);
    return res;
  };
  const connectionOf = (data: Record<string, unknown> | null | undefined, list: ListName): PageData => {
    if (list === 'graphRuns') return (data!.graph as { executions: PageData }).executions;
    if (list === 'versions') return (data!.graph as { versions: PageData }).versions;
    if (list === 'nodeExecutions') return (data!.graphExecution as { nodeExecutions: PageData }).nodeExecutions;
    if (list === 'apiKeys') return (data!.viewer as { apiKeys: PageData }).apiKeys;
    return data![list] as PageData;
  };

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    a = { id: server.userId, key: server.apiKey };
    const userB = await createUser(server.db, { name: 'B' });
    b = { id: userB.user.id, key: userB.apiKey };
    // Interleaved in time: A at minutes 0, 2, 4, 6; B at 1, 3, 5, 7. Each graph has one run at the same minute.
    for (let i = 0; i < 8; i++) {
      const who = i % 2 === 0 ? 'A' : 'B';
      const userId = who === 'A' ? a.id : b.id;
      const at = new Date(BASE + i * MINUTE);
      const { graph } = await createGraph(server.db, userId, { name: `${who} ${i}`, createdAt: at });
      graphsOf[who].push(graph.id);
      runsOf[who].push((await createRun(server.db, { graphId: graph.id, version: 1, userId, createdAt: at })).runId);
    }
    // A second version of A's first graph, for Graph.versions cursors.
    await createGraph(server.db, a.id, { name: 'A 0 v2', version: 2, isActive: false }, graphsOf.A[0]);
    // API keys, interleaved too (the users' own keys are newer than all of these).
    for (let i = 0; i < 4; i++) {
      await createApiKey(server.db, i % 2 === 0 ? a.id : b.id, ['READ_GRAPHS'], { name: `old ${i}`, createdAt: new Date(BASE + i * MINUTE) });
    }

    const endCursor = async (list: ListName, variables: Record<string, unknown>) => {
      const res = await page(list, a.key, { ...variables });
      expectOk(res, list);
      return connectionOf(res.data, list).pageInfo.endCursor!;
    };
    const firstOf = (q: string) => q.replace('first: 100', 'first: 2');
    const firstTwo = async (list: ListName, variables: Record<string, unknown> = {}) => {
      const res = await server.graphql<Record<string, unknown>>(firstOf(QUERIES[list]), variables, a.key);
      expectOk(res, list);
      return connectionOf(res.data, list).pageInfo.endCursor!;
    };
    cursors.graphs = await firstTwo('graphs');
    cursors.graphsByName = await firstTwo('graphs', { o: { field: 'NAME', direction: 'ASC' } });
    cursors.graphExecutions = await firstTwo('graphExecutions');
    cursors.graphExecutionsAsc = await firstTwo('graphExecutions', { o: { direction: 'ASC' } });
    cursors.apiKeys = await firstTwo('apiKeys');
    cursors.versions = await endCursor('versions', { id: graphsOf.A[0] });
    cursors.nodeExecutions = await endCursor('nodeExecutions', { id: runsOf.A[0] });
  });
  afterAll(() => server?.close());

  describe('a cursor from A’s page, replayed by B, pages B’s own rows only', () => {
    it('graphs', async () => {
      // A's first two graphs (newest first) are minutes 6 and 4: B's rows after the cursor are minutes 3 and 1.
      const res = await page('graphs', b.key, { a: cursors.graphs });
      expectOk(res);
      const conn = connectionOf(res.data, 'graphs');
      expect(conn.nodes.map((g) => g.id)).toEqual([graphsOf.B[1], graphsOf.B[0]]);
      expect(conn.nodes.every((g) => g.owner?.id === b.id)).toBe(true);
    });

    it('graphExecutions', async () => {
      const res = await page('graphExecutions', b.key, { a: cursors.graphExecutions });
      expectOk(res);
      const conn = connectionOf(res.data, 'graphExecutions');
      expect(conn.nodes.map((r) => r.id)).toEqual([runsOf.B[1], runsOf.B[0]]);
      expect(conn.nodes.every((r) => r.user?.id === b.id)).toBe(true);
    });

    it('graph.executions (with a cursor taken from A’s graphExecutions)', async () => {
      const res = await page('graphRuns', b.key, { id: graphsOf.B[0], a: cursors.graphExecutions });
      expectOk(res);
      expect(connectionOf(res.data, 'graphRuns').nodes.map((r) => r.id)).toEqual([runsOf.B[0]]);
    });

    it('viewer.apiKeys', async () => {
      const res = await page('apiKeys', b.key, { a: cursors.apiKeys });
      expectOk(res);
      const ids = connectionOf(res.data, 'apiKeys').nodes.map((k) => k.id);
      const bKeys = (await server.db.prisma.apiKey.findMany({ where: { userId: b.id } })).map((k) => k.id);
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) expect(bKeys).toContain(id);
    });

    it('A’s cursor still pages A’s rows for A', async () => {
      const res = await page('graphs', a.key, { a: cursors.graphs });
      expectOk(res);
      expect(connectionOf(res.data, 'graphs').nodes.map((g) => g.id)).toEqual([graphsOf.A[1], graphsOf.A[0]]);
    });
  });

  const outOfRangeDate = '-010000-01-01T00:00:00.000Z';
  /** [list, what the cursor is, the cursor]; every one must answer BAD_USER_INPUT. */
  const FORGED: Array<[ListName, string, () => string]> = [
    ['graphs', 'random base64url', () => randomBytes(36).toString('base64url')],
    ['graphs', 'not base64url at all', () => 'not a cursor!'],
    ['graphs', 'truncated', () => cursors.graphs!.slice(0, -4)],
    ['graphs', 'of another ordering (NAME ASC)', () => cursors.graphsByName!],
    ['graphs', 'of another list (graphExecutions)', () => cursors.graphExecutions!],
    ['graphs', 'too long', () => 'A'.repeat(600)],
    ['graphs', 'an empty array', () => forgeCursor([])],
    ['graphs', 'an object', () => Buffer.from('{"order":"graphs:CREATED_AT:DESC"}').toString('base64url')],
    ['graphs', 'with a non-uuid id', () => forgeCursor(['graphs:CREATED_AT:DESC', ISO, 'not-a-uuid', 1])],
    ['graphs', 'with SQL in the id', () => forgeCursor(['graphs:CREATED_AT:DESC', ISO, "' OR '1'='1", 1])],
    ['graphs', 'with an unparseable date', () => forgeCursor(['graphs:CREATED_AT:DESC', 'yesterday', UUID, 1])],
    ['graphs', 'with a fractional version', () => forgeCursor(['graphs:CREATED_AT:DESC', ISO, UUID, 1.5])],
    ['graphs', 'with an out-of-range version', () => forgeCursor(['graphs:CREATED_AT:DESC', ISO, UUID, 1e300])],
    ['graphs', 'with an out-of-range date', () => forgeCursor(['graphs:CREATED_AT:DESC', outOfRangeDate, UUID, 1])],
    ['graphExecutions', 'random base64url', () => randomBytes(36).toString('base64url')],
    ['graphExecutions', 'truncated', () => cursors.graphExecutions!.slice(0, -4)],
    ['graphExecutions', 'of another ordering (ASC)', () => cursors.graphExecutionsAsc!],
    ['graphExecutions', 'of another list (graphs)', () => cursors.graphs!],
    ['graphExecutions', 'with a non-uuid id', () => forgeCursor(['graphExecutions:CREATED_AT:DESC', ISO, 'not-a-uuid'])],
    ['graphExecutions', 'with a number for a date', () => forgeCursor(['graphExecutions:CREATED_AT:DESC', 12345, UUID])],
    ['graphExecutions', 'with an out-of-range date', () => forgeCursor(['graphExecutions:CREATED_AT:DESC', outOfRangeDate, UUID])],
    ['graphRuns', 'of another list (graphs)', () => cursors.graphs!],
    ['graphRuns', 'with a non-uuid id', () => forgeCursor(['graphExecutions:CREATED_AT:DESC', ISO, 'x'])],
    ['versions', 'random base64url', () => randomBytes(36).toString('base64url')],
    ['versions', 'of another list (graphs)', () => cursors.graphs!],
    ['versions', 'with a string version', () => forgeCursor(['graphVersions', '2'])],
    ['versions', 'with a fractional version', () => forgeCursor(['graphVersions', 1.5])],
    ['versions', 'with an out-of-range version', () => forgeCursor(['graphVersions', 1e300])],
    ['nodeExecutions', 'random base64url', () => randomBytes(36).toString('base64url')],
    ['nodeExecutions', 'truncated', () => cursors.nodeExecutions!.slice(0, -4)],
    ['nodeExecutions', 'of another list (graphExecutions)', () => cursors.graphExecutions!],
    ['nodeExecutions', 'with a non-uuid id', () => forgeCursor(['nodeExecutions:ADDED_AT:ASC', ISO, 'not-a-uuid'])],
    ['nodeExecutions', 'with an out-of-range date', () => forgeCursor(['nodeExecutions:ADDED_AT:ASC', outOfRangeDate, UUID])],
    ['apiKeys', 'random base64url', () => randomBytes(36).toString('base64url')],
    ['apiKeys', 'of another list (graphs)', () => cursors.graphs!],
    ['apiKeys', 'with a non-uuid id', () => forgeCursor(['apiKeys:CREATED_AT:DESC', ISO, 'not-a-uuid'])],
    ['apiKeys', 'with an out-of-range date', () => forgeCursor(['apiKeys:CREATED_AT:DESC', outOfRangeDate, UUID])],
  ];

  it.each(FORGED)('%s: a cursor %s → BAD_USER_INPUT', async (list, _what, cursor) => {
    const parent = list === 'graphRuns' || list === 'versions' ? { id: graphsOf.A[0] } : list === 'nodeExecutions' ? { id: runsOf.A[0] } : {};
    const res = await page(list, a.key, { ...parent, a: cursor() });
    expectRefused(res, 'BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.argument).toBe('after');
    expect(JSON.stringify(res.data ?? null)).not.toMatch(/"nodes":\[\{/);
  });

  it('a random uuid inside an otherwise valid cursor pages normally (the id is only a position)', async () => {
    const res = await page('graphs', b.key, { a: forgeCursor(['graphs:CREATED_AT:DESC', new Date(BASE + 4 * MINUTE).toISOString(), randomUUID(), 1]) });
    expectOk(res);
    expect(connectionOf(res.data, 'graphs').nodes.every((g) => g.owner?.id === b.id)).toBe(true);
  });
});
