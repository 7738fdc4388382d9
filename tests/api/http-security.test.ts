import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type AppServer } from '../../src/server/app.js';
import { createTestDatabase } from '../helpers/databases.js';
import { createUser } from '../helpers/factories.js';
import type { Database } from '../../src/db/database.js';

/** The statement that reads API keys by prefix (authentication), not the `lastUsedAt` write. */
const isKeyLookup = (query: string) => query.includes('FROM api_keys k');

/** Server options that only matter over HTTP: CORS, security headers, rate limits, switches, log hygiene. */
describe('HTTP hardening', () => {
  let db: Database;
  let apiKey: string;
  const servers: AppServer[] = [];
  const logLines: string[] = [];

  const start = async (options: Partial<Parameters<typeof createServer>[0]> = {}) => {
    const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
    const server = await createServer({ db, log, ...options });
    servers.push(server);
    return (await server.listen(0, '127.0.0.1')).url;
  };
  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    apiKey = (await createUser(db)).apiKey;
  });
  afterAll(async () => {
    for (const server of servers) await server.stop();
    await db?.close();
  });

  it('sets security headers on the API and a same-origin policy on the playground', async () => {
    const url = await start();
    const api = await post(url, { query: '{ __typename }' });
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    expect(api.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(api.headers.get('x-powered-by')).toBeNull();
    const page = await fetch(`${url}/graphiql`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('answers CORS preflights only for configured origins', async () => {
    const url = await start({ corsOrigins: ['https://dash.example.com'] });
    const preflight = (origin: string) =>
      fetch(`${url}/graphql`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    const allowed = await preflight('https://dash.example.com');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    const other = await preflight('https://evil.example.com');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('limits requests per API key with RATE_LIMITED and Retry-After', async () => {
    const url = await start({ rateLimit: { perMinute: 60, burst: 3 } });
    const statuses: number[] = [];
    let limited: Response | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await post(url, { query: '{ viewer { id } }' }, { authorization: `Bearer ${apiKey}` });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(limited).not.toBeNull();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await limited!.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]!.extensions.code).toBe('RATE_LIMITED');
  });

  it('trusts a verified key for a few seconds, but forgets it at once when it is revoked here', async () => {
    const url = await start({ apiKeyCacheMs: 60_000 });
    const { apiKey: key } = await createUser(db);
    const statements: string[] = [];
    const stop = db.onQuery((e) => statements.push(e.query));
    await post(url, { query: '{ viewer { id } }' }, { authorization: `Bearer ${key}` });
    const afterFirst = statements.filter((q) => isKeyLookup(q)).length;
    await post(url, { query: '{ viewer { id } }' }, { authorization: `Bearer ${key}` });
    stop();
    expect(afterFirst).toBe(1);
    expect(statements.filter((q) => isKeyLookup(q)).length).toBe(1);

    const listed = await post(url, { query: '{ viewer { apiKeys { nodes { id } } } }' }, { authorization: `Bearer ${key}` });
    const id = ((await listed.json()) as { data: { viewer: { apiKeys: { nodes: Array<{ id: string }> } } } }).data.viewer.apiKeys.nodes[0]!.id;
    await post(url, { query: 'mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { status } } }', variables: { id } }, { authorization: `Bearer ${key}` });
    const after = await post(url, { query: '{ viewer { id } }' }, { authorization: `Bearer ${key}` });
    expect(after.status).toBe(401);
  });

  it('slows down a key whose documents keep being refused, after a few, before they are read', async () => {
    const url = await start({ rateLimit: { perMinute: 6_000, burst: 1_000, costPerMinute: 1_500_000, costBurst: 250_000, refusalsPerMinute: 60, refusalsBurst: 3 } });
    const { apiKey: key } = await createUser(db);
    const codes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await post(url, { query: `{ viewer { nope${i} } }` }, { authorization: `Bearer ${key}` });
      codes.push(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code);
    }
    // (A 429 is answered after a second: by then one refusal has come back.)
    expect(codes).toEqual(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'RATE_LIMITED']);
    // Another key is not affected, and the refused key's limit refills (one a second).
    expect((await post(url, { query: '{ viewer { id } }' }, { authorization: `Bearer ${apiKey}` })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await post(url, { query: '{ viewer { id } }' }, { authorization: `Bearer ${key}` })).status).toBe(200);
  });

  it('reads a key again once its time in the cache is up, however often it is used meanwhile', async () => {
    const url = await start({ apiKeyCacheMs: 400 });
    const { apiKey: key } = await createUser(db);
    const statements: string[] = [];
    const stop = db.onQuery((e) => statements.push(e.query));
    const started = Date.now();
    // Used every 100 ms for over a second: a hit must not push the entry's expiry out.
    while (Date.now() - started < 1_100) {
      expect((await post(url, { query: '{ viewer { id } }' }, { authorization: `Bearer ${key}` })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
    }
    stop();
    expect(statements.filter((q) => isKeyLookup(q)).length).toBeGreaterThanOrEqual(2);
  });

  it('can switch introspection and the playground off', async () => {
    const url = await start({ introspection: false, playground: false });
    const res = await post(url, { query: '{ __schema { types { name } } }' }, { authorization: `Bearer ${apiKey}` });
    const body = (await res.json()) as { errors?: Array<{ message: string }> };
    expect(body.errors?.[0]?.message).toMatch(/introspection/i);
    expect((await fetch(`${url}/graphiql`)).status).toBe(404);
  });

  it('never writes an API key to the logs, even for failed requests', async () => {
    const url = await start();
    await post(url, { query: '{ viewer { id } }' }, { authorization: `Bearer ${apiKey}` });
    await post(url, { query: '{ viewer { id } }' }, { authorization: `Bearer ${apiKey.slice(0, -2)}xx` });
    await post(url, { query: '{ nope }' }, { authorization: `Bearer ${apiKey}` });
    // The 43 secret characters after `agk_<8 lookup chars>_` (they may hold `_` themselves).
    const secret = apiKey.slice('agk_12345678_'.length);
    expect(secret).toHaveLength(43);
    await expect.poll(() => logLines.filter((line) => line.includes('"path":"/graphql"')).length).toBeGreaterThanOrEqual(3);
    expect(logLines.join('\n')).not.toContain(secret);
  });
});
