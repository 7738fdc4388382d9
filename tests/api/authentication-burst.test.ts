import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { createServer, type AppServer } from '../../src/server/app.js';
import { createTestDatabase, testDatabaseKinds } from '../helpers/databases.js';
import { createUser } from '../helpers/factories.js';

const isKeyLookup = (query: string) => query.includes('FROM api_keys k');
const isUseWrite = (query: string) => query.includes('UPDATE api_keys');

/**
 * A burst of clients at once (new keys, random keys) is authenticated with a few statements, not one per request: the
 * key lookups and the `lastUsedAt` writes coalesce (auth/api-key-access.ts). On PostgreSQL requests that arrive while
 * a lookup is out join the next one; PGlite answers within the same turn of the event loop, so there each request
 * may have its own, and only the answers are checked.
 */
describe.each(testDatabaseKinds)('authentication under a burst on %s', (kind) => {
  let db: Database;
  let server: AppServer;
  let url: string;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    server = await createServer({ db, log: pino({ level: 'silent' }), apiKeyCacheMs: 60_000 });
    url = `${(await server.listen(0, '127.0.0.1')).url}/graphql`;
  });
  afterAll(async () => {
    await server?.stop();
    await db?.close();
  });

  const viewerOf = (key: string) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query: '{ viewer { id } }' }) });

  it('answers 20 new keys and 20 random ones at once, each correctly, and records every use', async () => {
    const users = await Promise.all(Array.from({ length: 20 }, () => createUser(db)));
    const random = Array.from({ length: 20 }, (_, i) => `agk_RANDOM${String(i).padStart(2, '0')}_${'A'.repeat(43)}`);
    const statements: string[] = [];
    const stop = db.onQuery((e) => statements.push(e.query));
    // On PostgreSQL the keys table is locked by another session while the burst arrives, as a busy database would
    // hold the first lookup: every request arrives while it is out.
    const locker = db.kind === 'postgres' ? new pg.Client({ connectionString: db.url }) : null;
    if (locker) {
      await locker.connect();
      await locker.query('BEGIN; LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE');
    }
    const burst = Promise.all([...users.map(({ apiKey }) => viewerOf(apiKey)), ...random.map(viewerOf)]);
    if (locker) {
      await new Promise((r) => setTimeout(r, 500));
      await locker.query('COMMIT');
      await locker.end();
    }
    const answers = await burst;
    expect(answers.map((res) => res.status)).toEqual([...Array(20).fill(200), ...Array(20).fill(401)]);
    const viewers = await Promise.all(answers.slice(0, 20).map(async (res) => ((await res.json()) as { data: { viewer: { id: string } } }).data.viewer.id));
    expect(viewers).toEqual(users.map(({ user }) => user.id));

    // Every key's use is written, in the background.
    const ids = users.map(({ user }) => user.id);
    const used = () => db.prisma.apiKey.count({ where: { userId: { in: ids }, lastUsedAt: { not: null } } });
    for (let i = 0; i < 100 && (await used()) < 20; i++) await new Promise((r) => setTimeout(r, 20));
    stop();
    expect(await used()).toBe(20);
    expect(statements.filter(isKeyLookup).length).toBeGreaterThanOrEqual(1);
    expect(statements.filter(isUseWrite).length).toBeGreaterThanOrEqual(1);
    if (kind === 'postgres') {
      // 40 lookups and 20 writes without coalescing; one statement out at a time, each carrying what arrived meanwhile.
      expect(statements.filter(isKeyLookup).length).toBeLessThanOrEqual(3);
      expect(statements.filter(isUseWrite).length).toBeLessThanOrEqual(3);
    }
  });
});
