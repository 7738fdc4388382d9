import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSessionEvents, createSession, createUser } from '../helpers/factories.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { runCliOn } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY);

const runPrune = (databaseUrl: string, args: string[]) => runCliOn(databaseUrl, 'sessions-prune.ts', args);

/** `count` events, keeping the session's (chosen, old) updatedAt. */
async function seedEvents(server: TestServer, sessionId: string, count: number) {
  await addSessionEvents(server.db, sessionId, Array.from({ length: count }, () => ({ author: 'user' })), { keepUpdatedAt: true });
}

describe.each(testDatabaseKinds)('session retention on %s', (kind) => {
  let server: TestServer;
  let other: Awaited<ReturnType<typeof createUser>>;
  let admin: Awaited<ReturnType<typeof createUser>>;
  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    other = await createUser(server.db);
    admin = await createUser(server.db, { admin: true });
  });
  afterAll(() => server?.close());

  const DELETE = 'mutation($filter: DeleteSessionsFilter!) { deleteSessions(filter: $filter) { deletedCount } }';
  const remaining = async (ids: string[]) =>
    (await server.db.prisma.session.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((r) => r.id).sort();

  it('deleteSessions deletes exactly the caller’s matching sessions and their events', async () => {
    const mineOldA = await createSession(server.db, { userId: server.userId, appName: 'a', updatedAt: daysAgo(40) });
    const mineOldB = await createSession(server.db, { userId: server.userId, appName: 'b', updatedAt: daysAgo(40) });
    const mineNewA = await createSession(server.db, { userId: server.userId, appName: 'a', updatedAt: daysAgo(1) });
    const mineOldAFailed = await createSession(server.db, { userId: server.userId, appName: 'a', status: 'FAILED', updatedAt: daysAgo(40) });
    const theirsOldA = await createSession(server.db, { userId: other.user.id, appName: 'a', updatedAt: daysAgo(40) });
    await seedEvents(server, mineOldA.id, 7);
    await seedEvents(server, theirsOldA.id, 3);
    const all = [mineOldA.id, mineOldB.id, mineNewA.id, mineOldAFailed.id, theirsOldA.id];

    const empty = await server.graphql(DELETE, { filter: {} });
    expect(empty.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const foreign = await server.graphql(DELETE, { filter: { userId: other.user.id } });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await remaining(all)).toEqual([...all].sort());

    const res = await server.graphql<{ deleteSessions: { deletedCount: number } }>(DELETE, { filter: { appName: 'a', status: ['ACTIVE'], updatedBefore: daysAgo(30).toISOString() } });
    expect(res.data?.deleteSessions.deletedCount).toBe(1);
    expect(await remaining(all)).toEqual([mineOldB.id, mineNewA.id, mineOldAFailed.id, theirsOldA.id].sort());
    expect(await server.db.prisma.sessionEvent.count({ where: { sessionId: mineOldA.id } })).toBe(0);
    expect(await server.db.prisma.sessionEvent.count({ where: { sessionId: theirsOldA.id } })).toBe(3);

    // A non-admin without userId is scoped to their own sessions.
    const mine = await server.graphql<{ deleteSessions: { deletedCount: number } }>(DELETE, { filter: { updatedBefore: daysAgo(30).toISOString() } });
    expect(mine.data?.deleteSessions.deletedCount).toBe(2);
    expect(await remaining(all)).toEqual([mineNewA.id, theirsOldA.id].sort());

    // An admin may name another user.
    const byAdmin = await server.graphql<{ deleteSessions: { deletedCount: number } }>(DELETE, { filter: { userId: other.user.id, appName: 'a' } }, admin.apiKey);
    expect(byAdmin.data?.deleteSessions.deletedCount).toBe(1);
    expect(await remaining(all)).toEqual([mineNewA.id]);
    expect(await server.db.prisma.sessionEvent.count({ where: { sessionId: theirsOldA.id } })).toBe(0);
  });
});

// The CLI runs in its own process, so it needs a database another process can open: PostgreSQL. (The embedded
// PGlite of the other tests lives in this process's memory.)
describe.each(testDatabaseKinds.filter((kind) => kind === 'postgres'))('the sessions:prune CLI on %s', (kind) => {
  let server: TestServer;
  let other: Awaited<ReturnType<typeof createUser>>;
  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    other = await createUser(server.db);
  });
  afterAll(() => server?.close());
  const remaining = async (ids: string[]) =>
    (await server.db.prisma.session.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((r) => r.id).sort();
  const databaseUrl = () => {
    if (server.db.kind !== 'postgres') throw new Error('the CLI test needs PostgreSQL');
    return server.db.url;
  };

  it('the sessions:prune CLI deletes old sessions in batches; --dry-run and --app narrow it', async () => {
    const old: string[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await createSession(server.db, { userId: i % 2 ? other.user.id : server.userId, appName: 'prune', updatedAt: daysAgo(31 + i) });
      await seedEvents(server, s.id, 4);
      old.push(s.id);
    }
    const oldOtherApp = (await createSession(server.db, { userId: server.userId, appName: 'keep-app', updatedAt: daysAgo(60) })).id;
    const recent = (await createSession(server.db, { userId: server.userId, appName: 'prune', updatedAt: daysAgo(29) })).id;
    await seedEvents(server, recent, 2);
    const all = [...old, oldOtherApp, recent];

    const bad = await runPrune(databaseUrl(), ['--older-than', 'soon']);
    expect(bad.code).toBe(2);

    const dry = await runPrune(databaseUrl(), ['--older-than', '30d', '--app', 'prune', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would delete 5 sessions with 20 events/);
    expect(await remaining(all)).toEqual([...all].sort());

    const run = await runPrune(databaseUrl(), ['--older-than', '30d', '--app', 'prune', '--batch', '2']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Deleted 5 sessions with 20 events/);
    expect(await remaining(all)).toEqual([oldOtherApp, recent].sort());
    expect(await server.db.prisma.sessionEvent.count({ where: { sessionId: { in: old } } })).toBe(0);
    expect(await server.db.prisma.sessionEvent.count({ where: { sessionId: recent } })).toBe(2);

    const everything = await runPrune(databaseUrl(), ['--older-than=30d']);
    expect(everything.code, everything.stderr).toBe(0);
    expect(await remaining(all)).toEqual([recent]);
  }, 120_000);
});
