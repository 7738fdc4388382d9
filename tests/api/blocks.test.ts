import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../helpers/databases.js';
import { createGraph, createRun, createUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { BLOCKS } from '../../src/seed/catalogue.js';

type Port = { name: string; types: string[]; required: boolean; description: string | null; isStatic: boolean };
type BlockAnswer = { id: string; name: string; categories: string[]; nodeType: string; disabled: boolean; inputPorts: Port[]; outputPorts: Port[] };
type Page = { blocks: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: BlockAnswer[] } };

const PAGE = `query($first: Int, $after: String, $filter: BlockFilter) {
  blocks(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id name categories nodeType disabled inputPorts { name types required description isStatic } outputPorts { name types required isStatic } }
  }
}`;

const byName = (name: string) => BLOCKS.find((b) => b.name === name)!;

describe.each(testDatabaseKinds)('the block catalogue over GraphQL on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ database: kind });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('pages through every enabled block by name, with the count', async () => {
    const names: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const res: Awaited<ReturnType<typeof server.graphql<Page>>> = await server.graphql<Page>(PAGE, { first: 5, after });
      expect(res.errors).toBeUndefined();
      names.push(...res.data!.blocks.nodes.map((b) => b.name));
      expect(res.data!.blocks.totalCount).toBe(await server.db.prisma.block.count({ where: { disabled: false } }));
      if (!res.data!.blocks.pageInfo.hasNextPage) break;
      after = res.data!.blocks.pageInfo.endCursor;
    }
    const stored = await server.db.prisma.block.findMany({ where: { disabled: false }, select: { name: true } });
    expect(names).toEqual(stored.map((b) => b.name).sort());
  });

  it('answers ports with their types, required inputs and static outputs', async () => {
    const res = await server.graphql<Page>(PAGE, { filter: { nameContains: 'storevalue' } });
    expect(res.data!.blocks.nodes).toHaveLength(1);
    const store = res.data!.blocks.nodes[0]!;
    expect(store.inputPorts.map((p) => [p.name, p.required])).toEqual([['input', true], ['data', false]]);
    expect(store.outputPorts).toEqual([{ name: 'output', types: [], required: false, isStatic: true }]);
    const llm = (await server.graphql<Page>(PAGE, { filter: { nameContains: 'AITextGenerator' } })).data!.blocks.nodes[0]!;
    expect(llm.inputPorts.find((p) => p.name === 'max_tokens')).toMatchObject({ types: ['integer'], required: false });
    expect(llm.inputPorts.find((p) => p.name === 'model')).toMatchObject({ types: ['string'] });
    expect(llm.inputPorts.find((p) => p.name === 'prompt')).toMatchObject({ types: ['string'], required: true, description: 'What to ask the model.' });
  });

  it('filters by category and name (taken literally), and shows disabled blocks only when asked', async () => {
    const ai = (await server.graphql<Page>(PAGE, { first: 100, filter: { category: 'AI' } })).data!.blocks.nodes;
    expect(ai.map((b) => b.name).sort()).toEqual(BLOCKS.filter((b) => b.name.startsWith('AI')).map((b) => b.name).sort());
    expect((await server.graphql<Page>(PAGE, { filter: { nameContains: '%' } })).data!.blocks.nodes).toEqual([]);
    await server.db.prisma.block.update({ where: { name: 'ExecuteCodeBlock' }, data: { disabled: true } });
    try {
      expect((await server.graphql<Page>(PAGE, { filter: { nameContains: 'ExecuteCode' } })).data!.blocks.nodes).toEqual([]);
      const shown = (await server.graphql<Page>(PAGE, { filter: { nameContains: 'ExecuteCode', includeDisabled: true } })).data!.blocks.nodes;
      expect(shown.map((b) => [b.name, b.disabled])).toEqual([['ExecuteCodeBlock', true]]);
    } finally {
      await server.db.prisma.block.update({ where: { name: 'ExecuteCodeBlock' }, data: { disabled: false } });
    }
  });

  it('block(id) answers one block; an unknown or malformed id is NOT_FOUND', async () => {
    const id = byName('SendEmailBlock').id;
    const res = await server.graphql<{ block: { name: string } | null }>('query($id: ID!) { block(id: $id) { name } }', { id });
    expect(res.data?.block?.name).toBe('SendEmailBlock');
    for (const missing of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const refused = await server.graphql('query($id: ID!) { block(id: $id) { name } }', { id: missing });
      expect(refused.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
  });

  it('Node.block reads every node’s block in one statement, whatever the number of nodes', async () => {
    const owner = await createUser(server.db);
    const blockNames = ['AgentInputBlock', 'AITextGeneratorBlock', 'AITextSummarizerBlock', 'SendEmailBlock', 'AgentOutputBlock'];
    const graphId = await createGraph(server.db, owner.user.id, {
      nodes: [...blockNames.map((name, i) => ({ key: `n${i}`, blockId: byName(name).id })), { key: 'legacy', blockId: 'legacy-block' }],
    }).then((g) => g.graph.id);
    const statements: string[] = [];
    const stop = server.db.onQuery((e) => statements.push(e.query));
    const res = await server.graphql<{ graph: { nodes: Array<{ blockId: string; block: { name: string; inputPorts: Array<{ name: string }> } | null }> } }>(
      'query($id: ID!) { graph(id: $id) { nodes { blockId block { name inputPorts { name } } } } }',
      { id: graphId },
      owner.apiKey,
    );
    stop();
    expect(res.errors).toBeUndefined();
    const answered = new Map(res.data!.graph.nodes.map((n) => [n.blockId, n.block?.name ?? null]));
    for (const name of blockNames) expect(answered.get(byName(name).id)).toBe(name);
    expect(answered.get('legacy-block')).toBeNull();
    expect(statements.filter((q) => q.includes('FROM blocks b'))).toHaveLength(1);
  });

  it('Graph.problems reports what the catalogue rules would refuse in a stored graph, naming nodes, links and ports', async () => {
    const owner = await createUser(server.db);
    const { graph, nodeIds } = await createGraph(server.db, owner.user.id, {
      nodes: [
        { key: 'in', blockId: byName('AgentInputBlock').id, nodeType: 'INPUT' },
        { key: 'llm', blockId: byName('AITextGeneratorBlock').id },
        { key: 'out', blockId: byName('AgentOutputBlock').id, nodeType: 'OUTPUT' },
        { key: 'old', blockId: 'legacy-block' },
      ],
      links: [
        { source: 'in', sink: 'llm', sourceName: 'result', sinkName: 'prompt' },
        { source: 'llm', sink: 'out', sourceName: 'answer', sinkName: 'value' },
      ],
    });
    type Problems = { graph: { problems: Array<{ rule: string; nodeId: string | null; linkId: string | null; port: string | null; message: string }>; links: Array<{ id: string; sourceName: string }> } };
    const res = await server.graphql<Problems>('query($id: ID!) { graph(id: $id) { problems { rule nodeId linkId port message } links { id sourceName } } }', { id: graph.id }, owner.apiKey);
    expect(res.errors).toBeUndefined();
    const badLink = res.data!.graph.links.find((l) => l.sourceName === 'answer')!.id;
    const sorted = (rows: unknown[][]) => rows.map((row) => JSON.stringify(row)).sort();
    expect(sorted(res.data!.graph.problems.map((p) => [p.rule, p.nodeId, p.linkId, p.port]))).toEqual(sorted([
      ['UNKNOWN_BLOCK', nodeIds.get('old'), null, null],
      ['UNKNOWN_SOURCE_PORT', nodeIds.get('llm'), badLink, 'answer'],
      // The input node's `name` and the output node's `name` have no default here.
      ['MISSING_REQUIRED_INPUT', nodeIds.get('in'), null, 'name'],
      ['MISSING_REQUIRED_INPUT', nodeIds.get('out'), null, 'name'],
    ]));
    expect(res.data!.graph.problems.find((p) => p.rule === 'UNKNOWN_SOURCE_PORT')!.message).toMatch(/"answer" is not an output port of AITextGeneratorBlock/);
  });

  it('ExecutionStats.blocks names each block through the catalogue', async () => {
    const owner = await createUser(server.db);
    const { graph } = await createGraph(server.db, owner.user.id, {
      nodes: [
        { key: 'llm', blockId: byName('AITextGeneratorBlock').id },
        { key: 'old', blockId: 'legacy-block' },
      ],
    });
    await createRun(server.db, { graphId: graph.id, version: 1, userId: owner.user.id, status: 'COMPLETED', startedAt: new Date(), nodeExecutions: () => ({ status: 'COMPLETED' }) });
    type Stats = { executionStats: { blocks: Array<{ blockId: string; runs: number; block: { name: string } | null }> } };
    const res = await server.graphql<Stats>(
      'query($f: ExecutionStatsFilter!) { executionStats(filter: $f) { blocks { blockId runs block { name } } } }',
      { f: { from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() } },
      owner.apiKey,
    );
    expect(res.errors).toBeUndefined();
    const named = new Map(res.data!.executionStats.blocks.map((b) => [b.blockId, b.block?.name ?? null]));
    expect(named).toEqual(new Map([[byName('AITextGeneratorBlock').id, 'AITextGeneratorBlock'], ['legacy-block', null]]));
  });

  it('is readable by any key, and refused without one', async () => {
    const noPermissions = await createUser(server.db, { permissions: [] });
    const res = await server.graphql<Page>(PAGE, { first: 1 }, noPermissions.apiKey);
    expect(res.errors).toBeUndefined();
    expect(res.data!.blocks.nodes).toHaveLength(1);
    expect((await server.graphql(PAGE, {}, null)).status).toBe(401);
  });
});
