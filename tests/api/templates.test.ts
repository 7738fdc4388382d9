/**
 * Graph templates over HTTP on both databases: an owner publishes a version; every key with READ_GRAPHS lists it,
 * reads its definition and copies it into a graph of its own; nothing else of the owner's (their runs, versions,
 * statistics, identity) is shown, and a template grants no write or run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../helpers/databases.js';
import { catalogueBlockId, createUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';

const definition = (name: string) => ({
  name,
  description: 'topic → search → summary',
  nodes: [
    { key: 'topic', blockId: catalogueBlockId('AgentInputBlock'), nodeType: 'INPUT', label: 'Topic', inputDefault: { name: 'topic' }, metadata: { position: { x: 0, y: 0 } } },
    { key: 'search', blockId: catalogueBlockId('SearchTheWebBlock'), label: 'Search' },
    { key: 'sum', blockId: catalogueBlockId('AITextSummarizerBlock'), inputDefault: { model: 'claude-3-haiku', max_tokens: 512 } },
    { key: 'out', blockId: catalogueBlockId('AgentOutputBlock'), nodeType: 'OUTPUT', inputDefault: { name: 'summary' } },
  ],
  links: [
    { source: 'topic', sink: 'search', sourceName: 'result', sinkName: 'query', isStatic: true },
    { source: 'search', sink: 'sum', sourceName: 'results', sinkName: 'prompt' },
    { source: 'sum', sink: 'out', sourceName: 'summary', sinkName: 'value' },
  ],
});

const CREATE = 'mutation($input: GraphInput!) { createGraph(input: $input) { graph { id version } } }';
const UPDATE = 'mutation($id: ID!, $input: GraphInput!) { updateGraph(id: $id, input: $input) { graph { version } } }';
const PUBLISH = 'mutation($id: ID!, $v: Int!, $on: Boolean!) { setGraphTemplate(id: $id, version: $v, isTemplate: $on) { graph { id version isTemplate } } }';
const COPY = `mutation($id: ID!, $v: Int!, $name: String) { createGraphFromTemplate(templateId: $id, version: $v, name: $name) {
  graph { id version name description isTemplate owner { id } nodes { blockId label nodeType inputDefault metadata } links { sourceName sinkName isStatic source { label } sink { label } } } } }`;
const TEMPLATES = `query($first: Int, $after: String, $filter: GraphFilter) { graphs(first: $first, after: $after, filter: $filter) {
  totalCount pageInfo { hasNextPage endCursor } nodes { id version name isTemplate nodes { blockId } links { sinkName } problems { rule } } } }`;
const EXECUTE = 'mutation($id: ID!) { executeGraph(graphId: $id, inputs: { topic: "rust" }) { graphExecution { id } } }';

type Page = { graphs: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Array<{ id: string; version: number; name: string; isTemplate: boolean }> } };

describe.each(testDatabaseKinds)('graph templates on %s', (kind) => {
  let server: TestServer;
  let author: { id: string; key: string };
  let reader: { id: string; key: string };
  let templateId: string;

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    const a = await createUser(server.db);
    const b = await createUser(server.db);
    author = { id: a.user.id, key: a.apiKey };
    reader = { id: b.user.id, key: b.apiKey };
    // Version 1 is published; version 2 (active) is not.
    const created = await server.graphql<{ createGraph: { graph: { id: string } } }>(CREATE, { input: definition('Research digest') }, author.key);
    templateId = created.data!.createGraph.graph.id;
    expect((await server.graphql(UPDATE, { id: templateId, input: definition('Research digest, private edit') }, author.key)).errors).toBeUndefined();
    const published = await server.graphql<{ setGraphTemplate: { graph: { isTemplate: boolean; version: number } } }>(PUBLISH, { id: templateId, v: 1, on: true }, author.key);
    expect(published.data!.setGraphTemplate.graph).toMatchObject({ version: 1, isTemplate: true });
    expect(await server.graphql(EXECUTE, { id: templateId }, author.key)).not.toHaveProperty('errors');
  });
  afterAll(() => server?.close());

  it('every key with READ_GRAPHS lists every user’s templates, with their definitions; other lists are unchanged', async () => {
    const res = await server.graphql<Page>(TEMPLATES, { filter: { isTemplate: true } }, reader.key);
    expect(res.errors).toBeUndefined();
    expect(res.data!.graphs.nodes.map((g) => [g.id, g.version, g.name, g.isTemplate])).toEqual([[templateId, 1, 'Research digest', true]]);
    expect(res.data!.graphs.totalCount).toBe(1);
    const [template] = res.data!.graphs.nodes as unknown as Array<{ nodes: unknown[]; links: unknown[]; problems: unknown[] }>;
    expect(template!.nodes).toHaveLength(4);
    expect(template!.links).toHaveLength(3);
    expect(template!.problems).toEqual([]);
    // The reader's own list does not grow with others' templates; the author's shows the active version (2).
    expect((await server.graphql<Page>(TEMPLATES, {}, reader.key)).data!.graphs.totalCount).toBe(0);
    expect((await server.graphql<Page>(TEMPLATES, {}, author.key)).data!.graphs.nodes.map((g) => [g.version, g.isTemplate])).toEqual([[2, false]]);
    // Templates by one author, named by anyone; only non-templates, in the usual scope.
    expect((await server.graphql<Page>(TEMPLATES, { filter: { isTemplate: true, ownerId: author.id } }, reader.key)).data!.graphs.totalCount).toBe(1);
    expect((await server.graphql<Page>(TEMPLATES, { filter: { isTemplate: false, ownerId: author.id } }, reader.key)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await server.graphql<Page>(TEMPLATES, { filter: { isTemplate: false, isActive: false } }, author.key)).data!.graphs.nodes).toEqual([]);
  });

  it('pages through templates by cursor across owners', async () => {
    const extra = await createUser(server.db);
    for (const name of ['T1', 'T2', 'T3']) {
      const made = await server.graphql<{ createGraph: { graph: { id: string } } }>(CREATE, { input: definition(name) }, extra.apiKey);
      await server.graphql(PUBLISH, { id: made.data!.createGraph.graph.id, v: 1, on: true }, extra.apiKey);
    }
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 5; i++) {
      const page: Page = (await server.graphql<Page>(TEMPLATES, { first: 2, after, filter: { isTemplate: true } }, reader.key)).data!;
      expect(page.graphs.totalCount).toBe(4);
      seen.push(...page.graphs.nodes.map((g) => g.name));
      if (!page.graphs.pageInfo.hasNextPage) break;
      after = page.graphs.pageInfo.endCursor;
    }
    expect(seen).toEqual(['T3', 'T2', 'T1', 'Research digest']);
  });

  it('another user reads a template’s definition, but not its owner, versions, runs or statistics', async () => {
    const read = (fields: string, key: string) => server.graphql(`query($id: ID!) { graph(id: $id, version: 1) { ${fields} } }`, { id: templateId }, key);
    expect((await read('name isTemplate nodes { label block { name } } links { sourceName }', reader.key)).errors).toBeUndefined();
    for (const fields of ['owner { email }', 'versions { totalCount }', 'executions { totalCount }', 'stats(from: "2026-06-01T00:00:00Z", to: "2027-01-01T00:00:00Z") { runs }', 'nodes { graph { owner { id } } }']) {
      const res = await read(fields, reader.key);
      expect(new Set(res.errors?.map((e) => e.extensions?.code)), fields).toEqual(new Set(['FORBIDDEN']));
      expect((await read(fields, author.key)).errors, `the author reads ${fields}`).toBeUndefined();
    }
    // The unpublished active version stays the author's alone.
    const current = await server.graphql('query($id: ID!) { graph(id: $id) { id } }', { id: templateId }, reader.key);
    expect(current.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('a template grants no write and no run: the author’s graph answers NOT_FOUND, and nothing changes', async () => {
    const before = await snapshotDatabase(server.db);
    for (const [query, variables] of [
      [UPDATE, { id: templateId, input: definition('hijacked') }],
      [PUBLISH, { id: templateId, v: 1, on: false }],
      [EXECUTE, { id: templateId }],
      ['mutation($id: ID!) { setActiveGraphVersion(id: $id, version: 1) { graph { id } } }', { id: templateId }],
      ['mutation($id: ID!) { deleteGraph(id: $id) { deletedGraphId } }', { id: templateId }],
    ] as const) {
      expect((await server.graphql(query, variables, reader.key)).errors?.[0]?.extensions?.code, query).toBe('NOT_FOUND');
    }
    expect(await snapshotDatabase(server.db)).toEqual(before);
  });

  it('createGraphFromTemplate copies the definition into a new graph of the caller’s, which runs; no run is copied', async () => {
    const res = await server.graphql<{ createGraphFromTemplate: { graph: Record<string, unknown> & { id: string; nodes: unknown[]; links: unknown[] } } }>(
      COPY,
      { id: templateId, v: 1, name: 'My digest' },
      reader.key,
    );
    expect(res.errors).toBeUndefined();
    const copy = res.data!.createGraphFromTemplate.graph;
    expect(copy).toMatchObject({ version: 1, name: 'My digest', description: 'topic → search → summary', isTemplate: false, owner: { id: reader.id } });
    const original = await server.graphql<{ graph: { nodes: unknown[]; links: unknown[] } }>(
      'query($id: ID!) { graph(id: $id, version: 1) { nodes { blockId label nodeType inputDefault metadata } links { sourceName sinkName isStatic source { label } sink { label } } } }',
      { id: templateId },
      reader.key,
    );
    const sorted = (items: unknown[]) => items.map((item) => JSON.stringify(item)).sort();
    expect(sorted(copy.nodes)).toEqual(sorted(original.data!.graph.nodes));
    expect(sorted(copy.links)).toEqual(sorted(original.data!.graph.links));
    const stored = await server.db.prisma.graph.findFirstOrThrow({ where: { id: copy.id } });
    expect(stored).toMatchObject({ userId: reader.id, blocksChecked: true, isTemplate: false });
    expect(await server.db.prisma.graphExecution.count({ where: { graphId: copy.id } })).toBe(0);
    expect((await server.graphql(EXECUTE, { id: copy.id }, reader.key)).errors).toBeUndefined();
    // The name defaults to the template's.
    const unnamed = await server.graphql<{ createGraphFromTemplate: { graph: { name: string } } }>(COPY, { id: templateId, v: 1 }, reader.key);
    expect(unnamed.data!.createGraphFromTemplate.graph.name).toBe('Research digest');
  });

  it('a version that is not a template, or no longer one, cannot be copied; a template whose block was disabled is refused', async () => {
    const notTemplate = await server.graphql(COPY, { id: templateId, v: 2 }, reader.key);
    expect(notTemplate.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const made = await server.graphql<{ createGraph: { graph: { id: string } } }>(CREATE, { input: definition('Soon withdrawn') }, author.key);
    const id = made.data!.createGraph.graph.id;
    await server.graphql(PUBLISH, { id, v: 1, on: true }, author.key);
    await server.db.prisma.block.update({ where: { id: catalogueBlockId('SearchTheWebBlock') }, data: { disabled: true } });
    try {
      const before = await snapshotDatabase(server.db);
      const refused = await server.graphql(COPY, { id, v: 1 }, reader.key);
      expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect((refused.errors![0]!.extensions!.problems as Array<{ rule: string }>).map((p) => p.rule)).toEqual(['DISABLED_BLOCK']);
      expect(await snapshotDatabase(server.db)).toEqual(before);
    } finally {
      await server.db.prisma.block.update({ where: { id: catalogueBlockId('SearchTheWebBlock') }, data: { disabled: false } });
    }
    await server.graphql(PUBLISH, { id, v: 1, on: false }, author.key);
    expect((await server.graphql(COPY, { id, v: 1 }, reader.key)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const listed = await server.graphql<Page>('query($filter: GraphFilter) { graphs(first: 100, filter: $filter) { nodes { id } } }', { filter: { isTemplate: true } }, reader.key);
    expect(listed.data!.graphs.nodes.map((g) => g.id)).not.toContain(id);
  });
});
