import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../helpers/databases.js';
import { catalogueBlockId } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';

const CREATE = /* GraphQL */ `
  mutation Create($input: GraphInput!) {
    createGraph(input: $input) {
      graph { id version name isActive nodes { id blockId label nodeType inputDefault inputLinks { sourceName } outputLinks { sinkName } } links { sourceName sinkName isStatic source { label } sink { label } } }
    }
  }
`;

const UPDATE = /* GraphQL */ `
  mutation Update($id: ID!, $input: GraphInput!) { updateGraph(id: $id, input: $input) { graph { id version isActive name nodes { label } } } }
`;

type GraphResult = { id: string; version: number; name: string; isActive: boolean; nodes: Array<{ id: string; label: string }>; links: unknown[] };

const pipeline = (name = 'Pipeline') => ({
  name,
  description: 'input → llm → output',
  nodes: [
    { key: 'in', blockId: catalogueBlockId('AgentInputBlock'), nodeType: 'INPUT', label: 'in', inputDefault: { name: 'topic' } },
    { key: 'llm', blockId: catalogueBlockId('AITextGeneratorBlock'), label: 'llm', inputDefault: { model: 'gpt-4o', max_tokens: 256 } },
    { key: 'out', blockId: catalogueBlockId('AgentOutputBlock'), nodeType: 'OUTPUT', label: 'out', inputDefault: { name: 'answer' } },
  ],
  links: [
    { source: 'in', sink: 'llm', sourceName: 'result', sinkName: 'prompt' },
    { source: 'llm', sink: 'out', sourceName: 'response', sinkName: 'value' },
  ],
});

