import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, expectOk, expectRefused, messageShape, type Actor, type Owned, type World } from '../../helpers/authz.js';
import { testDatabaseKinds } from '../../helpers/databases.js';
import { createRun } from '../../helpers/factories.js';
import { startTestServer } from '../../helpers/server.js';

/**
 * The authorization matrix of every query (sessions excepted): own rows are readable, other users' ids answer
 * NOT_FOUND exactly like missing ids, admins read everything, keys without READ_GRAPHS are FORBIDDEN and
 * anonymous callers UNAUTHENTICATED.
 */

type Target = 'A' | 'B' | 'missing';
type Data = Record<string, unknown> | null | undefined;

/** Single-row reads by id: the query, its variables for a target's rows, and the id the answer must carry. */
const SINGLE_READS: Array<{ name: string; query: string; vars: (o: Owned) => Record<string, unknown>; answered: (d: Data) => unknown; expected: (o: Owned) => string }> = [
  {
    name: 'graph(id)',
    query: 'query($id: ID!) { graph(id: $id) { id version isActive owner { id } } }',
    vars: (o) => ({ id: o.graphId }),
    answered: (d) => (d?.graph as { id: string } | null)?.id,
    expected: (o) => o.graphId,
  },
  {
    name: 'graph(id, version)',
    query: 'query($id: ID!) { graph(id: $id, version: 1) { id version isActive } }',
    vars: (o) => ({ id: o.graphId }),
    answered: (d) => (d?.graph as { id: string } | null)?.id,
    expected: (o) => o.graphId,
  },
  {
    name: 'graphExecution(id)',
    query: 'query($id: ID!) { graphExecution(id: $id) { id status user { id } graph { id } } }',
    vars: (o) => ({ id: o.runId }),
    answered: (d) => (d?.graphExecution as { id: string } | null)?.id,
    expected: (o) => o.runId,
  },
  {
    name: 'nodeExecution(id)',
    query: 'query($id: ID!) { nodeExecution(id: $id) { id status graphExecution { id } node { id } } }',
    vars: (o) => ({ id: o.nodeExecutionIds[0] }),
    answered: (d) => (d?.nodeExecution as { id: string } | null)?.id,
    expected: (o) => o.nodeExecutionIds[0]!,
  },
];

/** [actor, whose row, expected answer]: `ok` or the error code. */
const SINGLE_READ_MATRIX: Array<[Actor, Target, 'ok' | 'NOT_FOUND' | 'FORBIDDEN' | 'UNAUTHENTICATED']> = [
  ['A', 'A', 'ok'],
  ['A', 'B', 'NOT_FOUND'],
  ['A', 'missing', 'NOT_FOUND'],
  ['B', 'A', 'NOT_FOUND'],
  ['B', 'B', 'ok'],
  ['admin', 'A', 'ok'],
  ['admin', 'B', 'ok'],
  ['admin', 'missing', 'NOT_FOUND'],
  ['aRead', 'A', 'ok'],
  ['aRead', 'B', 'NOT_FOUND'],
  ['aNoRead', 'A', 'FORBIDDEN'],
  ['anonymous', 'A', 'UNAUTHENTICATED'],
  ['anonymous', 'missing', 'UNAUTHENTICATED'],
];

const GRAPHS = /* GraphQL */ `
  query($filter: GraphFilter) { graphs(first: 100, filter: $filter) { totalCount nodes { id version owner { id } } } }
`;
const RUNS = /* GraphQL */ `
  query($filter: GraphExecutionFilter) { graphExecutions(first: 100, filter: $filter) { totalCount nodes { id user { id } } } }
`;

type GraphsData = { graphs: { totalCount: number; nodes: Array<{ id: string; version: number; owner: { id: string } }> } };
type RunsData = { graphExecutions: { totalCount: number; nodes: Array<{ id: string; user: { id: string } }> } };
type Page<T> = { totalCount: number; nodes: T[] };

