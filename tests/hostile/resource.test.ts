import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../src/server/app.js';
import { createGraph, createRuns, createSession, createUser } from '../helpers/factories.js';
import { snapshot } from '../helpers/authz.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CaseCounter, codesOf } from './harness.js';

/**
 * Requests that look ordinary but ask for unbounded work (the resource findings): each is refused before it runs,
 * quickly, and changes nothing. Budgets on work already running (deadlines, statement timeouts) are in
 * resource-budgets.test.ts; estimated cost against the work really done in resource-properties.test.ts.
 */
const counter = new CaseCounter('resource');
const FAST_MS = 1_000;

type Raw = { status: number; json: unknown; ms: number };

async function post(url: string, body: unknown, key: string | null): Promise<Raw> {
  const started = performance.now();
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  counter.count++;
  return { status: res.status, json: JSON.parse(text) as unknown, ms: performance.now() - started };
}

const aliases = (count: number, field: string) => Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ');
const STATS_400_DAYS_HOURLY = 'executionStats(filter: { from: "2025-01-01T00:00:00Z", to: "2026-02-05T00:00:00Z" }, bucket: HOUR) { total timeSeries { bucketStart total } }';

describe.each(testDatabaseKinds)('resource limits on %s', (kind) => {
  let server: TestServer;
  let bigGraphId: string;

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    const nodes = Array.from({ length: 500 }, (_, i) => ({ key: `n${i}` }));
    bigGraphId = (await createGraph(server.db, server.userId, { name: 'five hundred nodes', nodes })).graph.id;
  });
  afterAll(async () => {
    counter.report();
    await server?.close();
  });

  const refusedFast = async (body: unknown, code: string, status = 400, key: string | null = server.apiKey) => {
    const before = await snapshot(server.db);
    const res = await post(server.url, body, key);
    expect(codesOf(res.json), JSON.stringify(res.json).slice(0, 300)).toContain(code);
    expect(res.status).toBe(status);
    expect(res.ms).toBeLessThan(FAST_MS);
    expect(await snapshot(server.db)).toEqual(before);
    return res;
  };

  it('1. fan-out through plain lists (Node.graph → Graph.nodes, 500 nodes a level) is refused before it runs', async () => {
    const query = 'query($id: ID!) { graph(id: $id) { nodes { graph { nodes { graph { nodes { id } } } } } } }';
    await refusedFast({ query, variables: { id: bigGraphId } }, 'QUERY_TOO_COMPLEX');
    // One level of the same runs: 500 nodes.
    const one = await post(server.url, { query: 'query($id: ID!) { graph(id: $id) { nodes { id graph { id } } } }', variables: { id: bigGraphId } }, server.apiKey);
    expect((one.json as { data: { graph: { nodes: unknown[] } } }).data.graph.nodes).toHaveLength(500);
  });

  it('1. links are priced per graph, not per node times links (a graph’s nodes share its 2,000 links)', async () => {
    const query = 'query($id: ID!) { graph(id: $id) { nodes { id inputLinks { id sourceName } outputLinks { id } } links { id source { id } sink { id } } } }';
    const res = await post(server.url, { query, variables: { id: bigGraphId } }, server.apiKey);
    expect(codesOf(res.json)).toEqual([]);
  });

  it('2. variable defaults are priced: the same document refused with and without the variable', async () => {
    const query = 'query($n: Int = 100) { graphs(first: $n) { nodes { executions(first: $n) { nodes { nodeExecutions(first: $n) { nodes { id } } } } } } }';
    await refusedFast({ query }, 'QUERY_TOO_COMPLEX');
    await refusedFast({ query, variables: { n: 100 } }, 'QUERY_TOO_COMPLEX');
    const small = await post(server.url, { query, variables: { n: 5 } }, server.apiKey);
    expect(codesOf(small.json)).toEqual([]);
    // An explicit null is not the default (pages of 20 run); it shares no cached analysis with an omitted variable.
    expect(codesOf((await post(server.url, { query, variables: { n: null } }, server.apiKey)).json)).toEqual([]);
    await refusedFast({ query }, 'QUERY_TOO_COMPLEX');
  });

  it('3. statistics are priced by the range they scan: 700 aliases of a 400-day hourly series are refused', async () => {
    // 700 aliases are over 20,000 characters: refused before parsing.
    await refusedFast({ query: `{ ${aliases(700, STATS_400_DAYS_HOURLY)} }` }, 'QUERY_TOO_LONG');
    await refusedFast({ query: `{ ${aliases(100, STATS_400_DAYS_HOURLY)} }` }, 'QUERY_TOO_COMPLEX');
    await refusedFast({ query: `{ ${aliases(10, STATS_400_DAYS_HOURLY)} }` }, 'QUERY_TOO_COMPLEX');
    const one = await post(server.url, { query: `{ ${STATS_400_DAYS_HOURLY} }` }, server.apiKey);
    expect(codesOf(one.json)).toEqual([]);
  });

  it('3. the operations of a batch add up: past the limit the rest are refused, not executed', async () => {
    const heavy = `{ ${aliases(5, STATS_400_DAYS_HOURLY)} }`;
    const before = await snapshot(server.db);
    const res = await post(server.url, Array.from({ length: 10 }, () => ({ query: heavy })), server.apiKey);
    const results = res.json as Array<{ data?: unknown; errors?: Array<{ extensions: { code: string } }> }>;
    expect(results).toHaveLength(10);
    expect(results[0]!.errors).toBeUndefined();
    const refused = results.filter((r) => r.errors?.[0]?.extensions.code === 'QUERY_TOO_COMPLEX');
    expect(refused.length).toBeGreaterThanOrEqual(8);
    expect(res.ms).toBeLessThan(5 * FAST_MS);
    expect(await snapshot(server.db)).toEqual(before);
  });

  it('4. introspection is priced too, and needs a key', async () => {
    const flood = { query: `{ ${aliases(600, '__schema { types { fields { name } } }')} }` };
    await refusedFast(flood, 'UNAUTHENTICATED', 401, null);
    await refusedFast(flood, 'QUERY_TOO_LONG');
    const wide = { query: `{ ${aliases(40, '__schema { types { fields { name args { name type { name } } } } }')} }` };
    await refusedFast(wide, 'QUERY_TOO_COMPLEX');
  });

  it('8. a long unique document is refused before parsing (20,000 characters), a dense one while parsing (5,000 tokens)', async () => {
    const fields = Array.from({ length: 1_100 }, (_, i) => `u${i}: viewer { id }`).join(' ');
    const long = await refusedFast({ query: `{ ${fields} }` }, 'QUERY_TOO_LONG');
    expect(JSON.stringify(long.json)).toContain('at most 20000 characters');
    // One long member refuses the whole batch, before any member is parsed or runs.
    await refusedFast([{ query: '{ viewer { id } }' }, { query: `{ ${fields} }` }], 'QUERY_TOO_LONG');
    const dense = `{ viewer { ${'id '.repeat(5_100)}} }`;
    expect(dense.length).toBeLessThan(20_000);
    const res = await refusedFast({ query: dense }, 'GRAPHQL_PARSE_FAILED');
    expect(JSON.stringify(res.json)).toContain('5000 tokens');
  });

  it('10. a request without credentials is refused like one with bad credentials (401), before execution', async () => {
    const missing = await refusedFast({ query: '{ viewer { id } }' }, 'UNAUTHENTICATED', 401, null);
    const bad = await refusedFast({ query: '{ viewer { id } }' }, 'UNAUTHENTICATED', 401, 'agk_AAAAAAAA_bad');
    expect((missing.json as { data?: unknown }).data ?? null).toBeNull();
    expect((bad.json as { data?: unknown }).data ?? null).toBeNull();
  });

  it('12. an empty operation name is refused on the hot path as Apollo refuses it', async () => {
    const query = 'query Named { viewer { id } }';
    for (let i = 0; i < 3; i++) expect(codesOf((await post(server.url, { query }, server.apiKey)).json)).toEqual([]);
    const res = await post(server.url, { query, operationName: '' }, server.apiKey);
    expect(res.status).toBe(400);
    expect(codesOf(res.json)).toEqual(['OPERATION_RESOLUTION_FAILURE']);
  });
});

