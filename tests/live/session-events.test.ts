import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../helpers/databases.js';
import { createSession, createUser } from '../helpers/factories.js';
import { liveClient, sleep, sseClient } from '../helpers/live.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const EVENTS = 'subscription($id: ID!, $after: NonNegativeInt) { sessionEventsAppended(sessionId: $id, afterSequence: $after) { sequence author content } }';
const APPEND = 'mutation($id: ID!, $events: [SessionEventInput!]!) { appendSessionEvents(sessionId: $id, events: $events) { events { sequence } } }';
type Event = { sessionEventsAppended: { sequence: number; author: string; content: unknown } };

describe.each(testDatabaseKinds)('subscriptions to session events on %s', (kind) => {
  let server: TestServer;
  const clients: Array<{ dispose(): unknown }> = [];
  const ws = (key: string | null = server.apiKey) => {
    const client = liveClient(server.url, key);
    clients.push(client);
    return client;
  };
  const append = async (sessionId: string, count: number, content: unknown = null) => {
    const events = Array.from({ length: count }, (_, i) => ({ author: `agent-${i}`, content }));
    const res = await server.graphql(APPEND, { id: sessionId, events });
    expect(res.errors).toBeUndefined();
  };

  beforeAll(async () => {
    server = await startTestServer({ database: kind, live: { stallMs: 1_000 } });
  });
  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await server?.close();
  });

  it('replays what is stored after `afterSequence`, then continues live: exactly 1..N under concurrent appends, over both transports', async () => {
    const session = await createSession(server.db, { userId: server.userId });
    await append(session.id, 30);
    const overWs = ws().subscribe<Event>(EVENTS, { id: session.id, after: 0 });
    const sse = sseClient(server.url, server.apiKey);
    clients.push(sse);
    const overSse = sse.subscribe<Event>(EVENTS, { id: session.id, after: 10 });
    // Four writers append at once while the subscribers replay.
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 10; i++) await append(session.id, 3);
    }));
    const total = 30 + 4 * 10 * 3;
    await overWs.waitFor(total, 20_000);
    await overSse.waitFor(total - 10, 20_000);
    await sleep(200);
    const sequences = (r: { data: Event[] }) => r.data.map((d) => d.sessionEventsAppended.sequence);
    expect(sequences(overWs)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(sequences(overSse)).toEqual(Array.from({ length: total - 10 }, (_, i) => i + 11));
    expect(overWs.results.every((r) => !r.errors)).toBe(true);
    overWs.stop();
    overSse.stop();
  });

  it('without `afterSequence` delivers only what is appended from then on; a deleted session ends it', async () => {
    const session = await createSession(server.db, { userId: server.userId });
    await append(session.id, 2);
    const live = ws().subscribe<Event>(EVENTS, { id: session.id });
    await sleep(300);
    await append(session.id, 1, { text: 'hello' });
    await live.waitFor(1);
    expect(live.data[0]!.sessionEventsAppended).toEqual({ sequence: 3, author: 'agent-0', content: { text: 'hello' } });
    const deleted = await server.graphql('mutation($id: ID!) { deleteSession(id: $id) { deletedSessionId } }', { id: session.id });
    expect(deleted.errors).toBeUndefined();
    await live.ended();
    expect(live.results.at(-1)?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('another user’s session is NOT_FOUND, like a missing one', async () => {
    const stranger = await createUser(server.db);
    const session = await createSession(server.db, { userId: server.userId });
    const theirs = ws(stranger.apiKey).subscribe<Event>(EVENTS, { id: session.id, after: 0 });
    await theirs.ended();
    expect(theirs.results[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(theirs.data).toEqual([]);
  });

  it('closes a subscriber that stops reading (its writes stall), keeping nothing of it', async () => {
    const session = await createSession(server.db, { userId: server.userId });
    // A raw graphql-ws connection whose socket stops reading once subscribed.
    const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${server.apiKey}` } }));
    await new Promise((resolve) => socket.once('message', resolve));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: EVENTS, variables: { id: session.id } } }));
    await sleep(300);
    (socket as unknown as { _socket: { pause(): void } })._socket.pause();
    // Large events fill the socket's buffers; then nothing drains for `stallMs` (1 s here).
    const big = { text: 'x'.repeat(200_000) };
    for (let i = 0; i < 40; i++) await append(session.id, 1, big);
    await sleep(2_500);
    expect(server.liveStats().webSockets).toBe(0);
    // Read again, the client finds what was sent before the close, then the close itself.
    (socket as unknown as { _socket: { resume(): void } })._socket.resume();
    const { code } = await closed;
    // 4400 when the close frame got out before the connection was cut, 1006 (cut) when it was stuck behind the events.
    expect([4400, 1006]).toContain(code);
    await sleep(100);
    expect(server.liveStats().subscriptions).toBe(0);
  });

  it('ends every subscription with SHUTTING_DOWN when the server stops', async () => {
    const own = await startTestServer({ database: kind });
    const session = await createSession(own.db, { userId: own.userId });
    const client = liveClient(own.url, own.apiKey);
    clients.push(client);
    const live = client.subscribe<Event>(EVENTS, { id: session.id });
    await sleep(300);
    await own.close();
    await live.ended();
    const ended = JSON.stringify({ results: live.results, closes: client.closes });
    expect(ended).toMatch(/SHUTTING_DOWN|1001/);
  });
});
