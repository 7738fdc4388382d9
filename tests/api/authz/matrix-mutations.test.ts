import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOwned,
  createWorld,
  expectOk,
  expectRefused,
  messageShape,
  snapshot,
  type Actor,
  type Owned,
  type World,
} from '../../helpers/authz.js';
import { testDatabaseKinds } from '../../helpers/databases.js';
import { catalogueBlockId, createRun } from '../../helpers/factories.js';
import { startTestServer } from '../../helpers/server.js';

/**
 * The authorization matrix of every mutation (sessions excepted). Refusals are checked twice: the answer (code,
 * no data) and the database (every row a mutation could touch is the same before and after).
 */

type Target = 'A' | 'B' | 'missing';

const GRAPH_INPUT = { name: 'Rewritten', description: 'by a test', nodes: [{ key: 'only', blockId: catalogueBlockId('AgentInputBlock'), nodeType: 'INPUT', inputDefault: { name: 'only' } }] };

/** Mutations that name a row by id. `permission` is what a key needs besides owning the row. */
const TARGETED: Array<{ name: string; query: string; vars: (o: Owned) => Record<string, unknown>; permission: 'WRITE_GRAPHS' | 'EXECUTE_GRAPHS' | null }> = [
  {
    name: 'updateGraph',
    query: 'mutation($id: ID!, $input: GraphInput!) { updateGraph(id: $id, input: $input) { graph { id version } } }',
    vars: (o) => ({ id: o.graphId, input: GRAPH_INPUT }),
    permission: 'WRITE_GRAPHS',
  },
  {
    name: 'setActiveGraphVersion',
    query: 'mutation($id: ID!) { setActiveGraphVersion(id: $id, version: 1) { graph { id version isActive } } }',
    vars: (o) => ({ id: o.graphId }),
    permission: 'WRITE_GRAPHS',
  },
  {
    name: 'setGraphTemplate',
    query: 'mutation($id: ID!) { setGraphTemplate(id: $id, version: 1, isTemplate: true) { graph { id version isTemplate } } }',
    vars: (o) => ({ id: o.graphId }),
    permission: 'WRITE_GRAPHS',
  },
  {
    name: 'deleteGraph',
    query: 'mutation($id: ID!) { deleteGraph(id: $id) { deletedGraphId deletedVersions } }',
    vars: (o) => ({ id: o.graphId }),
    permission: 'WRITE_GRAPHS',
  },
  {
    name: 'executeGraph',
    query: 'mutation($id: ID!) { executeGraph(graphId: $id, inputs: { topic: "x" }) { graphExecution { id } } }',
    vars: (o) => ({ id: o.graphId }),
    permission: 'EXECUTE_GRAPHS',
  },
  {
    name: 'updateGraphExecution',
    query: 'mutation($id: ID!) { updateGraphExecution(id: $id, status: RUNNING, stats: { steps: 1 }) { graphExecution { id status } } }',
    vars: (o) => ({ id: o.runId }),
    permission: 'EXECUTE_GRAPHS',
  },
  {
    name: 'updateNodeExecution',
    query: 'mutation($id: ID!) { updateNodeExecution(id: $id, status: QUEUED, cost: 5) { nodeExecution { id status cost } } }',
    vars: (o) => ({ id: o.nodeExecutionIds[0] }),
    permission: 'EXECUTE_GRAPHS',
  },
  {
    name: 'deleteGraphExecution',
    query: 'mutation($id: ID!) { deleteGraphExecution(id: $id) { deletedGraphExecutionId } }',
    vars: (o) => ({ id: o.runId }),
    permission: 'EXECUTE_GRAPHS',
  },
  {
    name: 'revokeApiKey',
    query: 'mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id status } } }',
    vars: (o) => ({ id: o.apiKeyId }),
    permission: null,
  },
];

/** [actor, whose row, code]; the READ_GRAPHS-only key is refused for lack of permission before ownership is looked at. */
function refusalsOf(permission: string | null): Array<[Actor, Target, string]> {
  return [
    ['A', 'B', 'NOT_FOUND'],
    ['A', 'missing', 'NOT_FOUND'],
    ['B', 'A', 'NOT_FOUND'],
    ['aNoRead', 'B', 'NOT_FOUND'],
    ['admin', 'missing', 'NOT_FOUND'],
    ...(permission
      ? ([
          ['aRead', 'A', 'FORBIDDEN'],
          ['aRead', 'B', 'FORBIDDEN'],
        ] as Array<[Actor, Target, string]>)
      : ([['aRead', 'B', 'NOT_FOUND']] as Array<[Actor, Target, string]>)),
    ['anonymous', 'A', 'UNAUTHENTICATED'],
    ['anonymous', 'B', 'UNAUTHENTICATED'],
  ];
}

