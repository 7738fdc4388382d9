import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/database.js';
import { codeOf, createOwned, expectOk, snapshot } from '../../helpers/authz.js';
import { testDatabaseKinds } from '../../helpers/databases.js';
import { catalogueBlockId, createApiKey } from '../../helpers/factories.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

/**
 * A mutation either applies and says so, or refuses and changes nothing; what it answers obeys the read
 * permissions. A key without READ_GRAPHS (an executor's EXECUTE_GRAPHS, an editor's WRITE_GRAPHS) reads back the
 * leaf fields of the object it wrote; a selection that asks for any related object or list is refused with
 * FORBIDDEN before anything is written. Each case is checked in the answer and in the database.
 */

type Fixture = Awaited<ReturnType<typeof createOwned>>;
type KeyKind = 'execute' | 'write';

type Mutation = {
  name: string;
  key: KeyKind;
  /** The document with `selection` as the selection of the payload's object (or of the payload itself). */
  document: (selection: string) => string;
  vars: (o: Fixture) => Record<string, unknown>;
  /** Whether the database shows this mutation's write. */
  applied: (db: Database, o: Fixture) => Promise<boolean>;
  /** The written object's own (leaf) fields: readable with the mutation's permission alone. */
  leafFields: string;
  /** Related objects and lists of the written object: each needs READ_GRAPHS. */
  related: string[];
};

const GRAPH_INPUT = { name: 'Answered', nodes: [{ key: 'only', blockId: catalogueBlockId('AgentInputBlock'), nodeType: 'INPUT', inputDefault: { name: 'only' } }] };
const RUN_RELATIONS = ['graph { name }', 'user { email }', 'parent { id }', 'nodeExecutions { nodes { id } }'];
const RUN_LEAVES = 'id graphVersion status inputs outputs stats cost errorMessage createdAt startedAt endedAt durationMs __typename';
const GRAPH_RELATIONS = [
  'owner { email }',
  'nodes { id }',
  'links { id }',
  'versions { totalCount }',
  'executions { totalCount }',
  'stats(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z") { runs }',
];
const GRAPH_LEAVES = 'id version name description isActive isTemplate createdAt updatedAt __typename';

const run = (db: Database, o: Fixture) => db.prisma.graphExecution.findUniqueOrThrow({ where: { id: o.runId } });