describe('rate limits by operation, cost and address', () => {
  const log = pino({ level: 'silent' });
  let server: TestServer;
  let limited: { url: string; stop(): Promise<void>; hotOperations(): number };
  let statements = 0;

  beforeAll(async () => {
    server = await startTestServer({ database: 'pglite' });
    const app = await createServer({
      // The statistics folder runs only when a test asks (as in startTestServer): nothing in the background here.
      statsFoldIntervalMs: 24 * 3_600_000,
      db: server.db,
      log,
      apiKeyCacheMs: 0,
      compileAfterUses: 2,
      rateLimitDelayMs: 200,
      rateLimit: { perMinute: 60, burst: 5, costPerMinute: 60_000, costBurst: 300_000, authFailuresPerMinute: 60, authFailuresBurst: 10 },
    });
    const { url } = await app.listen(0, '127.0.0.1');
    limited = { url, stop: () => app.stop(), hotOperations: () => app.hotOperationStats().operations };
    server.db.onQuery(() => statements++);
  });
  afterAll(async () => {
    await limited?.stop();
    await server?.close();
  });

  it('a batch of 10 operations takes 10 operation tokens', async () => {
    const { apiKey } = await createUser(server.db);
    const res = await post(limited.url, Array.from({ length: 10 }, () => ({ query: '{ viewer { id } }' })), apiKey);
    const codes = (res.json as Array<{ errors?: Array<{ extensions: { code: string } }> }>).map((r) => r.errors?.[0]?.extensions.code ?? 'ok');
    expect(codes.filter((c) => c === 'ok')).toHaveLength(5);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(5);
  });

  it('expensive operations run out of cost before they run out of operations', async () => {
    const { apiKey } = await createUser(server.db);
    const heavy = { query: `{ ${aliases(5, STATS_400_DAYS_HOURLY)} }` };
    const first = await post(limited.url, heavy, apiKey);
    expect(codesOf(first.json)).toEqual([]);
    let refusedAt = 0;
    for (let i = 2; i <= 5 && !refusedAt; i++) if (codesOf((await post(limited.url, heavy, apiKey)).json).includes('RATE_LIMITED')) refusedAt = i;
    expect(refusedAt).toBeGreaterThan(1);
    expect(refusedAt).toBeLessThanOrEqual(3);
    // Cheap operations of the same key still have operation tokens but no cost left only while the cost refills.
    const cheap = await post(limited.url, { query: '{ viewer { id } }' }, apiKey);
    expect(codesOf(cheap.json)).toEqual([]);
  });

  it('documents that fail to parse or validate are charged like refused operations, then refused before parsing', async () => {
    const { apiKey } = await createUser(server.db);
    const codes: Array<string | undefined> = [];
    for (let i = 0; i < 4; i++) codes.push(...codesOf((await post(limited.url, { query: `{ viewer { id ${i}` }, apiKey)).json));
    for (let i = 0; i < 4; i++) codes.push(...codesOf((await post(limited.url, { query: `{ viewer { nope${i} } }` }, apiKey)).json));
    // 5 operations of burst: the sixth document is refused without being read.
    expect(codes.slice(0, 4)).toEqual(Array(4).fill('GRAPHQL_PARSE_FAILED'));
    expect(codes[4]).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(codes.slice(5)).toEqual(Array(3).fill('RATE_LIMITED'));
  });

  it('over-long documents are charged like refused operations too, then refused before they are read', async () => {
    const { apiKey } = await createUser(server.db);
    const long = `{ ${Array.from({ length: 1_100 }, (_, i) => `u${i}: viewer { id }`).join(' ')} }`;
    const codes: Array<string | undefined> = [];
    for (let i = 0; i < 7; i++) codes.push(...codesOf((await post(limited.url, { query: long }, apiKey)).json));
    expect(codes.slice(0, 5)).toEqual(Array(5).fill('QUERY_TOO_LONG'));
    expect(codes.slice(5)).toEqual(Array(2).fill('RATE_LIMITED'));
  });

  it('an answer over 16 MB is replaced by RESPONSE_TOO_LARGE, on the fast path and through Express', async () => {
    const { user, apiKey } = await createUser(server.db);
    const { graph } = await createGraph(server.db, user.id, { name: 'big answers' });
    const blob = { text: 'x'.repeat(180_000) };
    await createRuns(server.db, Array.from({ length: 100 }, () => ({ graphId: graph.id, version: graph.version, userId: user.id, inputs: blob })));
    const query = '{ graphExecutions(first: 100) { nodes { id inputs } } }';
    for (let i = 0; i < 2; i++) {
      const res = await post(server.url, { query }, apiKey);
      expect(res.status).toBe(400);
      expect(codesOf(res.json)).toEqual(['RESPONSE_TOO_LARGE']);
    }
    const viaGet = await fetch(`${server.url}/graphql?query=${encodeURIComponent(query)}`, { headers: { authorization: `Bearer ${apiKey}`, 'apollo-require-preflight': 'true' } });
    expect(viaGet.status).toBe(400);
    expect(codesOf(await viaGet.json())).toEqual(['RESPONSE_TOO_LARGE']);
    const smaller = await post(server.url, { query: '{ graphExecutions(first: 50) { nodes { id inputs } } }' }, apiKey);
    expect(codesOf(smaller.json)).toEqual([]);
  });

  it('compiling a document is charged to the key by its length (~20 µs of the event loop a character)', async () => {
    const app = await createServer({
      // The statistics folder runs only when a test asks (as in startTestServer): nothing in the background here.
      statsFoldIntervalMs: 24 * 3_600_000,
      db: server.db,
      log,
      apiKeyCacheMs: 0,
      compileAfterUses: 2,
      rateLimitDelayMs: 50,
      rateLimit: { perMinute: 6_000, burst: 100, costPerMinute: 60_000, costBurst: 100_000 },
    });
    try {
      const url = (await app.listen(0, '127.0.0.1')).url;
      const { apiKey } = await createUser(server.db);
      // Just under 5,000 characters: compiled on its third use, for 20 a character (~98,000 of the key's 100,000).
      const query = `{ ${Array.from({ length: 99 }, (_, i) => `an_alias_long_enough_to_matter_${String(i).padStart(3, '0')}: viewer { id }`).join(' ')} }`;
      expect(query.length).toBeGreaterThan(4_900);
      expect(query.length).toBeLessThan(5_000);
      const codes: Array<Array<string | undefined>> = [];
      for (let i = 0; i < 4; i++) codes.push(codesOf((await post(url, { query }, apiKey)).json));
      expect(app.hotOperationStats().operations).toBe(1);
      expect(codes).toEqual([[], [], [], ['RATE_LIMITED']]);
    } finally {
      await app.stop();
    }
  });

  it('a long one-off document is never compiled (compiling blocks the event loop), however often it is sent', async () => {
    const { apiKey } = await createUser(server.db);
    // Under the token and length limits, over the length compiled documents may have (5,000): long alias names.
    const query = `{ ${Array.from({ length: 200 }, (_, i) => `a_long_alias_name_that_makes_the_text_long_${i}: viewer { id }`).join(' ')} }`;
    expect(query.length).toBeGreaterThan(10_000);
    expect(query.length).toBeLessThan(20_000);
    const hotBefore = limited.hotOperations();
    for (let i = 0; i < 4; i++) {
      const res = await post(limited.url, { query }, apiKey);
      expect(codesOf(res.json)).toEqual([]);
      expect(res.ms).toBeLessThan(2 * FAST_MS);
    }
    expect(limited.hotOperations()).toBe(hotBefore);
  });

  it('made-up keys: one lookup per unknown prefix, and an address that keeps failing is refused without a lookup', async () => {
    const before = statements;
    for (let i = 0; i < 5; i++) expect((await post(limited.url, { query: '{ viewer { id } }' }, `agk_ZZZZZZZZ_${'s'.repeat(42)}${i}`)).status).toBe(401);
    expect(statements - before).toBe(1);
    const codes: number[] = [];
    for (let i = 0; i < 10; i++) codes.push((await post(limited.url, { query: '{ viewer { id } }' }, `agk_Y${String(i).padStart(7, '0')}_${'s'.repeat(43)}`)).status);
    expect(codes).toContain(429);
    const afterRefusals = statements;
    const refused = await post(limited.url, { query: '{ viewer { id } }' }, `agk_XXXXXXXX_${'s'.repeat(43)}`);
    expect(refused.status).toBe(429);
    expect(codesOf(refused.json)).toEqual(['RATE_LIMITED']);
    expect(refused.ms).toBeGreaterThanOrEqual(190); // answered after the tarpit's pause
    expect(statements).toBe(afterRefusals);
  });
});

