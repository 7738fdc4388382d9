/**
 * The catalogue's rules where graphs are written and run, over HTTP on both databases: every refusal is
 * BAD_USER_INPUT listing every problem (`extensions.problems`) and leaves the database as it was; versions stored
 * before the catalogue (`blocks_checked` false) run as they did.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtInCatalogue, syncBuiltInCatalogue, syncCatalogue } from '../../src/modules/blocks/block-sync.js';
import { parseCatalogue } from '../../src/modules/blocks/block-definition.js';
import { BLOCKS } from '../../src/seed/catalogue.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { createGraph as createStoredGraph, createUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';

const id = (name: string) => BLOCKS.find((block) => block.name === name)!.id;

type Problem = { rule: string; message: string; node?: string | null; link?: number | null; nodeId?: string | null; linkId?: string | null; port: string | null };
type GraphInput = {
  name: string;
  nodes: Array<{ key: string; blockId: string; nodeType?: string; inputDefault?: Record<string, unknown> }>;
  links?: Array<{ source: string; sink: string; sourceName: string; sinkName: string; isStatic?: boolean }>;
};

const CREATE = 'mutation($input: GraphInput!) { createGraph(input: $input) { graph { id version } } }';
const UPDATE = 'mutation($id: ID!, $input: GraphInput!) { updateGraph(id: $id, input: $input) { graph { id version } } }';
const EXECUTE = 'mutation($graphId: ID!, $inputs: JSONObject) { executeGraph(graphId: $graphId, inputs: $inputs) { graphExecution { id graphVersion } } }';

/** input → summarizer → output: valid and runnable. */
const digest = (): GraphInput => ({
  name: 'Digest',
  nodes: [
    { key: 'topic', blockId: id('AgentInputBlock'), nodeType: 'INPUT', inputDefault: { name: 'topic' } },
    { key: 'summarize', blockId: id('AITextSummarizerBlock'), inputDefault: { model: 'gpt-4o-mini' } },
    { key: 'out', blockId: id('AgentOutputBlock'), nodeType: 'OUTPUT', inputDefault: { name: 'summary' } },
  ],
  links: [
    { source: 'topic', sink: 'summarize', sourceName: 'result', sinkName: 'prompt' },
    { source: 'summarize', sink: 'out', sourceName: 'summary', sinkName: 'value' },
  ],
});

