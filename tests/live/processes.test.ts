import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { LISTENER_NAME } from '../../src/live/notifications.js';
import { spawnServer, type ServerProcess } from '../faults/helpers.js';
import { createTestDatabase, testDatabaseKinds } from '../helpers/databases.js';
import { createApiKey, createGraph, createSession, createUser } from '../helpers/factories.js';
import { liveClient, sleep } from '../helpers/live.js';

/**
 * Two real server processes (`src/main.ts`) on one PostgreSQL database: what one writes reaches the other's
 * subscribers, a key revoked through one is refused by the other at once, the rate limit holds across both, and a
 * process whose listening connection is cut tells its subscribers what they may have missed.
 */
const RUNS = 'subscription { graphExecutionUpdated { kind status graphExecution { id } } }';
const EVENTS = 'subscription($id: ID!, $after: NonNegativeInt) { sessionEventsAppended(sessionId: $id, afterSequence: $after) { sequence } }';
const EXECUTE = 'mutation($id: ID!) { executeGraph(graphId: $id) { graphExecution { id } } }';
const APPEND = 'mutation($id: ID!, $events: [SessionEventInput!]!) { appendSessionEvents(sessionId: $id, events: $events) { events { sequence } } }';

type Update = { graphExecutionUpdated: { kind: string; status: string | null; graphExecution: { id: string } | null } };

async function post(url: string, key: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: Array<{ extensions?: { code?: string } }> };
  return { status: res.status, ...body };
}

describe.runIf(testDatabaseKinds.includes('postgres'))('two server processes on one PostgreSQL', () => {
  let db: Database;
  let url: string;
  let one: ServerProcess;
  let two: ServerProcess;
  let user: { id: string; key: string };
  let graphId: string;
  const clients: Array<{ dispose(): unknown }> = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    url = (db as Extract<Database, { kind: 'postgres' }>).url;
    const created = await createUser(db);
    user = { id: created.user.id, key: created.apiKey };
    graphId = (await createGraph(db, user.id, { name: 'Shared' })).graph.id;
    // Each process enforces half the configured rate: 10 operations in a burst, 60 a minute, for both together.
    const env = { DATABASE_URL: url, RATE_LIMIT_PER_MINUTE: '60', RATE_LIMIT_BURST: '10', RATE_LIMIT_REPLICAS: '2' };
    [one, two] = await Promise.all([spawnServer(env), spawnServer(env)]);
  });
  afterAll(async () => {
    for (const client of clients) await client.dispose();
    for (const server of [one, two]) server?.child.kill('SIGTERM');
    await Promise.all([one?.exited, two?.exited]);
    await db?.close();
  });

  it('a run written through one process reaches a subscriber of the other', async () => {
    const client = liveClient(two.url, user.key);
    clients.push(client);
    const updates = client.subscribe<Update>(RUNS);
    await sleep(300);
    const res = await post(one.url, user.key, EXECUTE, { id: graphId });
    expect(res.errors).toBeUndefined();
    const runId = (res.data!.executeGraph as { graphExecution: { id: string } }).graphExecution.id;
    await updates.waitFor(1);
    expect(updates.data[0]!.graphExecutionUpdated).toEqual({ kind: 'CREATED', status: 'QUEUED', graphExecution: { id: runId } });
    updates.stop();
  });

  it('a key revoked through one process is refused by the other at once, and its subscriptions there end', async () => {
    const { id, key } = await createApiKey(db, user.id, ['READ_GRAPHS', 'WRITE_GRAPHS']);
    // The other process has verified (and cached) the key.
    expect((await post(two.url, key, '{ viewer { id } }')).status).toBe(200);
    const client = liveClient(two.url, key);
    clients.push(client);
    const updates = client.subscribe<Update>(RUNS);
    await sleep(300);
    const revoked = await post(one.url, user.key, 'mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { status } } }', { id });
    expect(revoked.errors).toBeUndefined();
    const started = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - started < 2_000) {
      status = (await post(two.url, key, '{ viewer { id } }')).status;
      if (status === 200) await sleep(20);
    }
    expect(status).toBe(401);
    // Through the notification, not the cache's expiry (5 s): well within a second.
    expect(Date.now() - started).toBeLessThan(1_000);
    await updates.ended(5_000);
    expect(client.closes[0]).toMatchObject({ code: 4401, reason: 'The API key has been revoked.' });
  });

  it('the rate limit holds across both processes (each enforces its share)', async () => {
    const { key } = await createApiKey(db, user.id, ['READ_GRAPHS']);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => post(i % 2 ? one.url : two.url, key, '{ viewer { id } }')));
    const served = answers.filter((a) => a.status === 200).length;
    // The burst of 10 for the service, plus at most a token refilled on each process meanwhile.
    expect(served).toBeGreaterThanOrEqual(10);
    expect(served).toBeLessThanOrEqual(12);
    expect(answers.filter((a) => a.status === 429).length).toBe(30 - served);
  });

  it('a process that lost its listening connection tells run subscribers, and replays session events by sequence', async () => {
    const { key } = await createApiKey(db, user.id, ['READ_GRAPHS', 'READ_SESSIONS', 'WRITE_SESSIONS', 'EXECUTE_GRAPHS']);
    const session = await createSession(db, { userId: user.id });
    const client = liveClient(two.url, key);
    clients.push(client);
    const runs = client.subscribe<Update>(RUNS);
    const events = client.subscribe<{ sessionEventsAppended: { sequence: number } }>(EVENTS, { id: session.id, after: 0 });
    await sleep(300);
    // Cut every listening session (both processes'), then append through the first while they reconnect.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const cut = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [LISTENER_NAME]);
      expect(cut.rowCount).toBe(2);
    } finally {
      await admin.end();
    }
    for (let i = 0; i < 5; i++) expect((await post(one.url, key, APPEND, { id: session.id, events: [{ author: 'a' }, { author: 'b' }] })).errors).toBeUndefined();
    await runs.waitFor(1, 10_000);
    expect(runs.data[0]!.graphExecutionUpdated).toMatchObject({ kind: 'MISSED', status: null, graphExecution: null });
    await events.waitFor(10, 10_000);
    await sleep(300);
    expect(events.data.map((e) => e.sessionEventsAppended.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    runs.stop();
    events.stop();
  });
});
