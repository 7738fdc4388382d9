import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../helpers/databases.js';
import { createSession } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  append,
  EVENTS_PAGE,
  SESSIONS_PAGE,
  type EventsPage,
  type SessionsPage,
} from './helpers.js';

const base = Date.parse('2026-01-01T00:00:00Z');
const at = (minutes: number) => new Date(base + minutes * 60_000);

describe.each(testDatabaseKinds)('session queries over HTTP on %s', (kind) => {
  let server: TestServer;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    const u = server.userId;
    const team = await createSession(server.db, { userId: u, appName: 'support', agentId: 'lead', metadata: { env: 'prod', tier: { level: 2 } }, createdAt: at(0), updatedAt: at(100) });
    ids.team = team.id;
    ids.member1 = (await createSession(server.db, { userId: u, appName: 'support', agentId: 'billing', teamSessionId: team.id, status: 'COMPLETED', metadata: { env: 'prod' }, createdAt: at(1), updatedAt: at(50) })).id;
    ids.member2 = (await createSession(server.db, { userId: u, appName: 'support', agentId: 'refund', teamSessionId: team.id, status: 'FAILED', metadata: { env: 'dev' }, createdAt: at(2), updatedAt: at(60) })).id;
    ids.research = (await createSession(server.db, { userId: u, appName: 'research', agentId: 'researcher', metadata: { env: 'prod', tags: ['a', 'b'] }, createdAt: at(3), updatedAt: at(30) })).id;
    ids.travel = (await createSession(server.db, { userId: u, appName: 'travel', agentId: 'planner', status: 'COMPLETED', createdAt: at(4), updatedAt: at(10) })).id;
  });
  afterAll(() => server?.close());

  const list = async (variables: Record<string, unknown>) => {
    const res = await server.graphql<SessionsPage>(SESSIONS_PAGE, { first: 100, ...variables });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data!.sessions;
  };
  const idsOf = async (filter: Record<string, unknown>, orderBy?: Record<string, unknown>) =>
    (await list({ filter, orderBy })).edges.map((e) => e.node.id);

  it('lists the viewer’s sessions, most recently updated first, with their fields', async () => {
    const page = await list({});
    expect(page.totalCount).toBe(5);
    expect(page.edges.map((e) => e.node.id)).toEqual([ids.team, ids.member2, ids.member1, ids.research, ids.travel]);
    const member = page.edges.find((e) => e.node.id === ids.member1)!.node;
    expect(member).toMatchObject({ appName: 'support', agentId: 'billing', status: 'COMPLETED', metadata: { env: 'prod' }, state: {}, version: 1, eventCount: 0, user: { id: server.userId }, teamSession: { id: ids.team } });
  });

  it('filters by appName, agentId, status, team membership and time ranges', async () => {
    expect(await idsOf({ appName: 'support' })).toEqual([ids.team, ids.member2, ids.member1]);
    expect(await idsOf({ agentId: 'planner' })).toEqual([ids.travel]);
    expect(await idsOf({ status: ['COMPLETED'] })).toEqual([ids.member1, ids.travel]);
    expect(await idsOf({ status: ['COMPLETED', 'FAILED'] })).toEqual([ids.member2, ids.member1, ids.travel]);
    expect(await idsOf({ teamSessionId: ids.team })).toEqual([ids.member2, ids.member1]);
    expect(await idsOf({ isTeamMember: true })).toEqual([ids.member2, ids.member1]);
    expect(await idsOf({ isTeamMember: false })).toEqual([ids.team, ids.research, ids.travel]);
    expect(await idsOf({ createdAfter: at(2).toISOString(), createdBefore: at(4).toISOString() })).toEqual([ids.member2, ids.research]);
    expect(await idsOf({ updatedAfter: at(30).toISOString(), updatedBefore: at(60).toISOString() })).toEqual([ids.member1, ids.research]);
    expect(await idsOf({ appName: 'support', status: ['FAILED', 'ACTIVE'] })).toEqual([ids.team, ids.member2]);
    expect(await idsOf({ teamSessionId: 'not-a-uuid' })).toEqual([]);
  });

  it('filters by metadata containment (jsonb @>)', async () => {
    expect(await idsOf({ metadataContains: { env: 'prod' } })).toEqual([ids.team, ids.member1, ids.research]);
    expect(await idsOf({ metadataContains: { tier: { level: 2 } } })).toEqual([ids.team]);
    expect(await idsOf({ metadataContains: { tags: ['b'] } })).toEqual([ids.research]);
    expect(await idsOf({ metadataContains: { env: 'prod', tier: { level: 3 } } })).toEqual([]);
    const counted = await list({ filter: { metadataContains: { env: 'prod' } }, first: 1 });
    expect(counted.totalCount).toBe(3);
  });

  it('orders by createdAt both ways', async () => {
    expect(await idsOf({}, { field: 'CREATED_AT', direction: 'ASC' })).toEqual([ids.team, ids.member1, ids.member2, ids.research, ids.travel]);
    expect(await idsOf({}, { field: 'CREATED_AT', direction: 'DESC' })).toEqual([ids.travel, ids.research, ids.member2, ids.member1, ids.team]);
  });

  it('pages through sessions with keyset cursors while sessions are created in between', async () => {
    const owner = server.userId;
    const pagedIds: string[] = [];
    for (let i = 0; i < 7; i++) {
      // Three share a timestamp: the id tie-breaker decides.
      pagedIds.push((await createSession(server.db, { userId: owner, appName: 'paged', createdAt: at(200 + Math.min(i, 4)), updatedAt: at(200) })).id);
    }
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: SessionsPage['sessions'] = await list({ first: 3, after, filter: { appName: 'paged' }, orderBy: { field: 'CREATED_AT', direction: 'ASC' } });
      expect(page.pageInfo.hasPreviousPage).toBe(pages > 0);
      seen.push(...page.edges.map((e) => e.node.id));
      pages += 1;
      if (pages === 1) {
        // A newer session created mid-walk shows up at the end, once.
        pagedIds.push((await createSession(server.db, { userId: owner, appName: 'paged', createdAt: at(300), updatedAt: at(200) })).id);
      }
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(pagedIds);
    // Same with updatedAt DESC (all equal: only the id orders them).
    const byUpdate: string[] = [];
    after = null;
    for (;;) {
      const page: SessionsPage['sessions'] = await list({ first: 2, after, filter: { appName: 'paged' } });
      byUpdate.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(byUpdate).toEqual([...pagedIds].sort().reverse());
  });

  it('refuses bad page sizes, forged cursors and oversized filters with BAD_USER_INPUT', async () => {
    const bad = [
      { first: 101 },
      { first: -1 },
      { after: 'garbage!' },
      { after: Buffer.from('["sessions:CREATED_AT:ASC","2026-01-01T00:00:00.000Z","x"]').toString('base64url') },
      { filter: { appName: 'x'.repeat(2000) } },
      { filter: { appName: 'a\u0000b' } },
      { filter: { metadataContains: { k: 'a\u0000' } } },
      { filter: { userId: 'nope' } },
    ];
    for (const variables of bad) {
      const res = await server.graphql(SESSIONS_PAGE, variables);
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe('BAD_USER_INPUT');
    }
  });

  it('resolves team sessions, member sessions (paged) and User.sessions', async () => {
    const res = await server.graphql<{ session: { memberSessions: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; nodes: Array<{ id: string; teamSession: { id: string } }> } } }>(
      'query($id: ID!) { session(id: $id) { memberSessions(first: 1) { totalCount pageInfo { hasNextPage endCursor } nodes { id teamSession { id } } } } }',
      { id: ids.team },
    );
    expect(res.errors).toBeUndefined();
    const members = res.data!.session.memberSessions;
    expect(members.totalCount).toBe(2);
    expect(members.nodes).toEqual([{ id: ids.member1, teamSession: { id: ids.team } }]);
    const next = await server.graphql<{ session: { memberSessions: { nodes: Array<{ id: string }>; pageInfo: { hasNextPage: boolean } } } }>(
      'query($id: ID!, $after: String) { session(id: $id) { memberSessions(first: 1, after: $after) { pageInfo { hasNextPage } nodes { id } } } }',
      { id: ids.team, after: members.pageInfo.endCursor },
    );
    expect(next.data!.session.memberSessions.nodes).toEqual([{ id: ids.member2 }]);
    expect(next.data!.session.memberSessions.pageInfo.hasNextPage).toBe(false);

    const viewer = await server.graphql<{ viewer: { sessions: { totalCount: number } } }>('{ viewer { sessions(filter: { appName: "support" }) { totalCount } } }');
    expect(viewer.data?.viewer.sessions.totalCount).toBe(3);
  });

  it('reads the JSON columns (metadata, state, event content …) only when the query selects them', async () => {
    const team = ids.team!;
    const sql = async (query: string, variables: Record<string, unknown> = {}) => {
      const statements: string[] = [];
      const stop = server.db.onQuery((e) => statements.push(e.query));
      const res = await server.graphql(query, variables);
      stop();
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      return statements.join('\n');
    };
    const readsJson = (text: string, column: string) => new RegExp(`\\.${column} AS "${column}"`).test(text);
    const light = await sql('{ sessions(first: 5) { nodes { id version eventCount teamSession { id } } } }');
    expect(readsJson(light, 'state') || readsJson(light, 'metadata')).toBe(false);
    const byId = await sql('query($id: ID!) { session(id: $id) { id version memberSessions { nodes { id } } events(last: 5) { nodes { sequence author } } } }', { id: team });
    for (const column of ['state', 'metadata', 'content', 'actions']) expect(readsJson(byId, column), column).toBe(false);
    const withState = await sql('{ sessions(first: 5) { nodes { id state } } }');
    expect(readsJson(withState, 'state')).toBe(true);
    expect(readsJson(withState, 'metadata')).toBe(false);
    const withContent = await sql('query($id: ID!) { session(id: $id) { metadata events(last: 5) { nodes { content } } } }', { id: team });
    expect([readsJson(withContent, 'metadata'), readsJson(withContent, 'state'), readsJson(withContent, 'content'), readsJson(withContent, 'actions')]).toEqual([true, false, true, false]);
    // A selection the look-ahead cannot see (a team session's state) is still answered, from a by-id read.
    const nested = await server.graphql<{ session: { teamSession: { state: unknown; metadata: unknown } } }>(
      'query($id: ID!) { session(id: $id) { teamSession { ...T } } } fragment T on Session { state metadata }',
      { id: ids.member1 },
    );
    expect(nested.data?.session.teamSession).toEqual({ state: {}, metadata: { env: 'prod', tier: { level: 2 } } });
  });

  describe('events', () => {
    let sessionId: string;
    const events = async (variables: Record<string, unknown>) => {
      const res = await server.graphql<EventsPage>(EVENTS_PAGE, { id: sessionId, ...variables });
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      return res.data!.session;
    };

    beforeAll(async () => {
      sessionId = (await createSession(server.db, { userId: server.userId, appName: 'events' })).id;
      const batch = [
        { author: 'user', invocationId: 'inv-1', branch: 'root', timestamp: at(1).toISOString(), content: { parts: [{ text: 'hi' }] } },
        { author: 'lead', agentId: 'lead', invocationId: 'inv-1', branch: 'root.a', timestamp: at(2).toISOString() },
        { author: 'tool', invocationId: 'inv-1', branch: 'root.a.b', timestamp: at(3).toISOString() },
        { author: 'lead', agentId: 'lead', invocationId: 'inv-2', branch: 'root.ab', timestamp: at(4).toISOString() },
        { author: 'helper', agentId: 'helper', invocationId: 'inv-2', branch: 'root_a', timestamp: at(5).toISOString() },
        { author: 'user', invocationId: 'inv-3', timestamp: at(6).toISOString() },
      ];
      const res = await append(server, sessionId, batch);
      expect(res.errors).toBeUndefined();
    });

    const sequences = async (filter: Record<string, unknown>) => (await events({ filter })).events.edges.map((e) => e.node.sequence);

    it('filters by invocation, agent, author, branch prefix and time range', async () => {
      expect(await sequences({ invocationId: 'inv-1' })).toEqual([1, 2, 3]);
      expect(await sequences({ agentId: 'lead' })).toEqual([2, 4]);
      expect(await sequences({ author: 'user' })).toEqual([1, 6]);
      expect(await sequences({ branch: 'root.a' })).toEqual([2, 3]);
      expect(await sequences({ branch: 'root' })).toEqual([1, 2, 3, 4]);
      expect(await sequences({ branch: 'root_' })).toEqual([]);
      expect(await sequences({ branch: 'root%' })).toEqual([]);
      // A prefix spanning several branches pages in sequence order both ways.
      const newest = await events({ last: 2, filter: { branch: 'root' } });
      expect(newest.events.edges.map((e) => e.node.sequence)).toEqual([3, 4]);
      expect(newest.events.totalCount).toBe(4);
      const older = await events({ last: 5, before: newest.events.pageInfo.startCursor, filter: { branch: 'root' } });
      expect(older.events.edges.map((e) => e.node.sequence)).toEqual([1, 2]);
      const next = await events({ first: 2, after: older.events.edges[0]!.cursor, filter: { branch: 'root' } });
      expect(next.events.edges.map((e) => e.node.sequence)).toEqual([2, 3]);
      expect(await sequences({ timestampAfter: at(2).toISOString(), timestampBefore: at(5).toISOString() })).toEqual([2, 3, 4]);
      expect(await sequences({ invocationId: 'inv-2', agentId: 'helper' })).toEqual([5]);
      const counted = await events({ filter: { invocationId: 'inv-1' }, first: 1 });
      expect(counted.events.totalCount).toBe(3);
      expect(counted.eventCount).toBe(6);
    });

    it('gives the newest page with last and pages backwards with before', async () => {
      const newest = await events({ last: 2 });
      expect(newest.events.edges.map((e) => e.node.sequence)).toEqual([5, 6]);
      expect(newest.events.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
      expect(newest.events.totalCount).toBe(6);
      const older = await events({ last: 4, before: newest.events.pageInfo.startCursor });
      expect(older.events.edges.map((e) => e.node.sequence)).toEqual([1, 2, 3, 4]);
      expect(older.events.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
      const filtered = await events({ last: 1, filter: { agentId: 'lead' } });
      expect(filtered.events.edges.map((e) => e.node.sequence)).toEqual([4]);
    });

    it('refuses first with last, oversized pages and forged cursors', async () => {
      for (const variables of [{ first: 1, last: 1 }, { last: 101 }, { last: -1 }, { before: 'nope' }, { after: Buffer.from('["events:SEQUENCE","1"]').toString('base64url') }]) {
        const res = await server.graphql(EVENTS_PAGE, { id: sessionId, ...variables });
        expect(res.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe('BAD_USER_INPUT');
      }
    });

    it('pages forwards and backwards across pages while events are appended in between: no gaps, no duplicates', async () => {
      const id = (await createSession(server.db, { userId: server.userId, appName: 'events' })).id;
      await append(server, id, Array.from({ length: 10 }, (_, i) => ({ author: 'user', content: { i } })));
      // Forwards: the appended events show up at the end.
      const forward: number[] = [];
      let after: string | null = null;
      let appended = 0;
      for (;;) {
        const res: Awaited<ReturnType<typeof server.graphql<EventsPage>>> = await server.graphql<EventsPage>(EVENTS_PAGE, { id, first: 3, after });
        const page = res.data!.session.events;
        forward.push(...page.edges.map((e) => e.node.sequence));
        if (appended < 2) {
          await append(server, id, [{ author: 'late', content: { appended } }, { author: 'late' }]);
          appended += 1;
        }
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(forward).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
      // Backwards from the newest: appends in between do not shift the walk.
      const backward: number[] = [];
      let before: string | null = null;
      for (let round = 0; ; round++) {
        const res: Awaited<ReturnType<typeof server.graphql<EventsPage>>> = await server.graphql<EventsPage>(EVENTS_PAGE, { id, last: 4, before });
        const page = res.data!.session.events;
        backward.unshift(...page.edges.map((e) => e.node.sequence));
        if (round === 0) await append(server, id, [{ author: 'later' }]);
        if (!page.pageInfo.hasPreviousPage) break;
        before = page.pageInfo.startCursor;
      }
      expect(backward).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    });

    it('reads the newest events of many sessions in one statement', async () => {
      const statements: string[] = [];
      const stop = server.db.onQuery((e) => statements.push(e.query));
      const res = await server.graphql<{ sessions: { nodes: Array<{ id: string; events: { nodes: Array<{ sequence: number; session: { id: string } }> } }> } }>(
        '{ sessions(first: 50, filter: { appName: "events" }) { nodes { id events(last: 1) { nodes { sequence session { id } } } } } }',
      );
      stop();
      expect(res.errors).toBeUndefined();
      const nodes = res.data!.sessions.nodes;
      expect(nodes.length).toBe(2);
      for (const node of nodes) expect(node.events.nodes[0]!.session.id).toBe(node.id);
      expect(statements.filter((q) => /session_events/.test(q)).length).toBe(1);
    });
  });
});
