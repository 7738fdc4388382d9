import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSessionEvents, createSession, createUser } from '../helpers/factories.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { SESSIONS_PAGE, type SessionsPage } from './helpers.js';

type Caller = Awaited<ReturnType<typeof createUser>>;
const MISSING = '00000000-0000-4000-8000-000000000000';

/** Every operation that takes a session id, with the variables it needs. */
const BY_ID: Array<{ name: string; query: string; variables?: Record<string, unknown>; write: boolean }> = [
  { name: 'session', query: 'query($id: ID!) { session(id: $id) { id } }', write: false },
  { name: 'session.events', query: 'query($id: ID!) { session(id: $id) { events(last: 5) { nodes { id } } } }', write: false },
  { name: 'updateSession', query: 'mutation($id: ID!) { updateSession(id: $id, input: { metadata: { hacked: true } }) { session { id } } }', write: true },
  { name: 'completeSession', query: 'mutation($id: ID!) { completeSession(id: $id) { session { id } } }', write: true },
  { name: 'failSession', query: 'mutation($id: ID!) { failSession(id: $id) { session { id } } }', write: true },
  { name: 'reactivateSession', query: 'mutation($id: ID!) { reactivateSession(id: $id) { session { id } } }', write: true },
  { name: 'deleteSession', query: 'mutation($id: ID!) { deleteSession(id: $id) { deletedSessionId } }', write: true },
  { name: 'appendSessionEvents', query: 'mutation($id: ID!) { appendSessionEvents(sessionId: $id, events: [{ author: "x", clientEventId: "probe" }]) { events { id } } }', write: true },
  { name: 'createSession(teamSessionId)', query: 'mutation($id: ID!) { createSession(input: { appName: "x", teamSessionId: $id }) { session { id } } }', write: true },
];

