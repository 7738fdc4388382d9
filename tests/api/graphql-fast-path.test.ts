/**
 * The GraphQL endpoint's fast path (POST /graphql with a JSON body, on node:http) against the Express path, which
 * keeps the complete behaviour: the same request sent to `/graphql` (fast path) and to `/graphql?via=express` (a
 * query string sends it through Express) must get the same status, body and headers, for answers and refusals
 * alike. The HTTP layer does not depend on the database: PGlite only.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { createServer, type AppServer } from '../../src/server/app.js';
import { REQUEST_LIMITS } from '../../src/server/limits.js';
import { takesFastPath } from '../../src/server/graphql-fast-path.js';
import { createTestDatabase } from '../helpers/databases.js';
import { createUser } from '../helpers/factories.js';

const COMPARED_HEADERS = [
  'content-type',
  'x-content-type-options',
  'referrer-policy',
  'x-frame-options',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'content-security-policy',
  'access-control-allow-origin',
  'vary',
  'retry-after',
];

type Sent = { status: number; headers: Record<string, string | null>; body: string };

describe('GraphQL fast path', () => {
  let db: Database;
  let server: AppServer;
  let url: string;
  let apiKey: string;

  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    ({ apiKey } = await createUser(db));
    server = await createServer({ db, log: pino({ level: 'silent' }), apiKeyCacheMs: 0, compileAfterUses: 0, corsOrigins: ['https://dash.example'] });
    url = (await server.listen(0, '127.0.0.1')).url;
  });
  afterAll(async () => {
    await server?.stop();
    await db?.close();
  });

  const send = async (path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Sent> => {
    const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return {
      status: response.status,
      headers: Object.fromEntries(COMPARED_HEADERS.map((name) => [name, response.headers.get(name)])),
      body: await response.text(),
    };
  };

  const bothWays = async (body: string | Buffer, headers: Record<string, string> = {}) => {
    const fast = await send('/graphql', body, headers);
    const express = await send('/graphql?via=express', body, headers);
    expect(fast).toEqual(express);
    return fast;
  };

  const auth = () => ({ authorization: `Bearer ${apiKey}` });
  const query = (q: string, variables?: unknown) => JSON.stringify({ query: q, variables });

  it('answers queries, mutations and batches as Express does', async () => {
    expect((await bothWays(query('{ viewer { id email permissions } }'), auth())).status).toBe(200);
    const created = await bothWays(query('mutation { createApiKey(name: "fast", permissions: [READ_GRAPHS]) { apiKey { name permissions } } }'), auth());
    expect(created.body).toContain('"name":"fast"');
    const batch = await bothWays(JSON.stringify([{ query: '{ viewer { id } }' }, { query: '{ graphs(first: 1) { totalCount } }' }]), auth());
    expect(JSON.parse(batch.body)).toHaveLength(2);
    // With a charset, a BOM and surrounding white space.
    await bothWays(`\ufeff  ${query('{ viewer { id } }')}\n`, { ...auth(), 'content-type': 'application/json; charset=UTF-8' });
  });

  it('answers errors with the same codes and statuses', async () => {
    const cases: Array<[string, Record<string, string>, number]> = [
      [query('{ viewer { id } }'), {}, 401], // anonymous: refused like a bad key, before execution
      [query('{ viewer { id } }'), { authorization: 'Bearer agk_nope_nope' }, 401],
      [query('query($id: ID!) { graph(id: $id) { id } }', { id: 5.5 }), auth(), 400],
      [query('{ graph(id: "00000000-0000-4000-8000-000000000000") { id } }'), auth(), 200],
      [query('{ nope }'), auth(), 400],
      ['{"variables":{}}', auth(), 400],
      ['{"query":', auth(), 400],
      ['"{ viewer { id } }"', auth(), 400],
      ['[]', auth(), 400],
      [JSON.stringify(Array.from({ length: REQUEST_LIMITS.maxBatch + 1 }, () => ({ query: '{ viewer { id } }' }))), auth(), 400],
    ];
    for (const [body, headers, status] of cases) expect((await bothWays(body, headers)).status, body).toBe(status);
    const invalidUtf8 = Buffer.concat([Buffer.from('{"query":"{ viewer { id } }","variables":{"x":"'), Buffer.from([0xc0, 0x80]), Buffer.from('"}}')]);
    const refused = await bothWays(invalidUtf8, auth());
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('not valid UTF-8');
  });

  it('gives allowed origins their CORS headers, and others none', async () => {
    const allowed = await bothWays(query('{ viewer { id } }'), { ...auth(), origin: 'https://dash.example' });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://dash.example');
    const other = await bothWays(query('{ viewer { id } }'), { ...auth(), origin: 'https://evil.example' });
    expect(other.headers['access-control-allow-origin']).toBeNull();
  });

  it('takes only plain JSON POSTs of a stated length to /graphql; Express gets everything else', () => {
    const post = (headers: Record<string, string>, url = '/graphql', method = 'POST') => takesFastPath({ method, url, headers }, 1000);
    const json = { 'content-type': 'application/json', 'content-length': '20' };
    expect(post(json)).toBe(true);
    expect(post({ ...json, 'content-type': 'application/json; charset=utf-8' })).toBe(true);
    expect(post({ ...json, 'content-encoding': 'identity' })).toBe(true);
    expect(post(json, '/graphql?x=1')).toBe(false);
    expect(post(json, '/graphql/')).toBe(false);
    expect(post(json, '/graphql', 'GET')).toBe(false);
    expect(post({ ...json, 'content-type': 'application/json; charset=koi8-r' })).toBe(false);
    expect(post({ ...json, 'content-type': 'text/plain' })).toBe(false);
    expect(post({ ...json, 'content-encoding': 'gzip' })).toBe(false);
    expect(post({ ...json, 'content-length': '0' })).toBe(false);
    expect(post({ ...json, 'content-length': '1001' })).toBe(false);
    expect(post({ 'content-type': 'application/json', 'transfer-encoding': 'chunked' })).toBe(false);
  });
});