const MUTATIONS: Mutation[] = [
  {
    name: 'executeGraph',
    key: 'execute',
    document: (s) => `mutation($id: ID!) { executeGraph(graphId: $id, inputs: { topic: "x" }) { graphExecution { ${s} } } }`,
    vars: (o) => ({ id: o.graphId }),
    applied: async (db, o) => (await db.prisma.graphExecution.count({ where: { graphId: o.graphId } })) === 2,
    leafFields: RUN_LEAVES,
    related: RUN_RELATIONS,
  },
  {
    name: 'updateGraphExecution',
    key: 'execute',
    document: (s) => `mutation($id: ID!) { updateGraphExecution(id: $id, status: RUNNING, stats: { steps: 1 }) { graphExecution { ${s} } } }`,
    vars: (o) => ({ id: o.runId }),
    applied: async (db, o) => (await run(db, o)).status === 'RUNNING',
    leafFields: RUN_LEAVES,
    related: RUN_RELATIONS,
  },
  {
    name: 'updateNodeExecution',
    key: 'execute',
    document: (s) => `mutation($id: ID!) { updateNodeExecution(id: $id, status: QUEUED, cost: 5) { nodeExecution { ${s} } } }`,
    vars: (o) => ({ id: o.nodeExecutionIds[0] }),
    applied: async (db, o) => (await run(db, o)).cost === 5,
    leafFields: 'id status inputs outputs stats cost errorMessage addedAt queuedAt startedAt endedAt durationMs __typename',
    related: ['node { blockId }', 'graphExecution { cost }'],
  },
  {
    name: 'deleteGraphExecution',
    key: 'execute',
    document: (s) => `mutation($id: ID!) { deleteGraphExecution(id: $id) { ${s} } }`,
    vars: (o) => ({ id: o.runId }),
    applied: async (db, o) => (await run(db, o)).isDeleted,
    leafFields: 'deletedGraphExecutionId __typename',
    related: [],
  },
  {
    name: 'createGraph',
    key: 'write',
    document: (s) => `mutation($input: GraphInput!) { createGraph(input: $input) { graph { ${s} } } }`,
    vars: (o) => ({ input: { ...GRAPH_INPUT, name: `created for ${o.graphId}` } }),
    applied: async (db, o) => (await db.prisma.graph.count({ where: { name: `created for ${o.graphId}` } })) === 1,
    leafFields: GRAPH_LEAVES,
    related: GRAPH_RELATIONS,
  },
  {
    name: 'updateGraph',
    key: 'write',
    document: (s) => `mutation($id: ID!, $input: GraphInput!) { updateGraph(id: $id, input: $input) { graph { ${s} } } }`,
    vars: (o) => ({ id: o.graphId, input: GRAPH_INPUT }),
    applied: async (db, o) => (await db.prisma.graph.count({ where: { id: o.graphId } })) === 3,
    leafFields: GRAPH_LEAVES,
    related: GRAPH_RELATIONS,
  },
  {
    name: 'setActiveGraphVersion',
    key: 'write',
    document: (s) => `mutation($id: ID!) { setActiveGraphVersion(id: $id, version: 1) { graph { ${s} } } }`,
    vars: (o) => ({ id: o.graphId }),
    applied: async (db, o) => (await db.prisma.graph.findFirstOrThrow({ where: { id: o.graphId, version: 1 } })).isActive,
    leafFields: GRAPH_LEAVES,
    related: GRAPH_RELATIONS,
  },
  {
    name: 'setGraphTemplate',
    key: 'write',
    document: (s) => `mutation($id: ID!) { setGraphTemplate(id: $id, version: 1, isTemplate: true) { graph { ${s} } } }`,
    vars: (o) => ({ id: o.graphId }),
    applied: async (db, o) => (await db.prisma.graph.findFirstOrThrow({ where: { id: o.graphId, version: 1 } })).isTemplate,
    leafFields: GRAPH_LEAVES,
    related: GRAPH_RELATIONS,
  },
  {
    name: 'deleteGraph',
    key: 'write',
    document: (s) => `mutation($id: ID!) { deleteGraph(id: $id) { ${s} } }`,
    vars: (o) => ({ id: o.graphId }),
    applied: async (db, o) => (await db.prisma.graph.count({ where: { id: o.graphId } })) === 0,
    leafFields: 'deletedGraphId deletedVersions __typename',
    related: [],
  },
];

const readableCases = MUTATIONS.map((m) => [m.name, m.key, m] as const);
const relatedCases = MUTATIONS.flatMap((m) => m.related.map((relation) => [m.name, m.key, relation, m] as const));

