import fc from 'fast-check';
import net from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../src/server/app.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import type { TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';
import { CaseCounter, codesOf, nestedArrayJson, nestedObject, nestedObjectJson, sleep, type HostileClient } from './harness.js';
import { openHostileServer, type HostileWorld } from './world.js';

/**
 * Transport-level abuse: bodies that are not JSON, not UTF-8, too large, oddly shaped batches, malformed and
 * pathological documents, deeply nested JSON variables, and slow clients. Each answers a 4xx or a GraphQL error
 * with a stable code, promptly, without changing the database.
 */

const counter = new CaseCounter('transport');
afterAll(() => counter.report());

const RUNS = (kind: string, postgres: number, pglite: number) => (kind === 'postgres' ? postgres : pglite);

describe.each(testDatabaseKinds)('hostile transport on %s', (kind) => {
  let server: TestServer;
  let world: HostileWorld;
  let c: HostileClient;

  beforeAll(async () => {
    ({ server, world: world, client: c } = await openHostileServer(kind, counter));
  });
  afterAll(() => server?.close());

  it('bodies that are not valid JSON → 400 BAD_REQUEST', async () => {
    const bodies = ['', '{', '}', '{"query": "{ viewer { id } }"', "{'query': 1}", 'null x', '\u0000', '{"query": "\\x"}', '{"a":1,}', 'NaN', '[1,2', '"\\ud800', '{"query":"' + 'x'.repeat(10) + '"}}}'];
    const before = await snapshotDatabase(server.db);
    for (const body of bodies) {
      const res = await c.raw(body);
      c.expectRefusal(res, `body ${JSON.stringify(body)}`);
      expect(res.status).toBe(400);
    }
    expect(await snapshotDatabase(server.db)).toEqual(before);
  });

  it('JSON that is not a GraphQL request → 400 with a code', async () => {
    const bodies: unknown[] = [
      null,
      1,
      'query',
      true,
      {},
      { query: 5 },
      { query: null },
      { query: ['{ viewer { id } }'] },
      { query: { kind: 'Document' } },
      { query: '{ viewer { id } }', variables: 'x' },
      { query: '{ viewer { id } }', variables: [1, 2] },
      { query: '{ viewer { id } }', variables: 5 },
      { query: '{ viewer { id } }', operationName: 5 },
      { query: '{ viewer { id } }', operationName: 'Nope' },
      { query: 'query A { viewer { id } } query B { viewer { id } }' },
      { query: '{ viewer { id } }', extensions: 'x' },
      { query: '{ viewer { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'x'.repeat(64) } } },
      { extensions: { persistedQuery: { version: 1, sha256Hash: 'deadbeef' } } },
      [null],
      [1, 2],
      [{ query: 5 }],
      [[{ query: '{ viewer { id } }' }]],
      ['{ viewer { id } }'],
    ];
    const before = await snapshotDatabase(server.db);
    for (const body of bodies) c.expectRefusal(await c.raw(JSON.stringify(body)), `body ${JSON.stringify(body)}`);
    expect(await snapshotDatabase(server.db)).toEqual(before);
  });

  it('invalid UTF-8 bytes in the raw body are refused, never stored as replacement characters', async () => {
    const template = (bytes: Buffer) =>
      Buffer.concat([
        Buffer.from('{"query":"mutation($n: String!) { createApiKey(name: $n, permissions: [READ_GRAPHS]) { apiKey { id name } } }","variables":{"n":"k'),
        bytes,
        Buffer.from('"}}'),
      ]);
    const invalid: Array<[string, Buffer]> = [
      ['0xFF', Buffer.from([0xff])],
      ['0xC0 0x80 (overlong NUL)', Buffer.from([0xc0, 0x80])],
      ['truncated 3-byte sequence', Buffer.from([0xe2, 0x82])],
      ['UTF-8-encoded surrogate (CESU)', Buffer.from([0xed, 0xa0, 0x80])],
      ['lone continuation byte', Buffer.from([0x80])],
      ['0xF5 (beyond U+10FFFF)', Buffer.from([0xf5, 0x80, 0x80, 0x80])],
    ];
    for (const [label, bytes] of invalid) {
      await c.refusedUnchanged(server.db, `invalid UTF-8 ${label}`, () => c.raw(template(bytes)), ['BAD_REQUEST', 'BAD_USER_INPUT']);
    }
    // Invalid bytes inside the query text itself are refused as well.
    const res = await c.raw(Buffer.concat([Buffer.from('{"query":"{ viewer { id '), Buffer.from([0xff, 0xfe]), Buffer.from(' } }"}')]));
    c.expectRefusal(res, 'invalid UTF-8 in the document');
  });

  it('bodies over 1 MB → 413 PAYLOAD_TOO_LARGE; wrong or missing content types are refused', async () => {
    const big = JSON.stringify({ query: 'mutation($n: String!) { createApiKey(name: $n, permissions: [READ_GRAPHS]) { apiKey { id } } }', variables: { n: 'x'.repeat(1_100_000) } });
    const res = await c.refusedUnchanged(server.db, '1.1 MB body', () => c.raw(big), ['PAYLOAD_TOO_LARGE']);
    expect(res.status).toBe(413);
    const huge = await c.raw(`[${'{"query":"{ viewer { id } }"},'.repeat(40_000)}{}]`);
    c.expectRefusal(huge, '1.1 MB batch');
    expect(huge.status).toBe(413);
    for (const headers of [{ 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'multipart/form-data; boundary=x' }, { 'content-type': '' }]) {
      const r = await c.raw(JSON.stringify({ query: 'mutation { createApiKey(name: "csrf", permissions: [READ_GRAPHS]) { apiKey { id } } }' }), { headers });
      c.expectRefusal(r, `content-type ${headers['content-type']}`);
      expect(r.status).toBeGreaterThanOrEqual(400);
    }
    const gzip = await c.raw(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff]), { headers: { 'content-encoding': 'gzip' } });
    c.expectRefusal(gzip, 'corrupt gzip body');
    const unknownEncoding = await c.raw('{}', { headers: { 'content-encoding': 'br2' } });
    c.expectRefusal(unknownEncoding, 'unknown content-encoding');
    const charset = await c.raw('{"query":"{ viewer { id } }"}', { headers: { 'content-type': 'application/json; charset=koi8-r' } });
    c.expectRefusal(charset, 'unsupported charset');
    expect(await server.db.prisma.apiKey.count({ where: { name: 'csrf' } })).toBe(0);
  });

  it('batches: 0 and 11+ operations → 400 BATCH_TOO_LARGE, none executed; a mixed batch answers each operation on its own', async () => {
    const op = (n: string) => ({ query: `mutation { createApiKey(name: "${n}", permissions: [READ_GRAPHS]) { apiKey { id } } }` });
    for (const size of [0, 11, 100, 5000]) {
      const res = await c.refusedUnchanged(server.db, `batch of ${size}`, () => c.raw(JSON.stringify(Array.from({ length: size }, (_, i) => op(`batch-${size}-${i}`)))));
      expect(res.status, `batch of ${size}`).toBe(400);
    }
    const mixed = await c.raw(JSON.stringify([{ query: '{ viewer { id } }' }, { query: '{ viewer { nope } }' }, { query: '{' }, { query: '{ graph(id: "x") { id } }' }]));
    expect(mixed.status).toBeLessThan(500);
    expect(Array.isArray(mixed.json), mixed.text).toBe(true);
    const answers = mixed.json as Array<{ data?: unknown; errors?: Array<{ extensions?: { code?: string } }> }>;
    expect(answers).toHaveLength(4);
    expect(answers[0]?.errors).toBeUndefined();
    expect(codesOf(answers[1])).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(codesOf(answers[2])).toEqual(['GRAPHQL_PARSE_FAILED']);
    counter.count += 1;
  });

  it('malformed and pathological documents → GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED / limits, promptly', async () => {
    const docs = [
      '{',
      '}',
      '{ viewer { id }',
      'query { viewer { id } } }',
      'mutation',
      'subscription { viewer { id } }',
      '{ viewer { nope } }',
      '{ viewer { id(x: 1) } }',
      '{ viewer { id { id } } }',
      '{ viewer }',
      '{ graphs }',
      '{ __typename @skip }',
      '{ viewer @nope { id } }',
      '{ viewer { ...F } }',
      'fragment F on User { id } { viewer { ...F ...F } } fragment F on User { id }',
      'query { viewer { ...A } } fragment A on User { ...B } fragment B on User { ...A }',
      'query($x: Int, $x: Int) { viewer { id } }',
      'query($x: Nope) { viewer { id } }',
      'query($x: Int!) { viewer { id } }',
      '{ graph(id: 1) { id } }',
      '{ graph(id: "x", id: "y") { id } }',
      '{ graphs(first: "10") { totalCount } }',
      '{ graphs(first: 2147483648) { totalCount } }',
      '{ graphs(first: 1e20) { totalCount } }',
      '{ graphs(first: 1.5) { totalCount } }',
      '{ graphs(orderBy: { field: NOPE }) { totalCount } }',
      '{ graphs(filter: { nope: 1 }) { totalCount } }',
      '"\\u0000"',
      `{ ${'viewer { id } '.repeat(5_000)} }`,
      `query ${'@skip(if: true) '.repeat(2_000)}{ viewer { id } }`,
      `{ viewer { id ${'@include(if: true) '.repeat(2_000)} } }`,
      `${'{ viewer '.repeat(5_000)}${'}'.repeat(5_000)}`,
      `{ graphs { nodes { ${'nodes { '.repeat(2_000)}id${' }'.repeat(2_000)} } } }`,
      `{ ${'graphs(first: 100) { nodes { versions(first: 100) { nodes { '.repeat(6)}id${' } } } }'.repeat(6)} }`,
      `query { graph(id: ${'['.repeat(10_000)}"x"${']'.repeat(10_000)}) { id } }`,
      `{ graph(id: "${'x'.repeat(200_000)}") { id } }`,
    ];
    // Legitimate, if odd, documents are answered.
    for (const doc of ['{ viewer { id } } # \u0000', '{ viewer { a: id } }', `{ viewer { ${Array.from({ length: 1_500 }, (_, i) => `a${i}: id`).join(' ')} } }`]) {
      expect(c.expectAnswered(await c.op(doc), `document ${doc.slice(0, 80)}`)).toBe('ok');
    }
    for (const doc of docs) {
      const res = await c.op(doc);
      c.expectRefusal(res, `document ${doc.slice(0, 80)}`);
      expect(res.ms, `document ${doc.slice(0, 80)} took ${res.ms} ms`).toBeLessThan(5_000);
    }
  });

  it('random documents (fast-check) are refused or answered, never with a server error', async () => {
    const tokens = fc.constantFrom('{', '}', '(', ')', '[', ']', ':', '$', '...', '@', '!', '=', '"', 'query', 'mutation', 'fragment', 'on', 'viewer', 'graphs', 'graph', 'id', 'nodes', 'first', '1', '-1', '2147483648', 'null', 'true', '#', '\n', ' ', '\u0000', '\ud800', 'é', '"\\u0000"', '"\\ud800"');
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.array(tokens, { maxLength: 60 }).map((t) => t.join(' ')), fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 })), async (doc) => {
        const res = await c.op(doc);
        c.expectAnswered(res, `document ${JSON.stringify(doc)}`);
      }),
      { numRuns: RUNS(kind, 300, 150) },
    );
  });

  it('10,000 levels of nesting in JSON / JSONObject variables are refused (or stored intact), never a crash', async () => {
    const deep = nestedObjectJson(10_000);
    const deepArray = nestedArrayJson(10_000);
    const cases: Array<[string, string, (json: string) => string]> = [
      ['createSession.metadata', 'mutation($v: JSONObject) { createSession(input: { appName: "deep", metadata: $v }) { session { id } } }', (v) => v],
      ['createSession.state', 'mutation($v: JSONObject) { createSession(input: { appName: "deep", state: $v }) { session { id } } }', (v) => v],
      ['appendSessionEvents.content', `mutation($v: JSON) { appendSessionEvents(sessionId: "${world.sessions.A}", events: [{ author: "a", content: $v }]) { session { id } } }`, (v) => v],
      ['appendSessionEvents.actions', `mutation($v: JSONObject) { appendSessionEvents(sessionId: "${world.sessions.A}", events: [{ author: "a", actions: $v }]) { session { id } } }`, (v) => v],
      ['sessions.metadataContains', 'query($v: JSONObject) { sessions(filter: { metadataContains: $v }) { totalCount } }', (v) => v],
      ['executeGraph.inputs', `mutation($v: JSONObject) { executeGraph(graphId: "${world.A.graphId}", inputs: $v) { graphExecution { id } } }`, (v) => v],
      ['updateGraphExecution.outputs', `mutation($v: JSON) { updateGraphExecution(id: "${world.A.runId}", status: RUNNING, outputs: $v) { graphExecution { id } } }`, (v) => v],
      ['updateNodeExecution.stats', `mutation($v: JSONObject) { updateNodeExecution(id: "${world.A.nodeExecutionIds[0]}", status: QUEUED, stats: $v) { nodeExecution { id } } }`, (v) => v],
      ['createGraph node metadata', 'mutation($v: JSONObject) { createGraph(input: { name: "deep", nodes: [{ key: "a", blockId: "b", metadata: $v }] }) { graph { id } } }', (v) => v],
    ];
    for (const [label, query] of cases) {
      for (const [shape, value] of [
        ['object', deep],
        ['array under a key', `{"k":${deepArray}}`],
        ['array', deepArray],
      ] as const) {
        const body = `{"query":${JSON.stringify(query)},"variables":{"v":${value}}}`;
        await c.refusedUnchanged(server.db, `${label} nested 10,000 (${shape})`, () => c.raw(body));
      }
    }
    // 33 levels is over the documented bound of 32 everywhere JSON is stored.
    await c.refusedUnchanged(server.db, 'createSession.metadata nested 40', () => c.op('mutation($v: JSONObject) { createSession(input: { appName: "deep", metadata: $v }) { session { id } } }', { v: nestedObject(40) }));
  });

  it('a client sending its body one byte per second does not hold the server; a timeout ends it', async () => {
    const { port } = new URL(server.url);
    const body = JSON.stringify({ query: '{ viewer { id } }' });
    const slowSockets: net.Socket[] = [];
    const closed: boolean[] = [];
    for (let i = 0; i < 50; i++) {
      const socket = net.connect(Number(port), '127.0.0.1');
      socket.on('error', () => {});
      socket.on('close', () => (closed[i] = true));
      socket.write(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer ${server.apiKey}\r\nContent-Length: ${body.length}\r\n\r\n`);
      slowSockets.push(socket);
    }
    // A slowloris on the headers too.
    const slowHeaders = net.connect(Number(port), '127.0.0.1');
    slowHeaders.on('error', () => {});
    slowHeaders.write('POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const latencies: number[] = [];
    for (let second = 0; second < 5; second++) {
      for (const socket of slowSockets) socket.write(body[second]!);
      slowHeaders.write('X-Slow: 1\r\n');
      const res = await c.op('{ viewer { id } }');
      latencies.push(res.ms);
      expect(res.status).toBe(200);
      await sleep(1_000);
    }
    counter.count += 1;
    expect(Math.max(...latencies), `normal requests took ${latencies.join(', ')} ms while 51 slow clients were connected`).toBeLessThan(1_000);
    expect(closed.filter(Boolean)).toHaveLength(0); // still held open by their senders: the timeout below ends them
    for (const socket of [...slowSockets, slowHeaders]) socket.destroy();

    // What ends a slow client: Node's per-request timers on the server the app creates.
    const { requestTimeout, headersTimeout, timeout, keepAliveTimeout } = await inspectServerTimeouts();
    console.log(`[hostile] slow clients are ended by http.Server timeouts: requestTimeout=${requestTimeout} ms, headersTimeout=${headersTimeout} ms, socket timeout=${timeout} ms, keepAliveTimeout=${keepAliveTimeout} ms`);
    expect(requestTimeout, 'a request timeout must exist').toBeGreaterThan(0);
    expect(requestTimeout, 'a request (body included) must not be allowed more than 60 s').toBeLessThanOrEqual(60_000);
    expect(headersTimeout).toBeGreaterThan(0);
    expect(headersTimeout).toBeLessThanOrEqual(requestTimeout);
  });
});

/** The timeouts of the http.Server `createServer` builds (the same settings the production server runs with). */
async function inspectServerTimeouts() {
  const { createTestDatabase } = await import('../helpers/databases.js');
  const db = await createTestDatabase('pglite');
  try {
    const app = await createServer({ db, log: pino({ level: 'silent' }) });
    await app.listen(0, '127.0.0.1');
    const { requestTimeout, headersTimeout, timeout, keepAliveTimeout } = app.httpServer;
    await app.stop();
    return { requestTimeout, headersTimeout, timeout, keepAliveTimeout };
  } finally {
    await db.close();
  }
}