describe.each(testDatabaseKinds)('session authorization over HTTP on %s', (kind) => {
  let server: TestServer;
  let alice: Caller;
  let bob: Caller;
  let admin: Caller;
  let readOnly: Caller;
  let noSessions: Caller;
  let aliceSession: string;
  let bobSession: string;
  let bobTeam: string;
  let aliceMemberOfBobTeam: string;

  const dump = async () => ({
    sessions: await server.db.prisma.session.findMany({ orderBy: { id: 'asc' } }),
    events: await server.db.prisma.sessionEvent.findMany({ orderBy: { id: 'asc' } }),
  });

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    alice = await createUser(server.db);
    bob = await createUser(server.db);
    admin = await createUser(server.db, { admin: true });
    readOnly = await createUser(server.db, { permissions: ['READ_SESSIONS', 'READ_GRAPHS'] });
    noSessions = await createUser(server.db, { permissions: ['READ_GRAPHS'] });
    aliceSession = (await createSession(server.db, { userId: alice.user.id, appName: 'shared-app', metadata: { owner: 'alice' } })).id;
    bobSession = (await createSession(server.db, { userId: bob.user.id, appName: 'shared-app', metadata: { owner: 'bob' } })).id;
    bobTeam = (await createSession(server.db, { userId: bob.user.id, appName: 'team' })).id;
    // Inconsistent on purpose (only possible by writing the database directly): Alice's session in Bob's team.
    aliceMemberOfBobTeam = (await createSession(server.db, { userId: alice.user.id, appName: 'team', teamSessionId: bobTeam })).id;
    await addSessionEvents(server.db, bobSession, [{ author: 'bob', content: { secret: 'bob' } }]);
  });
  afterAll(() => server?.close());

  it('answers another user’s session id exactly like a missing one, for every operation, and changes nothing', async () => {
    const before = await dump();
    for (const op of BY_ID) {
      const theirs = await server.graphql(op.query, { id: bobSession }, alice.apiKey);
      const missing = await server.graphql(op.query, { id: MISSING }, alice.apiKey);
      const garbage = await server.graphql(op.query, { id: 'x' }, alice.apiKey);
      expect(theirs.errors?.[0]?.extensions?.code, op.name).toBe('NOT_FOUND');
      expect(missing.errors?.[0]?.extensions?.code, op.name).toBe('NOT_FOUND');
      expect(garbage.errors?.[0]?.extensions?.code, op.name).toBe('NOT_FOUND');
      expect(theirs.errors?.[0]?.message.replace(bobSession, 'ID'), op.name).toBe(missing.errors?.[0]?.message.replace(MISSING, 'ID'));
      expect(Object.values(theirs.data ?? {}).every((value) => value === null), op.name).toBe(true);
    }
    expect(await dump()).toEqual(before);
  });

  it('lets the owner and an admin use the same operations', async () => {
    for (const op of BY_ID.filter((o) => !o.write)) {
      for (const caller of [bob, admin]) {
        const res = await server.graphql(op.query, { id: bobSession }, caller.apiKey);
        expect(res.errors, `${op.name}`).toBeUndefined();
      }
    }
    const byAdmin = await server.graphql<{ updateSession: { session: { metadata: Record<string, unknown> } } }>(
      'mutation($id: ID!) { updateSession(id: $id, input: { metadata: { owner: "bob", touched: "admin" } }) { session { metadata } } }',
      { id: bobSession },
      admin.apiKey,
    );
    expect(byAdmin.data?.updateSession.session.metadata).toEqual({ owner: 'bob', touched: 'admin' });
    const appended = await server.graphql('mutation($id: ID!) { appendSessionEvents(sessionId: $id, events: [{ author: "admin" }]) { events { sequence } } }', { id: bobSession }, admin.apiKey);
    expect(appended.errors).toBeUndefined();
    const created = await server.graphql<{ createSession: { session: { user: { id: string } } } }>(
      'mutation($u: ID!) { createSession(input: { appName: "for-bob", userId: $u }) { session { user { id } } } }',
      { u: bob.user.id },
      admin.apiKey,
    );
    expect(created.data?.createSession.session.user.id).toBe(bob.user.id);
  });

  it('lists only the caller’s sessions; a userId filter is FORBIDDEN for non-admins', async () => {
    const mine = await server.graphql<SessionsPage>(SESSIONS_PAGE, { filter: { appName: 'shared-app' } }, alice.apiKey);
    expect(mine.data?.sessions.edges.map((e) => e.node.id)).toEqual([aliceSession]);
    expect(mine.data?.sessions.totalCount).toBe(1);
    const theirs = await server.graphql(SESSIONS_PAGE, { filter: { userId: bob.user.id } }, alice.apiKey);
    expect(theirs.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const self = await server.graphql<SessionsPage>(SESSIONS_PAGE, { filter: { userId: alice.user.id, appName: 'shared-app' } }, alice.apiKey);
    expect(self.data?.sessions.totalCount).toBe(1);
    const probe = await server.graphql<SessionsPage>(SESSIONS_PAGE, { filter: { metadataContains: { owner: 'bob' } } }, alice.apiKey);
    expect(probe.data?.sessions.totalCount).toBe(0);
    const all = await server.graphql<SessionsPage>(SESSIONS_PAGE, { filter: { appName: 'shared-app' } }, admin.apiKey);
    expect(all.data?.sessions.edges.map((e) => e.node.id).sort()).toEqual([aliceSession, bobSession].sort());
    const onlyBob = await server.graphql<SessionsPage>(SESSIONS_PAGE, { filter: { userId: bob.user.id, appName: 'shared-app' } }, admin.apiKey);
    expect(onlyBob.data?.sessions.edges.map((e) => e.node.id)).toEqual([bobSession]);
  });

  it('does not leak a team session or member sessions of another user', async () => {
    const res = await server.graphql<{ session: { teamSession: { id: string } | null } }>('query($id: ID!) { session(id: $id) { teamSession { id appName } } }', { id: aliceMemberOfBobTeam }, alice.apiKey);
    expect(res.errors).toBeUndefined();
    expect(res.data?.session.teamSession).toBeNull();
    const listed = await server.graphql<SessionsPage>(SESSIONS_PAGE, { filter: { teamSessionId: bobTeam } }, alice.apiKey);
    expect(listed.data?.sessions.edges.map((e) => e.node.id)).toEqual([aliceMemberOfBobTeam]);
    expect(listed.data?.sessions.edges[0]?.node.teamSession).toBeNull();
    // Bob sees his team, but not Alice's member session in it.
    const bobView = await server.graphql<{ session: { memberSessions: { totalCount: number; nodes: unknown[] } } }>('query($id: ID!) { session(id: $id) { memberSessions { totalCount nodes { id } } } }', { id: bobTeam }, bob.apiKey);
    expect(bobView.data?.session.memberSessions).toEqual({ totalCount: 0, nodes: [] });
    const adminView = await server.graphql<{ session: { memberSessions: { totalCount: number; nodes: Array<{ id: string }> } } }>('query($id: ID!) { session(id: $id) { memberSessions { totalCount nodes { id } } } }', { id: bobTeam }, admin.apiKey);
    expect(adminView.data?.session.memberSessions).toEqual({ totalCount: 1, nodes: [{ id: aliceMemberOfBobTeam }] });
  });

  it('requires READ_SESSIONS to read and WRITE_SESSIONS to write', async () => {
    const before = await dump();
    const list = await server.graphql(SESSIONS_PAGE, {}, noSessions.apiKey);
    expect(list.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const viewerSessions = await server.graphql('{ viewer { sessions { totalCount } } }', {}, noSessions.apiKey);
    expect(viewerSessions.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    for (const op of BY_ID) {
      const res = await server.graphql(op.query, { id: MISSING }, noSessions.apiKey);
      expect(res.errors?.[0]?.extensions?.code, op.name).toBe('FORBIDDEN');
    }
    for (const op of BY_ID.filter((o) => o.write)) {
      const res = await server.graphql(op.query, { id: aliceSession }, readOnly.apiKey);
      expect(res.errors?.[0]?.extensions?.code, op.name).toBe('FORBIDDEN');
    }
    const bulk = await server.graphql('mutation { deleteSessions(filter: { appName: "shared-app" }) { deletedCount } }', {}, readOnly.apiKey);
    expect(bulk.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await server.graphql(SESSIONS_PAGE, {}, null);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await dump()).toEqual(before);
  });

  it('refuses creating sessions for another user or in another user’s team', async () => {
    const before = await dump();
    const forBob = await server.graphql('mutation($u: ID!) { createSession(input: { appName: "x", userId: $u }) { session { id } } }', { u: bob.user.id }, alice.apiKey);
    expect(forBob.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const inBobTeam = await server.graphql('mutation($id: ID!) { createSession(input: { appName: "x", teamSessionId: $id }) { session { id } } }', { id: bobTeam }, alice.apiKey);
    expect(inBobTeam.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await dump()).toEqual(before);
  });

  it('bulk delete only touches the caller’s sessions', async () => {
    const before = await dump();
    const foreign = await server.graphql('mutation($u: ID!) { deleteSessions(filter: { userId: $u }) { deletedCount } }', { u: bob.user.id }, alice.apiKey);
    expect(foreign.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await dump()).toEqual(before);
    const res = await server.graphql<{ deleteSessions: { deletedCount: number } }>('mutation { deleteSessions(filter: { appName: "shared-app" }) { deletedCount } }', {}, alice.apiKey);
    expect(res.data?.deleteSessions.deletedCount).toBe(1);
    const after = await dump();
    expect(after.sessions.map((s) => s.id).sort()).toEqual(before.sessions.map((s) => s.id).filter((id) => id !== aliceSession).sort());
    expect(after.events).toEqual(before.events);
  });

  it('answers a key without READ_SESSIONS ids, versions and sequences only; a selection of content is refused before writing', async () => {
    const writeOnly = await createUser(server.db, { permissions: ['WRITE_SESSIONS'] });
    const own = (await createSession(server.db, { userId: writeOnly.user.id, appName: 'w', metadata: { m: 'secret' }, state: { s: 'secret' } })).id;
    const receipt = await server.graphql<{ appendSessionEvents: { session: { id: string; version: number; eventCount: number }; events: Array<{ sequence: number }> } }>(
      'mutation($id: ID!) { appendSessionEvents(sessionId: $id, events: [{ author: "w", clientEventId: "c1", content: { text: "secret" } }]) { session { id version eventCount status updatedAt } events { id sequence clientEventId timestamp } } }',
      { id: own },
      writeOnly.apiKey,
    );
    expect(receipt.errors).toBeUndefined();
    expect(receipt.data?.appendSessionEvents).toMatchObject({ session: { id: own, version: 2, eventCount: 1 }, events: [{ sequence: 1 }] });
    const refused = [
      // The idempotent replay would answer the stored event.
      'mutation($id: ID!) { appendSessionEvents(sessionId: $id, events: [{ author: "w", clientEventId: "c1" }]) { events { sequence content } } }',
      'mutation($id: ID!) { appendSessionEvents(sessionId: $id, events: [{ author: "w" }]) { session { state } } }',
      'mutation($id: ID!) { appendSessionEvents(sessionId: $id, events: [{ author: "w" }]) { events { session { id } } } }',
      'mutation($id: ID!) { updateSession(id: $id, input: {}) { session { ...S } } } fragment S on Session { id metadata }',
      'mutation($id: ID!) { updateSession(id: $id, input: { agentId: "x" }) { session { agentId } } }',
      'mutation($id: ID!) { completeSession(id: $id) { session { appName } } }',
      'mutation($id: ID!) { updateSession(id: $id, input: {}) { session { teamSession { id } } } }',
      'mutation { createSession(input: { appName: "w2" }) { session { id user { email } } } }',
    ];
    const before = await dump();
    for (const query of refused) {
      const res = await server.graphql(query, { id: own }, writeOnly.apiKey);
      expect(res.errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
      expect(res.data ?? null, query).toBeNull();
    }
    expect(await dump()).toEqual(before);
    // Reads need READ_SESSIONS as before; with both permissions the same answers carry content.
    expect((await server.graphql('query($id: ID!) { session(id: $id) { id } }', { id: own }, writeOnly.apiKey)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const both = await createUser(server.db, { permissions: ['WRITE_SESSIONS', 'READ_SESSIONS'] });
    const mine = (await createSession(server.db, { userId: both.user.id, state: { s: 1 } })).id;
    const full = await server.graphql<{ updateSession: { session: { state: unknown; version: number } } }>(
      'mutation($id: ID!) { updateSession(id: $id, input: {}) { session { state version } } }',
      { id: mine },
      both.apiKey,
    );
    expect(full.data?.updateSession.session).toEqual({ state: { s: 1 }, version: 1 });
  });
});