describe.each(testDatabaseKinds)('authorization matrix of queries on %s', (kind) => {
  let w: World;
  /** A run by the admin of A's graph: A's graph.executions must not show it to A. */
  let adminRunOnA: string;

  const as = (actor: Actor) => w.keys[actor];
  const owned = (target: Target) => w[target];
  const userOf = (actor: 'A' | 'B' | 'admin') => w.users[actor];

  beforeAll(async () => {
    const server = await startTestServer({ database: kind });
    w = await createWorld(server);
    adminRunOnA = (await createRun(server.db, { graphId: w.A.graphId, version: 2, userId: w.users.admin })).runId;
  });
  afterAll(() => w?.server.close());

  describe.each(SINGLE_READS)('$name', (read) => {
    it.each(SINGLE_READ_MATRIX)('%s reading %s’s row → %s', async (actor, target, expected) => {
      const res = await w.server.graphql(read.query, read.vars(owned(target)), as(actor));
      if (expected === 'ok') {
        expectOk(res);
        expect(read.answered(res.data as Data)).toBe(read.expected(owned(target)));
      } else {
        expectRefused(res, expected);
        expect(read.answered(res.data as Data) ?? null).toBeNull();
      }
    });

    it('answers another user’s id with the same message as an id that does not exist', async () => {
      const theirs = await w.server.graphql(read.query, read.vars(w.B), as('A'));
      const missing = await w.server.graphql(read.query, read.vars(w.missing), as('A'));
      expectRefused(theirs, 'NOT_FOUND');
      expect(messageShape(theirs)).toBe(messageShape(missing));
      expect(theirs.errors?.[0]?.extensions).toEqual(missing.errors?.[0]?.extensions);
      expect(theirs.status).toBe(missing.status);
    });
  });

  describe('viewer', () => {
    it.each<[Actor, 'A' | 'B' | 'admin']>([
      ['A', 'A'],
      ['B', 'B'],
      ['admin', 'admin'],
      ['aRead', 'A'],
      ['aNoRead', 'A'],
    ])('%s gets its own user', async (actor, user) => {
      const res = await w.server.graphql<{ viewer: { id: string; permissions: string[] } }>('{ viewer { id permissions } }', {}, as(actor));
      expectOk(res);
      expect(res.data?.viewer.id).toBe(userOf(user));
    });

    it('shows the request’s key permissions, not the user’s broadest key', async () => {
      const res = await w.server.graphql<{ viewer: { permissions: string[] } }>('{ viewer { permissions } }', {}, as('aRead'));
      expect(res.data?.viewer.permissions).toEqual(['READ_GRAPHS']);
    });

    it('anonymous → UNAUTHENTICATED', async () => {
      expectRefused(await w.server.graphql('{ viewer { id } }', {}, null), 'UNAUTHENTICATED');
    });
  });

  describe('graphs', () => {
    const activeGraphsOf = async (userId?: string) =>
      (await w.server.db.prisma.graph.findMany({ where: { isActive: true, ...(userId ? { userId } : {}) } })).map((g) => g.id).sort();

    it.each<[Actor, 'A' | 'B' | 'all']>([
      ['A', 'A'],
      ['B', 'B'],
      ['aRead', 'A'],
      ['admin', 'all'],
    ])('%s sees exactly %s’s graphs', async (actor, whose) => {
      const res = await w.server.graphql<GraphsData>(GRAPHS, {}, as(actor));
      expectOk(res);
      const expected = await activeGraphsOf(whose === 'all' ? undefined : userOf(whose));
      expect(res.data!.graphs.nodes.map((g) => g.id).sort()).toEqual(expected);
      expect(res.data!.graphs.totalCount).toBe(expected.length);
    });

    it.each<[Actor, 'A' | 'B', 'ok' | 'FORBIDDEN']>([
      ['A', 'A', 'ok'],
      ['A', 'B', 'FORBIDDEN'],
      ['aRead', 'B', 'FORBIDDEN'],
      ['B', 'A', 'FORBIDDEN'],
      ['admin', 'A', 'ok'],
      ['admin', 'B', 'ok'],
    ])('%s with filter.ownerId = %s → %s', async (actor, owner, expected) => {
      const res = await w.server.graphql<GraphsData>(GRAPHS, { filter: { ownerId: userOf(owner) } }, as(actor));
      if (expected === 'FORBIDDEN') return expectRefused(res, 'FORBIDDEN');
      expectOk(res);
      expect(res.data!.graphs.nodes.map((g) => g.id).sort()).toEqual(await activeGraphsOf(userOf(owner)));
    });

    it('inactive versions (isActive: false) are scoped to the viewer too', async () => {
      const res = await w.server.graphql<GraphsData>(GRAPHS, { filter: { isActive: false } }, as('A'));
      expectOk(res);
      expect(res.data!.graphs.nodes).toEqual([{ id: w.A.graphId, version: 1, owner: { id: userOf('A') } }]);
    });

    it.each<[Actor, string]>([
      ['aNoRead', 'FORBIDDEN'],
      ['anonymous', 'UNAUTHENTICATED'],
    ])('%s → %s', async (actor, code) => {
      expectRefused(await w.server.graphql(GRAPHS, {}, as(actor)), code);
    });
  });

  describe('graphExecutions', () => {
    const runsOf = async (userId?: string) =>
      (await w.server.db.prisma.graphExecution.findMany({ where: { isDeleted: false, ...(userId ? { userId } : {}) } })).map((r) => r.id).sort();

    it.each<[Actor, 'A' | 'B' | 'all']>([
      ['A', 'A'],
      ['B', 'B'],
      ['aRead', 'A'],
      ['admin', 'all'],
    ])('%s sees exactly %s’s runs', async (actor, whose) => {
      const res = await w.server.graphql<RunsData>(RUNS, {}, as(actor));
      expectOk(res);
      const expected = await runsOf(whose === 'all' ? undefined : userOf(whose));
      expect(res.data!.graphExecutions.nodes.map((r) => r.id).sort()).toEqual(expected);
      expect(res.data!.graphExecutions.totalCount).toBe(expected.length);
    });

    it.each<[Actor, 'A' | 'B' | 'admin', 'ok' | 'FORBIDDEN']>([
      ['A', 'A', 'ok'],
      ['A', 'B', 'FORBIDDEN'],
      ['A', 'admin', 'FORBIDDEN'],
      ['aRead', 'B', 'FORBIDDEN'],
      ['admin', 'B', 'ok'],
      ['admin', 'A', 'ok'],
    ])('%s with filter.userId = %s → %s', async (actor, user, expected) => {
      const res = await w.server.graphql<RunsData>(RUNS, { filter: { userId: userOf(user) } }, as(actor));
      if (expected === 'FORBIDDEN') return expectRefused(res, 'FORBIDDEN');
      expectOk(res);
      expect(res.data!.graphExecutions.nodes.map((r) => r.id).sort()).toEqual(await runsOf(userOf(user)));
    });

    it('a filter on another user’s graph id answers nothing rather than their runs', async () => {
      const res = await w.server.graphql<RunsData>(RUNS, { filter: { graphId: w.B.graphId } }, as('A'));
      expectOk(res);
      expect(res.data!.graphExecutions).toEqual({ totalCount: 0, nodes: [] });
    });

    it.each<[Actor, string]>([
      ['aNoRead', 'FORBIDDEN'],
      ['anonymous', 'UNAUTHENTICATED'],
    ])('%s → %s', async (actor, code) => {
      expectRefused(await w.server.graphql(RUNS, {}, as(actor)), code);
    });
  });

  describe('User.graphs, User.graphExecutions, User.apiKeys', () => {
    const USER_LISTS = /* GraphQL */ `
      fragment Lists on User {
        id
        graphs(first: 100) { totalCount nodes { id owner { id } } }
        graphExecutions(first: 100) { totalCount nodes { id user { id } } }
        apiKeys(first: 100) { totalCount nodes { id prefix } }
      }
    `;
    type Lists = {
      id: string;
      graphs: Page<{ id: string; owner: { id: string } }>;
      graphExecutions: Page<{ id: string; user: { id: string } }>;
      apiKeys: Page<{ id: string; prefix: string }>;
    };

    const expectListsOf = async (lists: Lists, userId: string) => {
      const prisma = w.server.db.prisma;
      expect(lists.id).toBe(userId);
      expect(lists.graphs.nodes.map((g) => g.id).sort()).toEqual((await prisma.graph.findMany({ where: { userId, isActive: true } })).map((g) => g.id).sort());
      expect(lists.graphExecutions.nodes.map((r) => r.id).sort()).toEqual(
        (await prisma.graphExecution.findMany({ where: { userId, isDeleted: false } })).map((r) => r.id).sort(),
      );
      expect(lists.apiKeys.nodes.map((k) => k.id).sort()).toEqual((await prisma.apiKey.findMany({ where: { userId } })).map((k) => k.id).sort());
      expect(lists.apiKeys.totalCount).toBe(lists.apiKeys.nodes.length);
    };

    it.each<[Actor, 'A' | 'B']>([
      ['A', 'A'],
      ['B', 'B'],
      ['aRead', 'A'],
    ])('%s: viewer’s lists hold only %s’s rows', async (actor, user) => {
      const res = await w.server.graphql<{ viewer: Lists }>(`{ viewer { ...Lists } } ${USER_LISTS}`, {}, as(actor));
      expectOk(res);
      await expectListsOf(res.data!.viewer, userOf(user));
    });

    it('an admin reaching user B (through B’s graph) lists B’s rows, not its own, and not B’s key permissions', async () => {
      const res = await w.server.graphql<{ graph: { owner: Lists & { permissions: string[] | null } } }>(
        `query($id: ID!) { graph(id: $id) { owner { ...Lists permissions } } } ${USER_LISTS}`,
        { id: w.B.graphId },
        as('admin'),
      );
      expectOk(res);
      await expectListsOf(res.data!.graph.owner, userOf('B'));
      expect(res.data!.graph.owner.permissions).toBeNull();
    });

    it('a key without READ_GRAPHS cannot list graphs or runs through the viewer', async () => {
      const res = await w.server.graphql('{ viewer { graphs { nodes { id } } } }', {}, as('aNoRead'));
      expectRefused(res, 'FORBIDDEN');
      const runs = await w.server.graphql('{ viewer { graphExecutions { nodes { id } } } }', {}, as('aNoRead'));
      expectRefused(runs, 'FORBIDDEN');
    });

    // guards.ts: "A non-admin naming someone else is refused rather than silently given their own rows."
    it('a non-admin naming another user in viewer.graphs(filter.ownerId) → FORBIDDEN', async () => {
      const res = await w.server.graphql('query($o: ID) { viewer { graphs(filter: { ownerId: $o }) { nodes { id } } } }', { o: userOf('B') }, as('A'));
      expectRefused(res, 'FORBIDDEN');
    });

    it('a non-admin naming another user in viewer.graphExecutions(filter.userId) → FORBIDDEN', async () => {
      const res = await w.server.graphql('query($u: ID) { viewer { graphExecutions(filter: { userId: $u }) { nodes { id } } } }', { u: userOf('B') }, as('A'));
      expectRefused(res, 'FORBIDDEN');
    });
  });

  describe('nested fields', () => {
    const GRAPH_RUNS = /* GraphQL */ `
      query($id: ID!, $filter: GraphExecutionFilter) {
        graph(id: $id) { executions(first: 100, filter: $filter) { totalCount nodes { id user { id } } } }
      }
    `;
    type GraphRuns = { graph: { executions: Page<{ id: string; user: { id: string } }> } };

    it('graph.executions shows a non-admin only their own runs of their graph (not the admin’s run of it)', async () => {
      const res = await w.server.graphql<GraphRuns>(GRAPH_RUNS, { id: w.A.graphId }, as('A'));
      expectOk(res);
      expect(res.data!.graph.executions).toEqual({ totalCount: 1, nodes: [{ id: w.A.runId, user: { id: userOf('A') } }] });
    });

    it('graph.executions shows an admin every user’s runs', async () => {
      const res = await w.server.graphql<GraphRuns>(GRAPH_RUNS, { id: w.A.graphId }, as('admin'));
      expectOk(res);
      expect(res.data!.graph.executions.nodes.map((r) => r.id).sort()).toEqual([w.A.runId, adminRunOnA].sort());
      expect(res.data!.graph.executions.totalCount).toBe(2);
    });

    it('graph.executions(filter.userId) naming another user → FORBIDDEN for a non-admin', async () => {
      const res = await w.server.graphql(GRAPH_RUNS, { id: w.A.graphId, filter: { userId: userOf('admin') } }, as('A'));
      expectRefused(res, 'FORBIDDEN');
    });

    it('graphs { executions } (the batched path) shows only the viewer’s runs', async () => {
      const res = await w.server.graphql<{ graphs: { nodes: Array<{ id: string; executions: Page<{ id: string; user: { id: string } }> }> } }>(
        '{ graphs(first: 100) { nodes { id executions(first: 100) { totalCount nodes { id user { id } } } } } }',
        {},
        as('A'),
      );
      expectOk(res);
      const runs = res.data!.graphs.nodes.flatMap((g) => g.executions.nodes);
      expect(runs.map((r) => r.id)).toEqual([w.A.runId]);
      expect(res.data!.graphs.nodes.reduce((sum, g) => sum + g.executions.totalCount, 0)).toBe(1);
    });

    it('graphExecution.nodeExecutions lists the run’s node executions', async () => {
      const res = await w.server.graphql<{ graphExecution: { nodeExecutions: Page<{ id: string; graphExecution: { id: string } }> } }>(
        'query($id: ID!) { graphExecution(id: $id) { nodeExecutions(first: 100) { totalCount nodes { id graphExecution { id } } } } }',
        { id: w.A.runId },
        as('aRead'),
      );
      expectOk(res);
      expect(res.data!.graphExecution.nodeExecutions.nodes.map((n) => n.id).sort()).toEqual([...w.A.nodeExecutionIds].sort());
      expect(res.data!.graphExecution.nodeExecutions.totalCount).toBe(w.A.nodeExecutionIds.length);
    });

    it('graph.versions lists the versions of a visible graph only', async () => {
      const res = await w.server.graphql<{ graph: { versions: Page<{ id: string; version: number }> } }>(
        'query($id: ID!) { graph(id: $id) { versions { totalCount nodes { id version } } } }',
        { id: w.A.graphId },
        as('A'),
      );
      expectOk(res);
      expect(res.data!.graph.versions.nodes).toEqual([
        { id: w.A.graphId, version: 2 },
        { id: w.A.graphId, version: 1 },
      ]);
      const theirs = await w.server.graphql('query($id: ID!) { graph(id: $id) { versions { nodes { id } } } }', { id: w.B.graphId }, as('A'));
      expectRefused(theirs, 'NOT_FOUND');
    });

    it('a key without READ_GRAPHS gets no nested graph data through viewer', async () => {
      const res = await w.server.graphql('{ viewer { id graphs { nodes { executions { nodes { nodeExecutions { nodes { id } } } } } } } }', {}, as('aNoRead'));
      expectRefused(res, 'FORBIDDEN');
    });
  });
});
