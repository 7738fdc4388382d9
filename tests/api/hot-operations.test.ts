/**
 * Hot operations (src/server/hot-operations.ts): once an operation has run compiled, its requests are executed without
 * Apollo's request pipeline. Every answer must be the one Apollo gives: the same request sent to `/graphql` (hot) and to
 * `/graphql?via=express` (a query string sends it through Express and Apollo's whole pipeline) must get the same
 * status, headers and body, for answers and every kind of error; a request with errors must execute once, not once on
 * each path. The server's counter tells which requests the hot path executed. HTTP behaviour, not the database's:
 * PGlite only.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { createServer, type AppServer } from '../../src/server/app.js';
import { createTestDatabase } from '../helpers/databases.js';
import { createGraph, createUser } from '../helpers/factories.js';

const COMPARED_HEADERS = ['content-type', 'content-length', 'x-content-type-options', 'content-security-policy', 'access-control-allow-origin', 'vary'];

type Sent = { status: number; headers: Record<string, string | null>; body: string };
type Body = { query: string; variables?: Record<string, unknown> | null; operationName?: string | null; extensions?: unknown };

describe('hot operations', () => {
  let db: Database;
  let server: AppServer;
  let url: string;
  let apiKey: string;
  let graphId: string;
  let otherGraphId: string;

  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    const owner = await createUser(db);
    apiKey = owner.apiKey;
    graphId = (await createGraph(db, owner.user.id)).graph.id;
    const other = await createUser(db);
    otherGraphId = (await createGraph(db, other.user.id)).graph.id;
    server = await createServer({ db, log: pino({ level: 'silent' }), apiKeyCacheMs: 0, compileAfterUses: 0, corsOrigins: ['https://dash.example'] });
    url = (await server.listen(0, '127.0.0.1')).url;
  });
  afterAll(async () => {
    await server?.stop();
    await db?.close();
  });

  const auth = () => ({ authorization: `Bearer ${apiKey}` });

  const send = async (path: string, body: Body | string, headers: Record<string, string> = auth()): Promise<Sent> => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return {
      status: response.status,
      headers: Object.fromEntries(COMPARED_HEADERS.map((name) => [name, response.headers.get(name)])),
      body: await response.text(),
    };
  };

  const hotRequests = () => server.hotOperationStats().requests;

  /**
   * Runs `body` through Apollo once (which compiles it), then sends it hot and through Apollo again: both answers must
   * be identical, and the hot one executed on the hot path (`hot`) or left to Apollo.
   */
  const compare = async (body: Body | string, options: { headers?: Record<string, string>; warmWith?: Body; hot: boolean }) => {
    await send('/graphql?via=express', options.warmWith ?? body, options.headers);
    const before = hotRequests();
    const hot = await send('/graphql', body, options.headers);
    expect(hotRequests() - before, `hot path taken for ${JSON.stringify(body).slice(0, 200)}`).toBe(options.hot ? 1 : 0);
    const apollo = await send('/graphql?via=express', body, options.headers);
    expect(hot).toEqual(apollo);
    return hot;
  };

  const runsOf = (id: string) => db.prisma.graphExecution.count({ where: { graphId: id } });

  it('answers a hot query exactly as Apollo does', async () => {
    const query = 'query Mine($first: Int!) { viewer { id email } graphs(first: $first) { totalCount nodes { id name nodes { blockId } } } }';
    const answer = await compare({ query, variables: { first: 5 } }, { hot: true });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(answer.body).data.graphs.nodes[0].id).toBe(graphId);
    // Other variables, the same operation: still hot.
    await compare({ query, variables: { first: 1 } }, { hot: true });
    // Without variables, with null variables and a null operation name.
    await compare({ query: '{ viewer { id } }', variables: null, operationName: null }, { hot: true });
    // With CORS.
    const cors = await compare({ query: '{ viewer { id } }' }, { headers: { ...auth(), origin: 'https://dash.example' }, hot: true });
    expect(cors.headers['access-control-allow-origin']).toBe('https://dash.example');
  });

  it('hands every kind of error to Apollo with the same status and body', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const graphQuery = 'query G($id: ID!) { graph(id: $id) { id name } }';
    // Not found (data null and an error), and another user's graph.
    const notFound = await compare({ query: graphQuery, variables: { id: missing } }, { hot: true });
    expect(JSON.parse(notFound.body).errors[0].extensions.code).toBe('NOT_FOUND');
    await compare({ query: graphQuery, variables: { id: otherGraphId } }, { hot: true });
    // Partial data: one field answered, its sibling refused.
    const partial = await compare({ query: 'query P($id: ID!, $missing: ID!) { a: graph(id: $id) { id } b: graph(id: $missing) { id } }', variables: { id: graphId, missing } }, { hot: true });
    expect(JSON.parse(partial.body).data.a.id).toBe(graphId);
    // Variables Apollo refuses (400 BAD_USER_INPUT), after the operation ran with good ones.
    const badVariable = await compare({ query: graphQuery, variables: { id: 5.5 } }, { warmWith: { query: graphQuery, variables: { id: graphId } }, hot: true });
    expect(badVariable.status).toBe(400);
    await compare({ query: graphQuery, variables: {} }, { hot: true });
    // A key that is not valid (401), and no key at all (the fields refuse).
    const unauthenticated = await compare({ query: graphQuery, variables: { id: graphId } }, { headers: { authorization: 'Bearer agk_nope_nope' }, hot: true });
    expect(unauthenticated.status).toBe(401);
    await compare({ query: graphQuery, variables: { id: graphId } }, { headers: {}, hot: true });
  });

  it('leaves to Apollo what only Apollo answers: limits exceeded, other media types, extensions, batches, unknown operation names', async () => {
    const nested = 'query Deep($n: Int!) { graphs(first: $n) { nodes { executions(first: $n) { nodes { nodeExecutions(first: $n) { nodes { id status } } } } } } }';
    const refused = await compare({ query: nested, variables: { n: 100 } }, { warmWith: { query: nested, variables: { n: 2 } }, hot: false });
    expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    const asked = { query: '{ viewer { id } }' };
    const graphqlResponse = await compare(asked, { headers: { ...auth(), accept: 'application/graphql-response+json' }, hot: false });
    expect(graphqlResponse.headers['content-type']).toBe('application/graphql-response+json; charset=utf-8');
    expect((await compare(asked, { headers: { ...auth(), accept: 'text/html' }, hot: false })).status).toBe(406);
    await compare({ ...asked, extensions: { persistedQuery: { version: 1, sha256Hash: 'x' } } }, { hot: false });
    await compare({ ...asked, extensions: {} }, { hot: false });
    await compare(JSON.stringify([asked, asked]), { hot: false });
    await compare({ ...asked, variables: [] as unknown as Record<string, unknown> }, { hot: false });
    // One document, two operations: each name is its own hot operation; no name, or an unknown one, is Apollo's error.
    const two = 'query One { viewer { id } } query Two { graphs(first: 1) { totalCount } }';
    await compare({ query: two, operationName: 'One' }, { hot: true });
    await compare({ query: two, operationName: 'Two' }, { hot: true });
    await compare({ query: two }, { hot: false });
    await compare({ query: two, operationName: 'Three' }, { hot: false });
  });

  it('executes a hot mutation once, with or without errors', async () => {
    const execute = 'mutation Run($id: ID!) { executeGraph(graphId: $id, inputs: { topic: "hot" }) { graphExecution { status graphVersion } } }';
    const before = await runsOf(graphId);
    await compare({ query: execute, variables: { id: graphId } }, { hot: true });
    // Once by Apollo to compile, once hot, once by Apollo to compare.
    expect(await runsOf(graphId)).toBe(before + 3);
    // One run written, then an error from the second field: Apollo reports the hot result, it does not run it again.
    const partly = 'mutation Two($id: ID!, $other: ID!) { a: executeGraph(graphId: $id) { graphExecution { status } } b: executeGraph(graphId: $other) { graphExecution { status } } }';
    const beforePartly = await runsOf(graphId);
    const answer = await compare({ query: partly, variables: { id: graphId, other: otherGraphId } }, { hot: true });
    expect(JSON.parse(answer.body)).toMatchObject({ data: null, errors: [{ extensions: { code: 'NOT_FOUND' } }] });
    expect(await runsOf(graphId)).toBe(beforePartly + 3);
    expect(await runsOf(otherGraphId)).toBe(0);
  });

  it('stops with Apollo: after stop() nothing is answered hot', async () => {
    const own = await createServer({ db, log: pino({ level: 'silent' }), apiKeyCacheMs: 0, compileAfterUses: 0, playground: false });
    const ownUrl = (await own.listen(0, '127.0.0.1')).url;
    const post = () => fetch(`${ownUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth() }, body: JSON.stringify({ query: '{ viewer { id } }' }) });
    await (await post()).text();
    await (await post()).text();
    expect(own.hotOperationStats()).toEqual({ operations: 1, requests: 1 });
    await own.stop();
    expect(own.hotOperationStats()).toEqual({ operations: 0, requests: 1 });
  });
});