describe.each(testDatabaseKinds)('what mutations answer to keys without READ_GRAPHS, on %s', (kind) => {
  let server: TestServer;
  let keys: Record<KeyKind, string>;
  let fixtures = 0;
  const db = () => server.db;
  const fresh = () => createOwned(db(), server.userId, `answers-${(fixtures += 1)}`);

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    keys = {
      execute: (await createApiKey(db(), server.userId, ['EXECUTE_GRAPHS'], { name: 'execute only' })).key,
      write: (await createApiKey(db(), server.userId, ['WRITE_GRAPHS'], { name: 'write only' })).key,
    };
  });
  afterAll(() => server?.close());

  /** Sends the mutation and checks that the answer tells the truth about the database either way. */
  async function send(mutation: Mutation, selection: string, key: string, variables: Record<string, unknown> = {}) {
    const o = await fresh();
    const before = await snapshot(db());
    const res = await server.graphql<Record<string, unknown>>(mutation.document(selection), { ...mutation.vars(o), ...variables }, key);
    const after = await snapshot(db());
    const applied = await mutation.applied(db(), o);
    if (res.errors?.length) {
      expect(after, `${mutation.name} answered ${codeOf(res)} yet changed the database`).toEqual(before);
      expect(applied).toBe(false);
    } else {
      expect(res.data?.[mutation.name]).toBeTruthy();
      expect(applied, `${mutation.name} answered data yet did not write`).toBe(true);
    }
    return res;
  }

  it.each(readableCases)('%s with a %s-only key answers the written object’s own fields, and applies', async (_name, key, mutation) => {
    const res = await send(mutation, mutation.leafFields, keys[key]);
    expectOk(res);
  });

  it.each(relatedCases)('%s with a %s-only key asking for `%s` is refused, and changes nothing', async (name, key, relation, mutation) => {
    const res = await send(mutation, `id ${relation}`, keys[key]);
    expect(codeOf(res)).toBe('FORBIDDEN');
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.path).toEqual([name]);
    expect(res.errors![0]!.message).toContain('READ_GRAPHS');
    expect(res.data ?? null).toBeNull();
  });

  describe('the finding: an EXECUTE_GRAPHS-only key moving a run QUEUED → RUNNING', () => {
    const update = MUTATIONS.find((m) => m.name === 'updateGraphExecution')!;

    it('asking for the run’s node executions is refused and the run stays QUEUED', async () => {
      const res = await send(update, 'id status nodeExecutions { nodes { id } }', keys.execute);
      expect(codeOf(res)).toBe('FORBIDDEN');
    });

    it('asking for id, status and startedAt applies and says so', async () => {
      const res = await send(update, 'id status startedAt', keys.execute);
      expectOk(res);
      expect(res.data!.updateGraphExecution).toMatchObject({ graphExecution: { status: 'RUNNING' } });
    });
  });

  describe('the selection is judged as executed: fragments, aliases and directives', () => {
    const update = MUTATIONS.find((m) => m.name === 'updateGraphExecution')!;
    const withFragment = (selection: string, fragment: string) => ({
      ...update,
      document: (s: string) => `${update.document(s.replace('FRAGMENT', selection))} ${fragment}`,
    });

    it.each([
      ['a named fragment', '...F', 'fragment F on GraphExecution { id graph { name } }'],
      ['an inline fragment', '... on GraphExecution { user { email } }', ''],
      ['an alias', 'id theGraph: graph { name }', ''],
      ['a nested fragment spread', '...Outer', 'fragment Outer on GraphExecution { id ...Inner } fragment Inner on GraphExecution { parent { id } }'],
    ])('%s asking for a relation is refused', async (_label, selection, fragment) => {
      const res = await send(withFragment(selection, fragment), 'FRAGMENT', keys.execute);
      expect(codeOf(res)).toBe('FORBIDDEN');
    });

    const conditional = {
      ...update,
      document: () =>
        'mutation($id: ID!, $with: Boolean!) { updateGraphExecution(id: $id, status: RUNNING) { graphExecution { id status graph @include(if: $with) { name } user @skip(if: true) { email } } } }',
    };

    it('a relation left out by @include(if: false) / @skip(if: true) is not asked: the write applies', async () => {
      expectOk(await send(conditional, '', keys.execute, { with: false }));
    });

    it('the same relation with @include(if: true) is refused', async () => {
      expect(codeOf(await send(conditional, '', keys.execute, { with: true }))).toBe('FORBIDDEN');
    });
  });

  it.each(relatedCases.map(([name, , relation, mutation]) => [name, relation, mutation] as const))('%s by a key with READ_GRAPHS answers `%s` too (the rule only narrows keys without it)', async (_name, relation, mutation) => {
    const res = await send(mutation, `id ${relation}`, server.apiKey);
    expectOk(res);
  });

  describe('API key mutations answer only the key’s own fields, which any key of the user may read', () => {
    it('an EXECUTE_GRAPHS-only key creates a key (every field answered) and revokes it', async () => {
      const before = await db().prisma.apiKey.count();
      const created = await server.graphql<{ createApiKey: { secret: string; apiKey: { id: string; permissions: string[]; status: string } } }>(
        'mutation { createApiKey(name: "executor 2", permissions: [EXECUTE_GRAPHS]) { secret apiKey { id name prefix permissions status createdAt lastUsedAt revokedAt __typename } } }',
        {},
        keys.execute,
      );
      expectOk(created);
      const { apiKey } = created.data!.createApiKey;
      expect(apiKey).toMatchObject({ permissions: ['EXECUTE_GRAPHS'], status: 'ACTIVE' });
      expect(await db().prisma.apiKey.count()).toBe(before + 1);

      const revoked = await server.graphql<{ revokeApiKey: { apiKey: { status: string; revokedAt: string | null } } }>(
        'mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id status revokedAt } } }',
        { id: apiKey.id },
        keys.execute,
      );
      expectOk(revoked);
      expect(revoked.data!.revokeApiKey.apiKey.status).toBe('REVOKED');
      expect((await db().prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } })).status).toBe('REVOKED');
    });
  });
});
