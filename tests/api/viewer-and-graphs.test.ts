import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../helpers/databases.js';
import { createGraph, createUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const GRAPHS_PAGE = /* GraphQL */ `
  query Graphs($first: Int, $after: String, $filter: GraphFilter, $orderBy: GraphOrder) {
    graphs(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id version name owner { email } } }
    }
  }
`;

type GraphsPage = {
  graphs: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
    edges: Array<{ cursor: string; node: { id: string; version: number; name: string; owner: { email: string } } }>;
  };
};

describe.each(testDatabaseKinds)('viewer and graphs over HTTP on %s', (kind) => {
  let server: TestServer;
  let other: Awaited<ReturnType<typeof createUser>>;
  let admin: Awaited<ReturnType<typeof createUser>>;
  const ownGraphIds: string[] = [];
  let otherGraphId: string;

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    other = await createUser(server.db);
    admin = await createUser(server.db, { admin: true });
    const base = Date.parse('2026-01-01T00:00:00Z');
    for (let i = 0; i < 7; i++) {
      // Two graphs share a timestamp so the id tie-breaker is exercised.
      const createdAt = new Date(base + Math.min(i, 5) * 60_000);
      const { graph } = await createGraph(server.db, server.userId, { name: `Mine ${i}`, createdAt });
      ownGraphIds.push(graph.id);
    }
    // An inactive older version must not appear in lists.
    await createGraph(server.db, server.userId, { name: 'Mine 0 (v0)', version: 2, isActive: false }, ownGraphIds[0]);
    otherGraphId = (await createGraph(server.db, other.user.id, { name: 'Theirs' })).graph.id;
  });
  afterAll(() => server?.close());

  it('answers the viewer for a valid key', async () => {
    const res = await server.graphql<{ viewer: { email: string; permissions: string[] } }>('{ viewer { email permissions } }');
    expect(res.status).toBe(200);
    expect(res.data?.viewer.email).toBe(server.userEmail);
    expect(res.data?.viewer.permissions).not.toContain('ADMIN');
  });

  it('refuses anonymous, malformed, unknown and revoked keys with UNAUTHENTICATED', async () => {
    const anonymous = await server.graphql('{ viewer { id } }', undefined, null);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const malformed = await server.graphql('{ viewer { id } }', undefined, 'not-a-key');
    expect(malformed.status).toBe(401);
    expect(malformed.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const unknown = await server.graphql('{ viewer { id } }', undefined, `agk_AAAAAAAA_${'x'.repeat(43)}`);
    expect(unknown.status).toBe(401);

    const wrongSecret = await server.graphql('{ viewer { id } }', undefined, `${server.apiKey.slice(0, 13)}${'y'.repeat(43)}`);
    expect(wrongSecret.status).toBe(401);

    const revoked = await createUser(server.db, { revoked: true });
    const res = await server.graphql('{ viewer { id } }', undefined, revoked.apiKey);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.message).toMatch(/revoked/);
  });

  it('records when a key was last used', async () => {
    await server.graphql('{ viewer { id } }');
    await expect
      .poll(async () => (await server.db.prisma.apiKey.findFirst({ where: { userId: server.userId } }))?.lastUsedAt)
      .toBeInstanceOf(Date);
  });

  it('pages through only the viewer’s active graphs with keyset cursors, no gaps and no duplicates', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const res: Awaited<ReturnType<typeof server.graphql<GraphsPage>>> = await server.graphql<GraphsPage>(GRAPHS_PAGE, { first: 3, after });
      expect(res.errors).toBeUndefined();
      const page = res.data!.graphs;
      expect(page.totalCount).toBe(7);
      expect(page.pageInfo.hasPreviousPage).toBe(pages > 0);
      seen.push(...page.edges.map((e) => e.node.id));
      for (const edge of page.edges) expect(edge.node.owner.email).toBe(server.userEmail);
      pages += 1;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(7);
    expect([...seen].sort()).toEqual([...ownGraphIds].sort());
    expect(seen).not.toContain(otherGraphId);
  });

  it('orders by name ascending and filters by name', async () => {
    const res = await server.graphql<GraphsPage>(GRAPHS_PAGE, { orderBy: { field: 'NAME', direction: 'ASC' }, filter: { nameContains: 'mine 1' } });
    expect(res.data?.graphs.edges.map((e) => e.node.name)).toEqual(['Mine 1']);
    const all = await server.graphql<GraphsPage>(GRAPHS_PAGE, { orderBy: { field: 'NAME', direction: 'ASC' } });
    const names = all.data!.graphs.edges.map((e) => e.node.name);
    expect(names).toEqual([...names].sort());
  });

  it('rejects a page size over the cap, a negative one and a forged cursor with BAD_USER_INPUT', async () => {
    for (const variables of [{ first: 101 }, { first: -1 }, { after: 'garbage!' }, { after: Buffer.from('["graphs:NAME:ASC","x","y",1]').toString('base64url') }]) {
      const res = await server.graphql(GRAPHS_PAGE, variables);
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe('BAD_USER_INPUT');
    }
  });

  it('hides other users’ graphs: NOT_FOUND by id, FORBIDDEN as an owner filter', async () => {
    const theirs = await server.graphql('query($id: ID!) { graph(id: $id) { id } }', { id: otherGraphId });
    expect(theirs.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const missing = await server.graphql('query($id: ID!) { graph(id: $id) { id } }', { id: '00000000-0000-4000-8000-000000000000' });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(missing.errors?.[0]?.message.replace(/[0-9a-f-]{36}/, 'ID')).toBe(theirs.errors?.[0]?.message.replace(/[0-9a-f-]{36}/, 'ID'));
    const notAnId = await server.graphql('query($id: ID!) { graph(id: $id) { id } }', { id: "1' or '1'='1" });
    expect(notAnId.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const filtered = await server.graphql(GRAPHS_PAGE, { filter: { ownerId: other.user.id } });
    expect(filtered.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('lets an admin see every user’s graphs and filter by owner', async () => {
    const all = await server.graphql<GraphsPage>(GRAPHS_PAGE, { first: 100 }, admin.apiKey);
    expect(all.data?.graphs.totalCount).toBe(8);
    const theirs = await server.graphql<GraphsPage>(GRAPHS_PAGE, { filter: { ownerId: other.user.id } }, admin.apiKey);
    expect(theirs.data?.graphs.edges.map((e) => e.node.id)).toEqual([otherGraphId]);
    const one = await server.graphql<{ graph: { name: string } }>('query($id: ID!) { graph(id: $id) { name } }', { id: otherGraphId }, admin.apiKey);
    expect(one.data?.graph.name).toBe('Theirs');
  });

  it('resolves a graph’s versions, nodes and links', async () => {
    const query = 'query($id: ID!, $v: Int) { graph(id: $id, version: $v) { version isActive nodes { blockId nodeType graph { id } } links { source { blockId } sink { blockId } } } }';
    const current = await server.graphql<{ graph: { version: number; nodes: Array<{ blockId: string; graph: { id: string } }>; links: Array<{ source: { blockId: string }; sink: { blockId: string } }> } }>(query, { id: ownGraphIds[0] });
    expect(current.data?.graph.version).toBe(1);
    expect(current.data?.graph.nodes.map((n) => n.blockId).sort()).toEqual(['block-in', 'block-llm', 'block-out']);
    expect(current.data?.graph.links.map((l) => `${l.source.blockId}>${l.sink.blockId}`).sort()).toEqual(['block-in>block-llm', 'block-llm>block-out']);
    const inactive = await server.graphql<{ graph: { version: number; isActive: boolean } }>(query, { id: ownGraphIds[0], v: 2 });
    expect(inactive.data?.graph).toMatchObject({ version: 2, isActive: false });
  });

  it('reports database health', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', database: { kind, reachable: true } });
  });

  it('keeps CSRF prevention on for GET operations without a preflight header', async () => {
    const res = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ viewer { id } }')}`);
    expect(res.status).toBe(400);
  });
});