describe.each(testDatabaseKinds)('the catalogue’s rules on writes and runs on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ database: kind });
  });
  afterAll(async () => {
    await server?.close();
  });

  const problemsOf = (res: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => {
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    return res.errors![0]!.extensions!.problems as Problem[];
  };
  const create = async (input: GraphInput) => {
    const res = await server.graphql<{ createGraph: { graph: { id: string } } }>(CREATE, { input });
    expect(res.errors).toBeUndefined();
    return res.data!.createGraph.graph.id;
  };

  it('createGraph refuses a link from an output port the block does not have, naming the port; nothing is stored', async () => {
    const input = digest();
    input.links![1]!.sourceName = 'response';
    const before = await snapshotDatabase(server.db);
    const res = await server.graphql(CREATE, { input });
    expect(problemsOf(res)).toEqual([
      {
        rule: 'UNKNOWN_SOURCE_PORT',
        message: 'Link 1: "response" is not an output port of AITextSummarizerBlock (node summarize).',
        node: 'summarize',
        link: 1,
        port: 'response',
      },
    ]);
    expect(res.errors![0]!.message).toContain('"response" is not an output port of AITextSummarizerBlock');
    expect(await snapshotDatabase(server.db)).toEqual(before);
  });

  it('reports every problem of a definition at once: blocks, node types, ports, types and defaults', async () => {
    const input: GraphInput = {
      name: 'Broken',
      nodes: [
        { key: 'a', blockId: id('ConditionBlock'), inputDefault: { operator: '~', colour: 'red' } },
        { key: 'b', blockId: id('SearchTheWebBlock'), nodeType: 'OUTPUT' },
        { key: 'c', blockId: '00000000-0000-4000-8000-000000000000' },
        { key: 'd', blockId: 'made-up-block' },
      ],
      links: [
        { source: 'a', sink: 'b', sourceName: 'result', sinkName: 'query' },
        { source: 'a', sink: 'b', sourceName: 'yes_output', sinkName: 'nope' },
      ],
    };
    const before = await snapshotDatabase(server.db);
    const problems = problemsOf(await server.graphql(CREATE, { input }));
    expect(problems.map((p) => [p.rule, p.node, p.link, p.port])).toEqual([
      ['INVALID_INPUT_DEFAULT', 'a', null, 'operator'],
      ['UNKNOWN_INPUT_DEFAULT', 'a', null, 'colour'],
      ['NODE_TYPE_MISMATCH', 'b', null, null],
      ['UNKNOWN_BLOCK', 'c', null, null],
      ['UNKNOWN_BLOCK', 'd', null, null],
      ['INCOMPATIBLE_PORTS', 'b', 0, 'query'],
      ['UNKNOWN_SINK_PORT', 'b', 1, 'nope'],
    ]);
    expect(problems.find((p) => p.rule === 'INCOMPATIBLE_PORTS')!.message).toBe(
      'Link 0: ConditionBlock.result (boolean) cannot feed SearchTheWebBlock.query (string).',
    );
    expect(await snapshotDatabase(server.db)).toEqual(before);
  });

  it('updateGraph refuses a broken version without writing it; the graph keeps its versions', async () => {
    const graphId = await create(digest());
    const input = digest();
    input.nodes[1]!.blockId = id('SendEmailBlock');
    input.nodes[1]!.inputDefault = { to_email: 'not an address' };
    const before = await snapshotDatabase(server.db);
    const problems = problemsOf(await server.graphql(UPDATE, { id: graphId, input }));
    expect(problems.map((p) => [p.rule, p.node, p.link, p.port])).toEqual([
      ['INVALID_INPUT_DEFAULT', 'summarize', null, 'to_email'],
      ['UNKNOWN_SINK_PORT', 'summarize', 0, 'prompt'],
      ['UNKNOWN_SOURCE_PORT', 'summarize', 1, 'summary'],
    ]);
    expect(await snapshotDatabase(server.db)).toEqual(before);
    expect(await server.db.prisma.graph.count({ where: { id: graphId } })).toBe(1);
  });

  it('a definition may be stored incomplete, but a run of it is refused with every problem, and no run is written', async () => {
    // `lonely` is fed by nothing and has no prompt; `loop1` ⇄ `loop2` feed only each other (a static link closes it).
    const input = digest();
    input.nodes.push(
      { key: 'lonely', blockId: id('AITextGeneratorBlock') },
      { key: 'loop1', blockId: id('StoreValueBlock') },
      { key: 'loop2', blockId: id('StoreValueBlock') },
    );
    input.links!.push(
      { source: 'loop1', sink: 'loop2', sourceName: 'output', sinkName: 'input' },
      { source: 'loop2', sink: 'loop1', sourceName: 'output', sinkName: 'input', isStatic: true },
    );
    const graphId = await create(input);
    const stored = await server.db.prisma.graph.findFirstOrThrow({ where: { id: graphId }, include: { nodes: true, links: true } });
    expect(stored.blocksChecked).toBe(true);
    const runsBefore = await server.db.prisma.graphExecution.count();
    const before = await snapshotDatabase(server.db);
    const res = await server.graphql(EXECUTE, { graphId, inputs: { topic: 'robots' } });
    const problems = problemsOf(res);
    expect(res.errors![0]!.extensions!.argument).toBe('graphId');
    const loops = stored.nodes.filter((node) => node.blockId === id('StoreValueBlock')).map((node) => node.id);
    expect(problems.filter((p) => p.rule === 'UNREACHABLE_NODE').map((p) => p.nodeId).sort()).toEqual([...loops].sort());
    const lonely = stored.nodes.find((node) => node.blockId === id('AITextGeneratorBlock'))!.id;
    expect(problems.filter((p) => p.rule === 'MISSING_REQUIRED_INPUT').map((p) => [p.nodeId, p.port])).toEqual([[lonely, 'prompt']]);
    expect(problems.every((p) => p.linkId === null)).toBe(true);
    expect(await server.db.prisma.graphExecution.count()).toBe(runsBefore);
    expect(await snapshotDatabase(server.db)).toEqual(before);
  });

  it('a valid graph runs, and Graph.problems agrees with executeGraph', async () => {
    const graphId = await create(digest());
    const problems = await server.graphql<{ graph: { problems: unknown[] } }>('query($id: ID!) { graph(id: $id) { problems { rule } } }', { id: graphId });
    expect(problems.data!.graph.problems).toEqual([]);
    const res = await server.graphql<{ executeGraph: { graphExecution: { id: string; graphVersion: number } } }>(EXECUTE, { graphId, inputs: { topic: 'robots', unused: 1 } });
    expect(res.errors).toBeUndefined();
    const run = await server.db.prisma.graphExecution.findUniqueOrThrow({ where: { id: res.data!.executeGraph.graphExecution.id }, include: { nodeExecutions: true } });
    expect(run.inputs).toEqual({ topic: 'robots', unused: 1 });
    expect(run.nodeExecutions).toHaveLength(3);
  });

  it('a version found runnable runs in one statement while the catalogue is unchanged, and is checked again after a change', async () => {
    const graphId = await create(digest());
    const count = async (inputs: Record<string, unknown>) => {
      const statements: string[] = [];
      const stop = server.db.onQuery((event) => statements.push(event.query));
      try {
        const res = await server.graphql(EXECUTE, { graphId, inputs });
        expect(res.errors).toBeUndefined();
      } finally {
        stop();
      }
      return statements.length;
    };
    const stored = await server.db.prisma.graph.findFirstOrThrow({ where: { id: graphId } });
    const revision = await server.db.prisma.blockCatalogueRevision.findUniqueOrThrow({ where: { id: 1 } });
    expect(stored.runnableRevision).toBe(revision.revision);
    // The key, then the run written in one statement.
    expect(await count({ topic: 'a' })).toBe(2);
    // Any write to the catalogue moves its revision (a trigger): the next run is checked again (read, write, stamp).
    await server.db.prisma.block.update({ where: { id: id('AgentOutputBlock') }, data: { description: 'Records a value.' } });
    expect((await server.db.prisma.blockCatalogueRevision.findUniqueOrThrow({ where: { id: 1 } })).revision).toBeGreaterThan(revision.revision);
    expect(await count({ topic: 'b' })).toBe(5);
    expect(await count({ topic: 'c' })).toBe(2);
    // A sync with nothing to do writes no row and keeps the revision, and so the verdicts.
    const kept = await server.db.prisma.blockCatalogueRevision.findUniqueOrThrow({ where: { id: 1 } });
    const original = builtInCatalogue().blocks.find((b) => b.name === 'AgentOutputBlock')!.description;
    await server.db.prisma.block.update({ where: { id: id('AgentOutputBlock') }, data: { description: original } });
    const afterRestore = (await server.db.prisma.blockCatalogueRevision.findUniqueOrThrow({ where: { id: 1 } })).revision;
    expect(afterRestore).toBe(kept.revision + 1);
    const outcome = await syncBuiltInCatalogue(server.db.prisma);
    expect(outcome.created.length + outcome.updated.length + outcome.disabled.length, JSON.stringify(outcome)).toBe(0);
    expect((await server.db.prisma.blockCatalogueRevision.findUniqueOrThrow({ where: { id: 1 } })).revision).toBe(afterRestore);
  });

  it('a block disabled after the graph was written stops its runs (DISABLED_BLOCK)', async () => {
    const graphId = await create(digest());
    await server.db.prisma.block.update({ where: { id: id('AITextSummarizerBlock') }, data: { disabled: true } });
    try {
      const problems = problemsOf(await server.graphql(EXECUTE, { graphId }));
      expect(problems.map((p) => [p.rule, p.port])).toEqual([['DISABLED_BLOCK', null]]);
      expect(await server.db.prisma.graphExecution.count({ where: { graphId } })).toBe(0);
    } finally {
      await server.db.prisma.block.update({ where: { id: id('AITextSummarizerBlock') }, data: { disabled: false } });
    }
  });

  it.runIf(kind === 'postgres')('a write waits for a concurrent sync of its blocks and is checked against what the sync committed', async () => {
    if (server.db.kind !== 'postgres') return;
    const summarizer = id('AITextSummarizerBlock');
    const sync = await server.db.pool.connect();
    try {
      await sync.query('BEGIN');
      await sync.query('UPDATE blocks SET disabled = true WHERE id = $1', [summarizer]);
      let settled = false;
      const pending = server.graphql(CREATE, { input: digest() }).finally(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false); // held by the sync's row lock (FOR SHARE)
      await sync.query('COMMIT');
      const problems = problemsOf(await pending);
      expect(problems.map((p) => [p.rule, p.node])).toEqual([['DISABLED_BLOCK', 'summarize']]);
    } finally {
      await sync.query('ROLLBACK').catch(() => undefined);
      await sync.query('UPDATE blocks SET disabled = false WHERE id = $1', [summarizer]);
      sync.release();
    }
  });

  it('run inputs feed input nodes by name and must be valid for the input block', async () => {
    // A deployment's own input block whose value is a required number of 1 to 10.
    const catalogue = parseCatalogue(
      {
        source: 'enforcement-test',
        blocks: [
          {
            id: '7d0f8a9e-4b61-4c1e-9a43-0d1c2f3e4a5b',
            name: 'NumberInputBlock',
            nodeType: 'INPUT',
            inputSchema: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'integer', minimum: 1, maximum: 10 } }, required: ['name', 'value'] },
            outputSchema: { type: 'object', properties: { result: { type: 'integer' } } },
          },
        ],
      },
      'enforcement-test',
    );
    await syncCatalogue(server.db.prisma, catalogue);
    const graphId = await create({
      name: 'Counter',
      nodes: [
        { key: 'n', blockId: '7d0f8a9e-4b61-4c1e-9a43-0d1c2f3e4a5b', nodeType: 'INPUT', inputDefault: { name: 'count' } },
        { key: 'out', blockId: id('AgentOutputBlock'), nodeType: 'OUTPUT', inputDefault: { name: 'count' } },
      ],
      links: [{ source: 'n', sink: 'out', sourceName: 'result', sinkName: 'value' }],
    });
    const missing = problemsOf(await server.graphql(EXECUTE, { graphId, inputs: { other: 3 } }));
    expect(missing.map((p) => [p.rule, p.port])).toEqual([['MISSING_REQUIRED_INPUT', 'value']]);
    expect(missing[0]!.message).toContain('the run\'s inputs have no "count"');
    const invalid = problemsOf(await server.graphql(EXECUTE, { graphId, inputs: { count: 11 } }));
    expect(invalid.map((p) => [p.rule, p.port])).toEqual([['INVALID_RUN_INPUT', 'value']]);
    expect(invalid[0]!.message).toContain('must be <= 10');
    expect(await server.db.prisma.graphExecution.count({ where: { graphId } })).toBe(0);
    const ok = await server.graphql(EXECUTE, { graphId, inputs: { count: 7 } });
    expect(ok.errors).toBeUndefined();
    expect(await server.db.prisma.graphExecution.count({ where: { graphId } })).toBe(1);
    // Its runs depend on their inputs: it is never stamped runnable, so every run is checked.
    expect((await server.db.prisma.graph.findFirstOrThrow({ where: { id: graphId } })).runnableRevision).toBeNull();
    expect((await server.graphql(EXECUTE, { graphId, inputs: { count: 70 } })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('versions stored before the catalogue run unchecked, as they did, while Graph.problems names what is wrong', async () => {
    const { user, apiKey } = await createUser(server.db);
    const { graph } = await createStoredGraph(server.db, user.id, {
      nodes: [{ key: 'x', blockId: 'legacy-block' }, { key: 'y', blockId: 'legacy-block' }],
      links: [{ source: 'x', sink: 'y' }, { source: 'y', sink: 'x', isStatic: true }],
    });
    expect(graph.blocksChecked).toBe(false);
    const problems = await server.graphql<{ graph: { problems: Array<{ rule: string }> } }>('query($id: ID!) { graph(id: $id) { problems { rule } } }', { id: graph.id }, apiKey);
    expect(new Set(problems.data!.graph.problems.map((p) => p.rule))).toEqual(new Set(['UNKNOWN_BLOCK', 'NO_ENTRY_NODE', 'UNREACHABLE_NODE']));
    const res = await server.graphql(EXECUTE, { graphId: graph.id }, apiKey);
    expect(res.errors).toBeUndefined();
    expect(await server.db.prisma.graphExecution.count({ where: { graphId: graph.id } })).toBe(1);
  });

  it('executeGraph on another user’s graph is NOT_FOUND before its problems are judged', async () => {
    const graphId = await create({ name: 'Mine', nodes: [{ key: 'lonely', blockId: id('AITextGeneratorBlock') }] });
    const { apiKey } = await createUser(server.db);
    const res = await server.graphql(EXECUTE, { graphId }, apiKey);
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(res.errors?.[0]?.extensions?.problems).toBeUndefined();
  });
});