/** Mutations without a target id: [label, actor, query, variables, code]. */
const UNTARGETED_REFUSALS: Array<[string, Actor, string, Record<string, unknown>, string]> = [
  ['createGraph', 'aRead', 'mutation($input: GraphInput!) { createGraph(input: $input) { graph { id } } }', { input: GRAPH_INPUT }, 'FORBIDDEN'],
  ['createGraph', 'anonymous', 'mutation($input: GraphInput!) { createGraph(input: $input) { graph { id } } }', { input: GRAPH_INPUT }, 'UNAUTHENTICATED'],
  ['createApiKey granting WRITE_GRAPHS', 'aRead', 'mutation($p: [ApiKeyPermission!]!) { createApiKey(name: "k", permissions: $p) { secret } }', { p: ['WRITE_GRAPHS'] }, 'FORBIDDEN'],
  ['createApiKey granting READ_GRAPHS + EXECUTE_GRAPHS', 'aRead', 'mutation($p: [ApiKeyPermission!]!) { createApiKey(name: "k", permissions: $p) { secret } }', { p: ['READ_GRAPHS', 'EXECUTE_GRAPHS'] }, 'FORBIDDEN'],
  ['createApiKey granting READ_GRAPHS', 'aNoRead', 'mutation($p: [ApiKeyPermission!]!) { createApiKey(name: "k", permissions: $p) { secret } }', { p: ['READ_GRAPHS'] }, 'FORBIDDEN'],
  ['createApiKey granting ADMIN', 'A', 'mutation($p: [ApiKeyPermission!]!) { createApiKey(name: "k", permissions: $p) { secret } }', { p: ['ADMIN'] }, 'FORBIDDEN'],
  ['createApiKey granting nothing', 'A', 'mutation($p: [ApiKeyPermission!]!) { createApiKey(name: "k", permissions: $p) { secret } }', { p: [] }, 'BAD_USER_INPUT'],
  ['createApiKey', 'anonymous', 'mutation($p: [ApiKeyPermission!]!) { createApiKey(name: "k", permissions: $p) { secret } }', { p: ['READ_GRAPHS'] }, 'UNAUTHENTICATED'],
];

