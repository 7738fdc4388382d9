import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { createSession } from '../helpers/factories.js';
import { append, createSessionViaApi, EVENT_FIELDS, SESSION_FIELDS, snapshot, type SessionData } from './helpers.js';

/** The state limit, as the server measures it: octet_length(state::text). */
const MAX_STATE_BYTES = 1024 * 1024;

const UPDATE = `mutation($id: ID!, $input: UpdateSessionInput!, $v: Int) { updateSession(id: $id, input: $input, expectedVersion: $v) { session { ${SESSION_FIELDS} } } }`;
const transition = (name: string) => `mutation($id: ID!, $v: Int) { ${name}(id: $id, expectedVersion: $v) { session { ${SESSION_FIELDS} } } }`;

describe.each(testDatabaseKinds)('session mutations over HTTP on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ database: kind });
  });
  afterAll(() => server?.close());

  const newSession = (input: Record<string, unknown> = {}) => createSessionViaApi(server, { appName: 'app', ...input });

  it('creates a session, stored with its fields', async () => {
    const session = await newSession({ agentId: 'a1', metadata: { env: 'prod' }, state: { step: 1 } });
    expect(session).toMatchObject({ appName: 'app', agentId: 'a1', status: 'ACTIVE', version: 1, eventCount: 0, metadata: { env: 'prod' }, state: { step: 1 }, user: { id: server.userId } });
    const row = await server.db.prisma.session.findUnique({ where: { id: session.id } });
    expect(row).toMatchObject({ userId: server.userId, appName: 'app', agentId: 'a1', metadata: { env: 'prod' }, state: { step: 1 } });
  });

  it('validates session input with BAD_USER_INPUT', async () => {
    const before = await server.db.prisma.session.count();
    for (const input of [{ appName: '' }, { appName: '   ' }, { appName: 'x'.repeat(5000) }, { appName: 'a\u0000' }, { appName: 'ok', metadata: { big: 'x'.repeat(70_000) } }, { appName: 'ok', state: { 'k\u0000': 1 } }, { appName: 'ok', userId: 'nope' }]) {
      const res = await server.graphql(`mutation($input: CreateSessionInput!) { createSession(input: $input) { session { id } } }`, { input });
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(input).slice(0, 80)).toBe('BAD_USER_INPUT');
    }
    expect(await server.db.prisma.session.count()).toBe(before);
  });

  it('creates member sessions of a team session', async () => {
    const team = await newSession({ agentId: 'lead' });
    const member = await newSession({ agentId: 'helper', teamSessionId: team.id });
    expect(member.teamSession).toEqual({ id: team.id });
    const nested = await server.graphql(`mutation($input: CreateSessionInput!) { createSession(input: $input) { session { id } } }`, { input: { appName: 'x', teamSessionId: member.id } });
    expect(nested.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const missing = await server.graphql(`mutation($input: CreateSessionInput!) { createSession(input: $input) { session { id } } }`, { input: { appName: 'x', teamSessionId: '00000000-0000-4000-8000-000000000000' } });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('updates fields, bumps the version, and refuses a stale expectedVersion with CONFLICT', async () => {
    const session = await newSession({ metadata: { a: 1 } });
    const res = await server.graphql<{ updateSession: { session: SessionData } }>(UPDATE, { id: session.id, input: { metadata: { b: 2 }, agentId: 'x', appName: 'renamed' }, v: 1 });
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateSession.session).toMatchObject({ metadata: { b: 2 }, agentId: 'x', appName: 'renamed', version: 2 });
    const before = await snapshot(server.db, session.id);
    const stale = await server.graphql(UPDATE, { id: session.id, input: { metadata: { c: 3 } }, v: 1 });
    expect(stale.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await snapshot(server.db, session.id)).toEqual(before);
    const nul = await server.graphql(UPDATE, { id: session.id, input: { state: { s: 'a\u0000' } } });
    expect(nul.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await snapshot(server.db, session.id)).toEqual(before);
  });

  it('allows only legal status transitions; illegal ones are CONFLICT and change nothing', async () => {
    const session = await newSession();
    const run = (name: string, v?: number) => server.graphql<Record<string, { session: SessionData }>>(transition(name), { id: session.id, v });
    const expectRefused = async (name: string) => {
      const before = await snapshot(server.db, session.id);
      const res = await run(name);
      expect(res.errors?.[0]?.extensions?.code, name).toBe('CONFLICT');
      expect(await snapshot(server.db, session.id)).toEqual(before);
    };
    await expectRefused('reactivateSession');
    expect((await run('completeSession')).data?.completeSession?.session).toMatchObject({ status: 'COMPLETED', version: 2 });
    await expectRefused('completeSession');
    await expectRefused('failSession');
    expect((await run('reactivateSession')).data?.reactivateSession?.session).toMatchObject({ status: 'ACTIVE', version: 3 });
    expect((await run('failSession', 3)).data?.failSession?.session).toMatchObject({ status: 'FAILED', version: 4 });
    await expectRefused('completeSession');
    const stale = await run('reactivateSession', 3);
    expect(stale.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await server.db.prisma.session.findUnique({ where: { id: session.id } }))?.status).toBe('FAILED');
  });

  it('appends a batch with gap-free sequences and merges stateDelta into the state', async () => {
    const session = await newSession({ state: { keep: true, drop: 1, over: 'old' } });
    const res = await append(server, session.id, [
      { author: 'user', content: { text: 'hi' }, invocationId: 'i1', clientEventId: 'c1' },
      { author: 'agent', agentId: 'a', actions: { stateDelta: { over: 'new', added: { nested: [1, 2] } } }, branch: 'root.a' },
      { author: 'agent', actions: { stateDelta: { drop: null, added2: 2 }, escalate: false }, metadata: { loop: 1 } },
    ], { expectedVersion: 1 });
    expect(res.errors).toBeUndefined();
    const { session: after, events } = res.data!.appendSessionEvents;
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3]);
    expect(events[0]).toMatchObject({ author: 'user', content: { text: 'hi' }, invocationId: 'i1', clientEventId: 'c1', metadata: {} });
    expect(events[2]).toMatchObject({ actions: { stateDelta: { drop: null, added2: 2 }, escalate: false }, metadata: { loop: 1 } });
    expect(after).toMatchObject({ version: 2, eventCount: 3, state: { keep: true, over: 'new', added: { nested: [1, 2] }, added2: 2 } });
    expect(after.state).not.toHaveProperty('drop');
    const row = await server.db.prisma.session.findUnique({ where: { id: session.id } });
    expect(row).toMatchObject({ version: 2, lastSequence: 3, state: { keep: true, over: 'new', added: { nested: [1, 2] }, added2: 2 } });
    expect(row!.updatedAt.getTime()).toBeGreaterThan(new Date(session.updatedAt).getTime() - 1);
    const more = await append(server, session.id, [{ author: 'user' }]);
    expect(more.data?.appendSessionEvents.events[0]?.sequence).toBe(4);
  });

  it('stores nothing when one event of the batch is invalid', async () => {
    const session = await newSession();
    await append(server, session.id, [{ author: 'user' }]);
    const before = await snapshot(server.db, session.id);
    const invalid: Array<Array<Record<string, unknown>>> = [
      [{ author: 'ok' }, { author: '' }],
      [{ author: 'ok' }, { author: 'x', content: { text: 'bad \u0000 nul' } }],
      [{ author: 'ok' }, { author: 'x', actions: { stateDelta: [1] } }],
      [{ author: 'ok' }, { author: 'x', branch: 'b'.repeat(2000) }],
      [{ author: 'ok' }, { author: 'x', content: 'y'.repeat(300_000) }],
      [{ author: 'ok', clientEventId: 'same' }, { author: 'x', clientEventId: 'same' }],
      Array.from({ length: 501 }, () => ({ author: 'many' })),
      [],
    ];
    for (const events of invalid) {
      const res = await append(server, session.id, events);
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(events).slice(0, 100)).toBe('BAD_USER_INPUT');
    }
    expect(await snapshot(server.db, session.id)).toEqual(before);
  });

  it('appends a full batch of 500 events', async () => {
    const session = await newSession();
    const res = await append(server, session.id, Array.from({ length: 500 }, (_, i) => ({ author: 'bulk', content: { i } })));
    expect(res.errors).toBeUndefined();
    expect(res.data!.appendSessionEvents.events.map((e) => e.sequence)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
  });

  it('refuses a stale expectedVersion with CONFLICT and writes nothing', async () => {
    const session = await newSession();
    await append(server, session.id, [{ author: 'user' }], { expectedVersion: 1 });
    const before = await snapshot(server.db, session.id);
    const stale = await append(server, session.id, [{ author: 'user', actions: { stateDelta: { x: 1 } } }], { expectedVersion: 1 });
    expect(stale.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await snapshot(server.db, session.id)).toEqual(before);
    const current = await append(server, session.id, [{ author: 'user' }], { expectedVersion: 2 });
    expect(current.errors).toBeUndefined();
  });

  it('refuses appends to a non-ACTIVE session with CONFLICT', async () => {
    const session = await newSession();
    await server.graphql(transition('completeSession'), { id: session.id });
    const before = await snapshot(server.db, session.id);
    const res = await append(server, session.id, [{ author: 'user' }]);
    expect(res.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await snapshot(server.db, session.id)).toEqual(before);
  });

  it('is idempotent: a retried batch with the same client ids stores nothing new and returns the originals', async () => {
    const session = await newSession();
    const batch = [{ author: 'user', clientEventId: 'a', content: { n: 1 } }, { author: 'agent', clientEventId: 'b', actions: { stateDelta: { n: 1 } } }];
    const first = await append(server, session.id, batch, { expectedVersion: 1 });
    expect(first.errors).toBeUndefined();
    const before = await snapshot(server.db, session.id);
    // The retry carries the same (now stale) expectedVersion: it is still answered with the stored events.
    const retry = await append(server, session.id, batch, { expectedVersion: 1 });
    expect(retry.errors).toBeUndefined();
    expect(retry.data!.appendSessionEvents.events).toEqual(first.data!.appendSessionEvents.events);
    expect(await snapshot(server.db, session.id)).toEqual(before);
    // A batch mixing a stored id and a new one stores only the new event.
    const mixed = await append(server, session.id, [{ author: 'agent', clientEventId: 'c' }, batch[0]!]);
    expect(mixed.data!.appendSessionEvents.events.map((e) => [e.clientEventId, e.sequence])).toEqual([['c', 3], ['a', 1]]);
    expect(await server.db.prisma.sessionEvent.count({ where: { sessionId: session.id } })).toBe(3);
    // Concurrent retries of one batch store it once.
    const again = [{ author: 'user', clientEventId: 'd' }, { author: 'user', clientEventId: 'e' }];
    const results = await Promise.all(Array.from({ length: 5 }, () => append(server, session.id, again)));
    for (const res of results) expect(res.errors).toBeUndefined();
    const ids = new Set(results.flatMap((res) => res.data!.appendSessionEvents.events.map((e) => e.id)));
    expect(ids.size).toBe(2);
    expect(await server.db.prisma.sessionEvent.count({ where: { sessionId: session.id } })).toBe(5);
  });

  it('keeps 20 concurrent appenders to one session gap-free with no lost events', async () => {
    const session = await newSession();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, writer) =>
        append(server, session.id, Array.from({ length: 5 }, (_, i) => ({ author: `writer-${writer}`, content: { writer, i }, actions: { stateDelta: { [`w${writer}`]: i } } }))),
      ),
    );
    for (const res of results) expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    const rows = await server.db.prisma.sessionEvent.findMany({ where: { sessionId: session.id }, orderBy: { sequence: 'asc' } });
    expect(rows.map((r) => r.sequence)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // Each batch got a contiguous run, in order.
    for (const res of results) {
      const seqs = res.data!.appendSessionEvents.events.map((e) => e.sequence);
      expect(seqs).toEqual(Array.from({ length: 5 }, (_, i) => seqs[0]! + i));
    }
    const row = await server.db.prisma.session.findUnique({ where: { id: session.id } });
    expect(row).toMatchObject({ lastSequence: 100, version: 21 });
    expect(Object.keys(row!.state as object).length).toBe(20);
    expect(Object.values(row!.state as object).every((v) => v === 4)).toBe(true);
  });

  it('deletes a session with its events', async () => {
    const session = await newSession();
    await append(server, session.id, [{ author: 'user' }, { author: 'agent' }]);
    const res = await server.graphql<{ deleteSession: { deletedSessionId: string } }>('mutation($id: ID!) { deleteSession(id: $id) { deletedSessionId } }', { id: session.id });
    expect(res.data?.deleteSession.deletedSessionId).toBe(session.id);
    expect(await snapshot(server.db, session.id)).toEqual({ session: null, events: [] });
    const again = await server.graphql('mutation($id: ID!) { deleteSession(id: $id) { deletedSessionId } }', { id: session.id });
    expect(again.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('returns appended events through the payload with their session', async () => {
    const session = await newSession();
    const res = await server.graphql<{ appendSessionEvents: { events: Array<{ session: { id: string; eventCount: number } }> } }>(
      `mutation($id: ID!) { appendSessionEvents(sessionId: $id, events: [{ author: "u" }]) { events { ${EVENT_FIELDS} session { id eventCount } } } }`,
      { id: session.id },
    );
    expect(res.data?.appendSessionEvents.events[0]?.session).toEqual({ id: session.id, eventCount: 1 });
  });

  it('refuses an append that would take the state past 1 MiB, and stores nothing', async () => {
    // Just under the limit, written directly (an API write cannot carry this much at once).
    const filler = 'x'.repeat(MAX_STATE_BYTES - 20_000);
    const session = await createSession(server.db, { userId: server.userId, state: { filler, keep: 1 } });
    const stateBytes = async () => {
      const [row] = await server.db.prisma.$queryRaw<Array<{ bytes: number }>>`SELECT octet_length(state::text) AS bytes FROM sessions WHERE id = ${session.id}::uuid`;
      return row!.bytes;
    };
    expect(await stateBytes()).toBeLessThan(MAX_STATE_BYTES);
    const before = await snapshot(server.db, session.id);
    const grow = { stateDelta: { more: 'y'.repeat(30_000) } };
    const refused = await append(server, session.id, [{ author: 'a', clientEventId: 'big' }, { author: 'a', actions: grow }]);
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toContain('1,048,576 bytes');
    expect(await snapshot(server.db, session.id)).toEqual(before);
    // Appends that leave the state alone, or shrink it, still go through.
    const plain = await append(server, session.id, [{ author: 'a', content: { text: 'no delta' } }]);
    expect(plain.errors).toBeUndefined();
    const shrink = await append(server, session.id, [{ author: 'a', actions: { stateDelta: { filler: null, more: 'y'.repeat(30_000) } } }]);
    expect(shrink.errors).toBeUndefined();
    const row = await server.db.prisma.session.findUnique({ where: { id: session.id } });
    expect(row).toMatchObject({ version: 3, lastSequence: 2 });
    expect(Object.keys(row!.state as object).sort()).toEqual(['keep', 'more']);
  });

  it('measures a state set by createSession or updateSession the same way (as PostgreSQL writes it)', async () => {
    // 1e300 is 6 characters of JSON but 301 digits in jsonb's text: 4,000 of them pass 1 MiB.
    const huge = { numbers: Array.from({ length: 4_000 }, () => 1e300) };
    const count = await server.db.prisma.session.count();
    const created = await server.graphql(`mutation($input: CreateSessionInput!) { createSession(input: $input) { session { id } } }`, { input: { appName: 'big', state: huge } });
    expect(created.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'input.state' });
    expect(await server.db.prisma.session.count()).toBe(count);
    const session = await newSession();
    const before = await snapshot(server.db, session.id);
    const updated = await server.graphql(UPDATE, { id: session.id, input: { state: huge, appName: 'renamed' } });
    expect(updated.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await snapshot(server.db, session.id)).toEqual(before);
  });

  it('does not make a new version of an update that changes nothing', async () => {
    const session = await newSession({ agentId: 'a', metadata: { m: 1 }, state: { s: { deep: [1, 2] } } });
    const before = await snapshot(server.db, session.id);
    for (const input of [{}, { appName: 'app' }, { agentId: 'a', metadata: { m: 1 } }, { state: { s: { deep: [1, 2] } } }]) {
      const res = await server.graphql<{ updateSession: { session: SessionData } }>(UPDATE, { id: session.id, input });
      expect(res.errors, JSON.stringify(input)).toBeUndefined();
      expect(res.data!.updateSession.session).toMatchObject({ version: 1, updatedAt: session.updatedAt, state: { s: { deep: [1, 2] } } });
    }
    expect(await snapshot(server.db, session.id)).toEqual(before);
    const stale = await server.graphql(UPDATE, { id: session.id, input: {}, v: 2 });
    expect(stale.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const missing = await server.graphql(UPDATE, { id: '00000000-0000-4000-8000-000000000000', input: {} });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const changed = await server.graphql<{ updateSession: { session: SessionData } }>(UPDATE, { id: session.id, input: { agentId: null }, v: 1 });
    expect(changed.data?.updateSession.session).toMatchObject({ version: 2, agentId: null });
  });

  it('merges state deltas in SQL: an append reads back the state only when its answer selects it', async () => {
    const session = await newSession({ state: { a: 1 } });
    const statements: string[] = [];
    const stop = server.db.onQuery((e) => statements.push(e.query));
    const res = await server.graphql<{ appendSessionEvents: { session: { version: number } } }>(
      'mutation($id: ID!) { appendSessionEvents(sessionId: $id, events: [{ author: "a", content: { t: 1 }, actions: { stateDelta: { b: 2, a: null } } }]) { session { version } events { sequence } } }',
      { id: session.id },
    );
    stop();
    expect(res.data?.appendSessionEvents.session.version).toBe(2);
    for (const column of ['state', 'metadata', 'content', 'actions']) expect(statements.join('\n'), column).not.toContain(`.${column} AS "${column}"`);
    const withState = await append(server, session.id, [{ author: 'a', actions: { stateDelta: { c: 3 } } }]);
    expect(withState.data?.appendSessionEvents.session.state).toEqual({ b: 2, c: 3 });
  });
});