describe('appends are charged by the session state they rewrite', () => {
  let server: TestServer;
  let limited: { url: string; stop(): Promise<void> };

  beforeAll(async () => {
    server = await startTestServer({ database: 'pglite' });
    const app = await createServer({
      // The statistics folder runs only when a test asks (as in startTestServer): nothing in the background here.
      statsFoldIntervalMs: 24 * 3_600_000,
      db: server.db,
      log: pino({ level: 'silent' }),
      apiKeyCacheMs: 0,
      rateLimitDelayMs: 0,
      rateLimit: { perMinute: 10_000, burst: 1_000, costPerMinute: 60_000, costBurst: 300_000 },
    });
    const { url } = await app.listen(0, '127.0.0.1');
    limited = { url, stop: () => app.stop() };
  });
  afterAll(async () => {
    await limited?.stop();
    await server?.close();
  });

  const APPEND = 'mutation($id: ID!, $e: [SessionEventInput!]!) { appendSessionEvents(sessionId: $id, events: $e) { session { id } } }';
  /** Appends one small state delta at a time until the key is refused; how many went through (at most `max`). */
  async function appendsUntilRefused(apiKey: string, sessionId: string, max: number): Promise<{ appended: number; codes: Array<string | undefined> }> {
    for (let i = 0; i < max; i++) {
      const res = await post(limited.url, { query: APPEND, variables: { id: sessionId, e: [{ author: 'a', actions: { stateDelta: { [`k${i}`]: i } } }] } }, apiKey);
      const codes = codesOf(res.json);
      if (codes.length > 0) return { appended: i, codes };
    }
    return { appended: max, codes: [] };
  }

  it('a key appending to a state near 1 MiB runs out of cost after a few appends; one with a small state does not', async () => {
    const big = await createUser(server.db);
    const bigSession = await createSession(server.db, { userId: big.user.id, state: { filler: 'x'.repeat(1_000_000) } });
    const refused = await appendsUntilRefused(big.apiKey, bigSession.id, 20);
    // ~73,300 units per append of a 1 MB state against a burst of 300,000: the fifth request finds the key spent.
    expect(refused.codes).toEqual(['RATE_LIMITED']);
    expect(refused.appended).toBeGreaterThanOrEqual(3);
    expect(refused.appended).toBeLessThanOrEqual(5);
    const rows = await server.db.prisma.sessionEvent.count({ where: { sessionId: bigSession.id } });
    expect(rows).toBe(refused.appended);

    const small = await createUser(server.db);
    const smallSession = await createSession(server.db, { userId: small.user.id, state: { note: 'small' } });
    expect(await appendsUntilRefused(small.apiKey, smallSession.id, 20)).toEqual({ appended: 20, codes: [] });
  });
});