describe.each(testDatabaseKinds)('authorization matrix of mutations on %s', (kind) => {
  let w: World;
  const as = (actor: Actor) => w.keys[actor];
  const db = () => w.server.db;
  const prisma = () => w.server.db.prisma;

  beforeAll(async () => {
    w = await createWorld(await startTestServer({ database: kind }));
  });
  afterAll(() => w?.server.close());

  describe.each(TARGETED)('$name refusals', (mutation) => {
    it.each(refusalsOf(mutation.permission))('%s on %s’s row → %s, database unchanged', async (actor, target, code) => {
      const before = await snapshot(db());
      const res = await w.server.graphql(mutation.query, mutation.vars(w[target]), as(actor));
      expectRefused(res, code, `${mutation.name} by ${actor} on ${target}`);
      expect(res.data?.[mutation.name] ?? null).toBeNull();
      expect(await snapshot(db())).toEqual(before);
    });

    it('answers another user’s id with the same message as an id that does not exist', async () => {
      const theirs = await w.server.graphql(mutation.query, mutation.vars(w.B), as('A'));
      const missing = await w.server.graphql(mutation.query, mutation.vars(w.missing), as('A'));
      expectRefused(theirs, 'NOT_FOUND');
      expect(messageShape(theirs)).toBe(messageShape(missing));
      expect(theirs.errors?.[0]?.extensions).toEqual(missing.errors?.[0]?.extensions);
    });
  });

  it.each(UNTARGETED_REFUSALS)('%s by %s → refused, database unchanged', async (label, actor, query, variables, code) => {
    const before = await snapshot(db());
    const res = await w.server.graphql(query, variables, as(actor));
    expectRefused(res, code, `${label} by ${actor}`);
    expect(await snapshot(db())).toEqual(before);
  });

  describe('own rows work, and admins work on every user’s rows', () => {
    it.each<['A' | 'admin']>([['A'], ['admin']])('createGraph by %s creates an active version 1 owned by the caller', async (actor) => {
      const res = await w.server.graphql<{ createGraph: { graph: { id: string; version: number; isActive: boolean; owner: { id: string } } } }>(
        'mutation($input: GraphInput!) { createGraph(input: $input) { graph { id version isActive owner { id } } } }',
        { input: GRAPH_INPUT },
        as(actor),
      );
      expectOk(res);
      expect(res.data!.createGraph.graph).toMatchObject({ version: 1, isActive: true, owner: { id: w.users[actor] } });
      expect(await prisma().graph.findMany({ where: { id: res.data!.createGraph.graph.id } })).toHaveLength(1);
    });

    it.each<['A' | 'admin', 'A' | 'B']>([
      ['A', 'A'],
      ['admin', 'B'],
    ])('updateGraph by %s of %s’s graph adds version 3, active, still owned by %s', async (actor, owner) => {
      const fresh = await createOwned(db(), w.users[owner], `update-${actor}`);
      const res = await w.server.graphql<{ updateGraph: { graph: { id: string; version: number; isActive: boolean; name: string; owner: { id: string } } } }>(
        'mutation($id: ID!, $input: GraphInput!) { updateGraph(id: $id, input: $input) { graph { id version isActive name owner { id } } } }',
        { id: fresh.graphId, input: GRAPH_INPUT },
        as(actor),
      );
      expectOk(res);
      expect(res.data!.updateGraph.graph).toEqual({ id: fresh.graphId, version: 3, isActive: true, name: 'Rewritten', owner: { id: w.users[owner] } });
      const versions = await prisma().graph.findMany({ where: { id: fresh.graphId }, orderBy: { version: 'asc' } });
      expect(versions.map((g) => [g.version, g.isActive, g.userId])).toEqual([
        [1, false, w.users[owner]],
        [2, false, w.users[owner]],
        [3, true, w.users[owner]],
      ]);
    });

    it.each<['A' | 'admin', 'A' | 'B']>([
      ['A', 'A'],
      ['admin', 'B'],
    ])('setActiveGraphVersion by %s of %s’s graph', async (actor, owner) => {
      const fresh = await createOwned(db(), w.users[owner], `activate-${actor}`);
      const res = await w.server.graphql<{ setActiveGraphVersion: { graph: { version: number; isActive: boolean } } }>(
        'mutation($id: ID!) { setActiveGraphVersion(id: $id, version: 1) { graph { version isActive } } }',
        { id: fresh.graphId },
        as(actor),
      );
      expectOk(res);
      expect(res.data!.setActiveGraphVersion.graph).toEqual({ version: 1, isActive: true });
      const versions = await prisma().graph.findMany({ where: { id: fresh.graphId }, orderBy: { version: 'asc' } });
      expect(versions.map((g) => g.isActive)).toEqual([true, false]);
    });

    it.each<['A' | 'admin', 'A' | 'B']>([
      ['A', 'A'],
      ['admin', 'B'],
    ])('deleteGraph by %s of %s’s graph removes every version, node and run', async (actor, owner) => {
      const fresh = await createOwned(db(), w.users[owner], `delete-${actor}`);
      const res = await w.server.graphql<{ deleteGraph: { deletedGraphId: string; deletedVersions: number } }>(
        'mutation($id: ID!) { deleteGraph(id: $id) { deletedGraphId deletedVersions } }',
        { id: fresh.graphId },
        as(actor),
      );
      expectOk(res);
      expect(res.data!.deleteGraph).toEqual({ deletedGraphId: fresh.graphId, deletedVersions: 2 });
      expect(await prisma().graph.count({ where: { id: fresh.graphId } })).toBe(0);
      expect(await prisma().node.count({ where: { graphId: fresh.graphId } })).toBe(0);
      expect(await prisma().graphExecution.count({ where: { id: fresh.runId } })).toBe(0);
      expect(await prisma().nodeExecution.count({ where: { id: { in: fresh.nodeExecutionIds } } })).toBe(0);
    });

    it.each<['A' | 'admin', 'A' | 'B']>([
      ['A', 'A'],
      ['admin', 'B'],
    ])('executeGraph by %s of %s’s graph queues a run owned by the caller', async (actor, owner) => {
      const fresh = await createOwned(db(), w.users[owner], `execute-${actor}`);
      const res = await w.server.graphql<{
        executeGraph: { graphExecution: { id: string; status: string; graphVersion: number; user: { id: string }; nodeExecutions: { totalCount: number; nodes: Array<{ status: string }> } } };
      }>(
        'mutation($id: ID!) { executeGraph(graphId: $id) { graphExecution { id status graphVersion user { id } nodeExecutions { totalCount nodes { status } } } } }',
        { id: fresh.graphId },
        as(actor),
      );
      expectOk(res);
      const run = res.data!.executeGraph.graphExecution;
      expect(run).toMatchObject({ status: 'QUEUED', graphVersion: 2, user: { id: w.users[actor] } });
      expect(run.nodeExecutions.totalCount).toBe(3);
      expect(run.nodeExecutions.nodes.every((n) => n.status === 'INCOMPLETE')).toBe(true);
      if (actor === 'admin') {
        // The owner of the graph does not see the admin's run of it.
        const ownerView = await w.server.graphql<{ graph: { executions: { nodes: Array<{ id: string }> } } }>(
          'query($id: ID!) { graph(id: $id) { executions { nodes { id } } } }',
          { id: fresh.graphId },
          as(owner),
        );
        expect(ownerView.data!.graph.executions.nodes.map((n) => n.id)).toEqual([fresh.runId]);
      }
    });

    it.each<['A' | 'admin', 'A' | 'B']>([
      ['A', 'A'],
      ['admin', 'B'],
    ])('updateGraphExecution by %s of %s’s run', async (actor, owner) => {
      const fresh = await createOwned(db(), w.users[owner], `run-${actor}`);
      const res = await w.server.graphql<{ updateGraphExecution: { graphExecution: { id: string; status: string; startedAt: string | null } } }>(
        'mutation($id: ID!) { updateGraphExecution(id: $id, status: RUNNING) { graphExecution { id status startedAt } } }',
        { id: fresh.runId },
        as(actor),
      );
      expectOk(res);
      expect(res.data!.updateGraphExecution.graphExecution).toMatchObject({ id: fresh.runId, status: 'RUNNING' });
      expect(res.data!.updateGraphExecution.graphExecution.startedAt).not.toBeNull();
      expect((await prisma().graphExecution.findUniqueOrThrow({ where: { id: fresh.runId } })).status).toBe('RUNNING');
    });

    it.each<['A' | 'admin', 'A' | 'B']>([
      ['A', 'A'],
      ['admin', 'B'],
    ])('updateNodeExecution by %s of %s’s node execution adds its cost to the run', async (actor, owner) => {
      const fresh = await createOwned(db(), w.users[owner], `node-${actor}`);
      const res = await w.server.graphql<{ updateNodeExecution: { nodeExecution: { status: string; cost: number; graphExecution: { cost: number } } } }>(
        'mutation($id: ID!) { updateNodeExecution(id: $id, status: QUEUED, cost: 7) { nodeExecution { status cost graphExecution { cost } } } }',
        { id: fresh.nodeExecutionIds[0] },
        as(actor),
      );
      expectOk(res);
      expect(res.data!.updateNodeExecution.nodeExecution).toEqual({ status: 'QUEUED', cost: 7, graphExecution: { cost: 7 } });
      expect((await prisma().graphExecution.findUniqueOrThrow({ where: { id: fresh.runId } })).cost).toBe(7);
    });

    it.each<['A' | 'admin', 'A' | 'B']>([
      ['A', 'A'],
      ['admin', 'B'],
    ])('deleteGraphExecution by %s of %s’s run hides it everywhere', async (actor, owner) => {
      const fresh = await createOwned(db(), w.users[owner], `softdelete-${actor}`);
      const res = await w.server.graphql('mutation($id: ID!) { deleteGraphExecution(id: $id) { deletedGraphExecutionId } }', { id: fresh.runId }, as(actor));
      expectOk(res);
      expect(res.data).toEqual({ deleteGraphExecution: { deletedGraphExecutionId: fresh.runId } });
      expect((await prisma().graphExecution.findUniqueOrThrow({ where: { id: fresh.runId } })).isDeleted).toBe(true);
      for (const viewer of [owner, 'admin'] as const) {
        expectRefused(await w.server.graphql('query($id: ID!) { graphExecution(id: $id) { id } }', { id: fresh.runId }, as(viewer)), 'NOT_FOUND');
        expectRefused(await w.server.graphql('query($id: ID!) { nodeExecution(id: $id) { id } }', { id: fresh.nodeExecutionIds[0] }, as(viewer)), 'NOT_FOUND');
        const list = await w.server.graphql<{ graphExecutions: { nodes: Array<{ id: string }> } }>('{ graphExecutions(first: 100) { nodes { id } } }', {}, as(viewer));
        expect(list.data!.graphExecutions.nodes.map((n) => n.id)).not.toContain(fresh.runId);
      }
      // A second delete finds nothing to delete.
      expectRefused(await w.server.graphql('mutation($id: ID!) { deleteGraphExecution(id: $id) { deletedGraphExecutionId } }', { id: fresh.runId }, as(actor)), 'NOT_FOUND');
    });
  });

  /**
   * A key with WRITE_GRAPHS / EXECUTE_GRAPHS but not READ_GRAPHS (an executor's key, say) is allowed to run these
   * mutations. Whatever the policy for reading the payload back, the answer must tell the truth: a mutation that
   * answers an error must not have changed anything.
   */
  describe('a key with write/execute permissions but no READ_GRAPHS', () => {
    const cases: Array<[string, string, (o: Omit<Owned, 'apiKeyId'>) => Record<string, unknown>]> = [
      ['createGraph', 'mutation($input: GraphInput!) { createGraph(input: $input) { graph { id } } }', () => ({ input: GRAPH_INPUT })],
      ['updateGraph', 'mutation($id: ID!, $input: GraphInput!) { updateGraph(id: $id, input: $input) { graph { id } } }', (o) => ({ id: o.graphId, input: GRAPH_INPUT })],
      ['setActiveGraphVersion', 'mutation($id: ID!) { setActiveGraphVersion(id: $id, version: 1) { graph { id } } }', (o) => ({ id: o.graphId })],
      ['setGraphTemplate', 'mutation($id: ID!) { setGraphTemplate(id: $id, version: 1, isTemplate: true) { graph { id } } }', (o) => ({ id: o.graphId })],
      ['executeGraph', 'mutation($id: ID!) { executeGraph(graphId: $id) { graphExecution { id } } }', (o) => ({ id: o.graphId })],
      ['updateGraphExecution', 'mutation($id: ID!) { updateGraphExecution(id: $id, status: RUNNING) { graphExecution { id } } }', (o) => ({ id: o.runId })],
      ['updateNodeExecution', 'mutation($id: ID!) { updateNodeExecution(id: $id, status: QUEUED) { nodeExecution { id } } }', (o) => ({ id: o.nodeExecutionIds[0] })],
    ];

    it.each(cases)('%s either succeeds with its payload or changes nothing', async (name, query, vars) => {
      const fresh = await createOwned(db(), w.users.A, `no-read-${name}`);
      const before = await snapshot(db());
      const res = await w.server.graphql(query, vars(fresh), as('aNoRead'));
      if (res.errors?.length) {
        expect(await snapshot(db()), `${name} answered ${res.errors[0]?.extensions?.code} (“${res.errors[0]?.message}”) yet changed the database`).toEqual(before);
      } else {
        expect(res.data?.[name]).toBeTruthy();
      }
    });

    it('deleteGraph and deleteGraphExecution (payloads without rows) succeed', async () => {
      const fresh = await createOwned(db(), w.users.A, 'no-read-delete');
      expectOk(await w.server.graphql('mutation($id: ID!) { deleteGraphExecution(id: $id) { deletedGraphExecutionId } }', { id: fresh.runId }, as('aNoRead')));
      expectOk(await w.server.graphql('mutation($id: ID!) { deleteGraph(id: $id) { deletedGraphId } }', { id: fresh.graphId }, as('aNoRead')));
      expect(await prisma().graph.count({ where: { id: fresh.graphId } })).toBe(0);
    });
  });

  it('an admin’s run of another user’s graph stays the admin’s: the graph owner cannot touch it', async () => {
    const { runId } = await createRun(db(), { graphId: w.B.graphId, version: 2, userId: w.users.admin });
    const before = await snapshot(db());
    const res = await w.server.graphql('mutation($id: ID!) { updateGraphExecution(id: $id, status: RUNNING) { graphExecution { id } } }', { id: runId }, as('B'));
    expectRefused(res, 'NOT_FOUND');
    expect(await snapshot(db())).toEqual(before);
  });
});