describe.each(testDatabaseKinds)('graph mutations on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ database: kind });
  });
  afterAll(() => server?.close());

  it('creates version 1, active, with nodes and links written together', async () => {
    const res = await server.graphql<{ createGraph: { graph: GraphResult } }>(CREATE, { input: pipeline() });
    expect(res.errors).toBeUndefined();
    const graph = res.data!.createGraph.graph;
    expect(graph).toMatchObject({ version: 1, isActive: true, name: 'Pipeline' });
    expect(graph.nodes).toHaveLength(3);
    expect(graph.links).toHaveLength(2);
    const stored = await server.db.prisma.graph.findMany({ where: { id: graph.id }, include: { nodes: true, links: true } });
    expect(stored).toHaveLength(1);
    expect(stored[0]!.userId).toBe(server.userId);
    expect(stored[0]!.nodes.find((n) => n.label === 'llm')?.inputDefault).toEqual({ model: 'gpt-4o', max_tokens: 256 });
    expect(stored[0]!.links.every((l) => l.graphVersion === 1)).toBe(true);
  });

  const invalid: Array<[string, (input: ReturnType<typeof pipeline>) => unknown, RegExp]> = [
    ['an empty graph', (g) => ({ ...g, nodes: [], links: [] }), /at least one node/],
    ['a dangling link', (g) => ({ ...g, links: [...g.links, { source: 'llm', sink: 'ghost', sourceName: 'a', sinkName: 'b' }] }), /not a node of this graph/],
    ['a duplicate link', (g) => ({ ...g, links: [...g.links, g.links[0]] }), /duplicates/],
    ['a cycle through non-static links', (g) => ({ ...g, links: [...g.links, { source: 'out', sink: 'in', sourceName: 'loop', sinkName: 'again' }] }), /cycle: (in|llm|out) → /],
    ['a self-loop', (g) => ({ ...g, links: [{ source: 'llm', sink: 'llm', sourceName: 'x', sinkName: 'y' }] }), /cycle/],
    ['a duplicate node key', (g) => ({ ...g, nodes: [...g.nodes, { key: 'llm', blockId: 'b' }] }), /used twice/],
    ['an empty name', (g) => ({ ...g, name: '   ' }), /must not be empty/],
    ['a name over 200 characters', (g) => ({ ...g, name: 'x'.repeat(201) }), /at most 200/],
    ['a NUL character', (g) => ({ ...g, name: 'a\u0000b' }), /NUL/],
    ['an empty pin name', (g) => ({ ...g, links: [{ ...g.links[0]!, sourceName: '' }] }), /must not be empty/],
    ['an oversized input default', (g) => ({ ...g, nodes: [{ key: 'x', blockId: 'b', inputDefault: { blob: 'y'.repeat(70_000) } }], links: [] }), /bytes/],
    ['too many nodes', (g) => ({ ...g, nodes: Array.from({ length: 501 }, (_, i) => ({ key: `n${i}`, blockId: 'b' })), links: [] }), /at most 500/],
  ];

  it.each(invalid)('refuses %s with BAD_USER_INPUT and writes nothing', async (_label, mutate, message) => {
    const before = await snapshotDatabase(server.db);
    const res = await server.graphql(CREATE, { input: mutate(pipeline()) });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(message);
    expect(await snapshotDatabase(server.db)).toEqual(before);
  });

  it('allows a loop closed by a static link', async () => {
    const input = pipeline('Static loop');
    input.links.push({ source: 'out', sink: 'in', sourceName: 'output', sinkName: 'value', isStatic: true } as (typeof input.links)[number]);
    const res = await server.graphql(CREATE, { input });
    expect(res.errors).toBeUndefined();
  });

  it('updates into a new immutable version and keeps the old one readable', async () => {
    const created = await server.graphql<{ createGraph: { graph: GraphResult } }>(CREATE, { input: pipeline('Versioned') });
    const id = created.data!.createGraph.graph.id;
    const v1Nodes = created.data!.createGraph.graph.nodes.map((n) => n.id).sort();
    const next = { ...pipeline('Versioned v2'), nodes: [...pipeline().nodes, { key: 'extra', blockId: catalogueBlockId('FillTextTemplateBlock'), label: 'extra', inputDefault: { format: 'Hello {{name}}' } }] };
    const updated = await server.graphql<{ updateGraph: { graph: GraphResult } }>(UPDATE, { id, input: next });
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateGraph.graph).toMatchObject({ id, version: 2, isActive: true, name: 'Versioned v2' });

    const v1 = await server.graphql<{ graph: GraphResult }>('query($id: ID!) { graph(id: $id, version: 1) { version isActive name nodes { id label } } }', { id });
    expect(v1.data!.graph).toMatchObject({ version: 1, isActive: false, name: 'Versioned' });
    expect(v1.data!.graph.nodes.map((n) => n.id).sort()).toEqual(v1Nodes);
    const current = await server.graphql<{ graph: GraphResult & { versions: { totalCount: number; nodes: Array<{ version: number }> } } }>(
      'query($id: ID!) { graph(id: $id) { version versions(first: 1) { totalCount nodes { version } pageInfo { hasNextPage } } } }',
      { id },
    );
    expect(current.data!.graph.version).toBe(2);
    expect(current.data!.graph.versions).toMatchObject({ totalCount: 2, nodes: [{ version: 2 }] });
    expect(await server.db.prisma.graph.count({ where: { id, isActive: true } })).toBe(1);
  });

  it('gives concurrent updates of one graph distinct versions', async () => {
    const created = await server.graphql<{ createGraph: { graph: GraphResult } }>(CREATE, { input: pipeline('Raced') });
    const id = created.data!.createGraph.graph.id;
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => server.graphql<{ updateGraph: { graph: GraphResult } }>(UPDATE, { id, input: pipeline(`Raced ${i}`) })));
    expect(results.every((r) => !r.errors)).toBe(true);
    expect(results.map((r) => r.data!.updateGraph.graph.version).sort()).toEqual([2, 3, 4, 5, 6]);
    expect(await server.db.prisma.graph.count({ where: { id, isActive: true } })).toBe(1);
  });

  it('switches the active version and deletes a graph with everything under it', async () => {
    const created = await server.graphql<{ createGraph: { graph: GraphResult } }>(CREATE, { input: pipeline('Switch') });
    const id = created.data!.createGraph.graph.id;
    await server.graphql(UPDATE, { id, input: pipeline('Switch v2') });
    const switched = await server.graphql<{ setActiveGraphVersion: { graph: { version: number; isActive: boolean } } }>(
      'mutation($id: ID!) { setActiveGraphVersion(id: $id, version: 1) { graph { version isActive } } }',
      { id },
    );
    expect(switched.data!.setActiveGraphVersion.graph).toEqual({ version: 1, isActive: true });
    expect((await server.db.prisma.graph.findMany({ where: { id }, orderBy: { version: 'asc' } })).map((g) => g.isActive)).toEqual([true, false]);

    const missing = await server.graphql('mutation($id: ID!) { setActiveGraphVersion(id: $id, version: 9) { graph { version } } }', { id });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    await server.graphql('mutation($id: ID!) { executeGraph(graphId: $id) { graphExecution { id } } }', { id });
    const deleted = await server.graphql<{ deleteGraph: { deletedGraphId: string; deletedVersions: number } }>(
      'mutation($id: ID!) { deleteGraph(id: $id) { deletedGraphId deletedVersions } }',
      { id },
    );
    expect(deleted.data!.deleteGraph).toEqual({ deletedGraphId: id, deletedVersions: 2 });
    expect(await server.db.prisma.node.count({ where: { graphId: id } })).toBe(0);
    expect(await server.db.prisma.link.count({ where: { graphId: id } })).toBe(0);
    expect(await server.db.prisma.graphExecution.count({ where: { graphId: id } })).toBe(0);
    const after = await server.graphql('query($id: ID!) { graph(id: $id) { id } }', { id });
    expect(after.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
