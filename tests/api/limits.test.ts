import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import type { Prisma } from '../../src/generated/prisma/client.js';
import { createServer } from '../../src/server/app.js';
import { createOwned, snapshot } from '../helpers/authz.js';
import { createTestDatabase, testDatabaseKinds } from '../helpers/databases.js';
import { createUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Request limits and transport hardening: depth, cost, page size, batches, body size, JSON, CSRF, validation. */

type Raw = { status: number; text: string; json: unknown };

/** `levels` nested object fields (graph → nodes → graph → …) ending in `id`; depth = levels. */
function nestedGraphSelection(levels: number): string {
  let selection = 'id';
  for (let level = levels; level >= 2; level--) selection = `${level % 2 === 0 ? 'nodes' : 'graph'} { ${selection} }`;
  return `graph(id: $id) { ${selection} }`;
}

const CREATE_GRAPH = 'createGraph(input: { name: "limits", nodes: [{ key: "a", blockId: "b" }] })';

describe.each(testDatabaseKinds)('request limits on %s', (kind) => {
  let server: TestServer;
  let graphId: string;

  const post = async (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }, key: string | null = server.apiKey): Promise<Raw> => {
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers }, body });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: left null, the test says what it expected
    }
    return { status: res.status, text, json };
  };
  const get = async (query: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}/graphql?query=${encodeURIComponent(query)}`, { headers: { authorization: `Bearer ${server.apiKey}`, ...headers } });
    return { status: res.status, text: await res.text() };
  };
  const codes = (res: { errors?: Array<{ extensions?: { code?: string } }> } | unknown) =>
    ((res as { errors?: Array<{ extensions?: { code?: string } }> }).errors ?? []).map((e) => e.extensions?.code);
  const graphCount = () => server.db.prisma.graph.count();

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    graphId = (await createOwned(server.db, server.userId, 'limits')).graphId;
  });
  afterAll(() => server?.close());

  describe('depth', () => {
    it('12 levels are allowed', async () => {
      // graph → nodes → graph → … is priced at 500 nodes a level (QUERY_TOO_COMPLEX): nest one-item pages instead.
      let selection = 'id';
      for (let level = 12; level >= 2; level--) selection = ['graphs(first: 1) { ' + selection + ' }', 'nodes { ' + selection + ' }', 'owner { ' + selection + ' }'][(level - 2) % 3]!;
      const res = await server.graphql(`{ viewer { ${selection} } }`);
      expect(res.errors).toBeUndefined();
      expect(res.data?.viewer).toBeTruthy();
    });

    it('13 levels → QUERY_TOO_DEEP', async () => {
      const res = await server.graphql(`query($id: ID!) { ${nestedGraphSelection(13)} }`, { id: graphId });
      expect(res.status).toBe(400);
      expect(res.data ?? null).toBeNull();
      expect(codes(res)).toEqual(['QUERY_TOO_DEEP']);
    });

    it('13 levels through fragment spreads → QUERY_TOO_DEEP', async () => {
      const query = /* GraphQL */ `
        query($id: ID!) { graph(id: $id) { ...G1 } }
        fragment G1 on Graph { nodes { ...N1 } }
        fragment N1 on Node { graph { ...G2 } }
        fragment G2 on Graph { nodes { ...N2 } }
        fragment N2 on Node { graph { ...G3 } }
        fragment G3 on Graph { nodes { ...N3 } }
        fragment N3 on Node { graph { ...G4 } }
        fragment G4 on Graph { nodes { ...N4 } }
        fragment N4 on Node { graph { ...G5 } }
        fragment G5 on Graph { nodes { ...N5 } }
        fragment N5 on Node { graph { ...G6 } }
        fragment G6 on Graph { nodes { ...N6 } }
        fragment N6 on Node { graph { id } }
      `;
      const res = await server.graphql(query, { id: graphId });
      expect(res.status).toBe(400);
      expect(codes(res)).toEqual(['QUERY_TOO_DEEP']);
    });

    it('13 levels through inline fragments → QUERY_TOO_DEEP', async () => {
      let selection = 'id';
      for (let level = 13; level >= 2; level--) selection = level % 2 === 0 ? `nodes { ... on Node { ${selection} } }` : `graph { ... { ${selection} } }`;
      const res = await server.graphql(`query($id: ID!) { graph(id: $id) { ${selection} } }`, { id: graphId });
      expect(res.status).toBe(400);
      expect(codes(res)).toEqual(['QUERY_TOO_DEEP']);
    });

    it('a fragment cycle is refused promptly, not followed', async () => {
      const started = Date.now();
      const res = await server.graphql(
        'query { viewer { ...U } } fragment U on User { graphs { nodes { owner { ...U } } } } fragment V on User { ...W } fragment W on User { ...V }',
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(res.status).toBe(400);
      expect(res.data ?? null).toBeNull();
      expect(codes(res).every((code) => code === 'GRAPHQL_VALIDATION_FAILED' || code === 'QUERY_TOO_DEEP')).toBe(true);
    });
  });

  describe('cost', () => {
    const EXPLOSIVE = '{ graphs(first: 100) { nodes { executions(first: 100) { nodes { nodeExecutions(first: 100) { nodes { id } } } } } } }';

    it('a query whose cost explodes → QUERY_TOO_COMPLEX with no data', async () => {
      const res = await server.graphql(EXPLOSIVE);
      expect(res.status).toBe(400);
      expect(res.data ?? null).toBeNull();
      expect(codes(res)).toEqual(['QUERY_TOO_COMPLEX']);
    });

    it('page sizes given as variables count too', async () => {
      const res = await server.graphql(
        'query($n: Int) { graphs(first: $n) { nodes { executions(first: $n) { nodes { nodeExecutions(first: $n) { nodes { id } } } } } } }',
        { n: 100 },
      );
      expect(codes(res)).toEqual(['QUERY_TOO_COMPLEX']);
    });

    it('a mutation whose selection is too expensive is not executed at all', async () => {
      const before = await snapshot(server.db);
      const res = await server.graphql(
        `mutation { ${CREATE_GRAPH} { graph { versions(first: 100) { nodes { executions(first: 100) { nodes { nodeExecutions(first: 100) { nodes { id } } } } } } } } }`,
      );
      expect(codes(res)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(await snapshot(server.db)).toEqual(before);
    });

    it('the same shape with small pages runs', async () => {
      const res = await server.graphql('{ graphs(first: 10) { nodes { executions(first: 10) { nodes { nodeExecutions(first: 10) { nodes { id } } } } } } }');
      expect(res.errors).toBeUndefined();
    });

    it('a fragment fan-out (each fragment spreading the previous one twice) is refused quickly', async () => {
      const fragments = ['fragment F0 on User { id }'];
      for (let i = 1; i <= 20; i++) fragments.push(`fragment F${i} on User { ...F${i - 1} ...F${i - 1} }`);
      const started = Date.now();
      const res = await server.graphql(`{ viewer { ...F20 } } ${fragments.join(' ')}`);
      const elapsed = Date.now() - started;
      expect(res.status).toBe(400);
      expect(codes(res)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(elapsed, `took ${elapsed} ms of server CPU for a 1 KB query`).toBeLessThan(1_500);
    });
  });

  describe('page size', () => {
    it('first: 101 → BAD_USER_INPUT; first: 100 is fine', async () => {
      const over = await server.graphql('{ graphs(first: 101) { nodes { id } } }');
      expect(codes(over)).toEqual(['BAD_USER_INPUT']);
      const max = await server.graphql('{ graphs(first: 100) { nodes { id } } }');
      expect(max.errors).toBeUndefined();
    });

    it('first: 101 on a nested connection → BAD_USER_INPUT', async () => {
      const res = await server.graphql('query($id: ID!) { graph(id: $id) { executions(first: 101) { nodes { id } } } }', { id: graphId });
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('batches', () => {
    const op = (query: string) => ({ query });

    it('2 operations answer 2 results, in order', async () => {
      const res = await post(JSON.stringify([op('{ viewer { id } }'), op('query($id: ID!) { graph(id: $id) { id } }')].map((o, i) => (i === 1 ? { ...o, variables: { id: graphId } } : o))));
      expect(res.status).toBe(200);
      expect(res.json).toEqual([{ data: { viewer: { id: server.userId } } }, { data: { graph: { id: graphId } } }]);
    });

    it('10 operations are allowed', async () => {
      const res = await post(JSON.stringify(Array.from({ length: 10 }, () => op('{ viewer { id } }'))));
      expect(res.status).toBe(200);
      expect(res.json).toHaveLength(10);
    });

    it('11 operations → 400 BATCH_TOO_LARGE, none executed', async () => {
      const before = await graphCount();
      const res = await post(JSON.stringify(Array.from({ length: 11 }, () => op(`mutation { ${CREATE_GRAPH} { graph { id } } }`))));
      expect(res.status).toBe(400);
      expect(codes(res.json)).toEqual(['BATCH_TOO_LARGE']);
      expect(await graphCount()).toBe(before);
    });

    it('an empty batch → 400', async () => {
      const res = await post('[]');
      expect(res.status).toBe(400);
      expect(codes(res.json)).toEqual(['BATCH_TOO_LARGE']);
    });
  });

  describe('transport', () => {
    it('a 2 MB body → 413 PAYLOAD_TOO_LARGE, not executed', async () => {
      const before = await graphCount();
      const body = JSON.stringify({ query: `mutation { ${CREATE_GRAPH} { graph { id } } }`, variables: { padding: 'x'.repeat(2_000_000) } });
      const res = await post(body);
      expect(res.status).toBe(413);
      expect(codes(res.json)).toEqual(['PAYLOAD_TOO_LARGE']);
      expect(await graphCount()).toBe(before);
    });

    it('invalid JSON → 400 BAD_REQUEST in the GraphQL error shape', async () => {
      const res = await post('{"query": "{ viewer { id } }"');
      expect(res.status).toBe(400);
      expect(codes(res.json)).toEqual(['BAD_REQUEST']);
    });

    it('a syntax error → 400 GRAPHQL_PARSE_FAILED', async () => {
      const res = await server.graphql('{ viewer { id }');
      expect(res.status).toBe(400);
      expect(codes(res)).toEqual(['GRAPHQL_PARSE_FAILED']);
    });
  });

  describe('CSRF prevention', () => {
    it('a GET without a preflight header is refused with 400', async () => {
      expect((await get('{ viewer { id } }')).status).toBe(400);
    });

    it('a GET with apollo-require-preflight or x-apollo-operation-name is served', async () => {
      expect((await get('{ viewer { id } }', { 'apollo-require-preflight': 'true' })).status).toBe(200);
      expect((await get('query Me { viewer { id } }', { 'x-apollo-operation-name': 'Me' })).status).toBe(200);
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])('a %s POST without a preflight header is refused with 400 and not executed', async (contentType) => {
      const before = await graphCount();
      const res = await post(JSON.stringify({ query: `mutation { ${CREATE_GRAPH} { graph { id } } }` }), { 'content-type': contentType });
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/CSRF|Cross-Site Request Forgery/i);
      expect(await graphCount()).toBe(before);
    });

    it('a mutation over GET is refused even with a preflight header', async () => {
      const before = await graphCount();
      const res = await get(`mutation { ${CREATE_GRAPH} { graph { id } } }`, { 'apollo-require-preflight': 'true' });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(await graphCount()).toBe(before);
    });
  });

  describe('validation errors, never 500', () => {
    const CASES: Array<[string, string, Record<string, unknown> | undefined, string]> = [
      ['an unknown field', '{ viewer { password } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
      ['an unknown root field', '{ users { id } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
      ['an unknown argument', '{ graphs(last: 5) { nodes { id } } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
      ['a string literal for an Int', '{ graphs(first: "ten") { nodes { id } } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
      ['an unknown enum literal', '{ graphs(orderBy: { field: SIZE }) { nodes { id } } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
      ['a missing required argument', '{ graph { id } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
      ['a string variable for an Int', 'query($n: Int) { graphs(first: $n) { nodes { id } } }', { n: 'ten' }, 'BAD_USER_INPUT'],
      ['a float variable for an Int', 'query($n: Int) { graphs(first: $n) { nodes { id } } }', { n: 1.5 }, 'BAD_USER_INPUT'],
      // The cost estimate must not read a variable before it is coerced: 2^31 is not an Int at all.
      ['an Int variable over 32 bits', 'query($n: Int) { graphs(first: $n) { nodes { id } } }', { n: 2 ** 31 }, 'BAD_USER_INPUT'],
      ['an array for a JSONObject', 'mutation($id: ID!, $i: JSONObject) { executeGraph(graphId: $id, inputs: $i) { graphExecution { id } } }', { i: [1, 2] }, 'BAD_USER_INPUT'],
      ['a negative NonNegativeInt', 'mutation($id: ID!) { updateNodeExecution(id: $id, status: QUEUED, cost: -1) { nodeExecution { id } } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
      ['an unknown enum variable', 'query($f: GraphExecutionFilter) { graphExecutions(filter: $f) { nodes { id } } }', { f: { statuses: ['DONE'] } }, 'BAD_USER_INPUT'],
      ['a missing required variable', 'query($id: ID!) { graph(id: $id) { id } }', {}, 'BAD_USER_INPUT'],
      ['a missing required input field', 'mutation($input: GraphInput!) { createGraph(input: $input) { graph { id } } }', { input: { name: 'x' } }, 'BAD_USER_INPUT'],
    ];

    it.each(CASES.map(([label, query, variables, code]) => ({ label, query, variables, code })))('$label → $code', async ({ label, query, variables, code }) => {
      // Every `$id` names a real graph, except where the case is about the missing variable.
      const res = await server.graphql(query, label === 'a missing required variable' ? variables : { id: graphId, ...variables });
      expect(res.status).toBe(400);
      expect(codes(res)[0]).toBe(code);
      expect(res.data ?? null).toBeNull();
    });
  });
});

describe('internal errors are masked', () => {
  let db: Database;
  let url: string;
  let apiKey: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    apiKey = (await createUser(db)).apiKey;
    // The same database, except that listing graphs fails the way an unexpected bug would: a plain Error whose
    // message carries details the client must not see.
    const secretError = () => Promise.reject(new Error('relation "graphs_secret" at /srv/agentgraph/internal.ts:42 password=hunter2'));
    const failingGraph = new Proxy(db.prisma.graph, {
      get: (target, property) => (property === 'findMany' ? secretError : Reflect.get(target, property)),
    });
    const prisma = new Proxy(db.prisma, {
      get: (target, property) => {
        if (property === 'graph') return failingGraph;
        // One owner's graph lists are read with SQL (batched across the lists of a request).
        if (property === '$queryRaw') {
          return (strings: TemplateStringsArray, ...values: unknown[]) =>
            strings.join('?').includes('FROM graphs g') ? secretError() : target.$queryRaw(strings, ...values);
        }
        const value = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    // Graph lists are read with raw SQL on the driver (db.sql).
    const sql = { query: (statement: Prisma.Sql) => (statement.text.includes('FROM graphs g') ? secretError() : db.sql.query(statement)) };
    const server = await createServer({ db: { ...db, prisma, sql } as Database, log: pino({ level: 'silent' }), playground: false });
    url = (await server.listen(0, '127.0.0.1')).url;
    stop = server.stop;
  });
  afterAll(async () => {
    await stop?.();
    await db?.close();
  });

  it('answers INTERNAL_SERVER_ERROR with a generic message, no detail and no stack trace', async () => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query: '{ graphs { nodes { id } } }' }),
    });
    const text = await res.text();
    const body = JSON.parse(text) as { errors: Array<{ message: string; extensions: Record<string, unknown> }>; data: unknown };
    expect(res.status).toBe(200);
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(body.errors[0]!.extensions.stacktrace).toBeUndefined();
    for (const leak of ['hunter2', 'graphs_secret', '/srv/agentgraph', 'internal.ts', 'Error:']) expect(text).not.toContain(leak);
  });
});
