// What an operator watches: request ids and access log lines, Prometheus metrics and OpenTelemetry spans, on every
// request path (the fast path cold and hot, Apollo through Express, GET, batches, refusals), over real HTTP.
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OPERATION_NAMES } from '../../src/server/telemetry/metrics.js';
import { createTracing } from '../../src/server/telemetry/tracing.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { createGraph, createSession, createUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

type LogLine = Record<string, unknown> & { msg: string; level: number };

/** A value of the exposition text: the sample of `name` whose labels include all of `labels` (0 when there is none). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => have[key] === value)) total += Number(match[3]);
  }
  return total;
}

const post = (server: TestServer, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.apiKey}`, ...headers }, body: JSON.stringify(body) });

describe.each(testDatabaseKinds)('request ids, access log and metrics on %s', (kind) => {
  let server: TestServer;
  const lines: LogLine[] = [];

  beforeAll(async () => {
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
    server = await startTestServer({ database: kind, log });
    await createGraph(server.db, server.userId, { name: 'telemetry' });
  });
  afterAll(() => server?.close());

  const accessLine = (requestId: string) => lines.find((line) => line.msg === 'request' && line.requestId === requestId);

  it('echoes a sensible x-request-id, makes one otherwise, and logs one line per request with it', async () => {
    const mine = await post(server, { query: 'query MyGraphs { graphs(first: 5) { nodes { id } } }' }, { 'x-request-id': 'client-abc-123' });
    expect(mine.headers.get('x-request-id')).toBe('client-abc-123');
    const hostile = await post(server, { query: '{ viewer { id } }' }, { 'x-request-id': `two words ${'x'.repeat(200)}` });
    const made = hostile.headers.get('x-request-id')!;
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
    const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ viewer { id } }')}`, { headers: { authorization: `Bearer ${server.apiKey}`, 'apollo-require-preflight': '1' } });
    const refused = await post(server, { query: '{ viewer { id } }' }, { authorization: 'Bearer agk_nope' });
    expect(refused.status).toBe(401);
    for (const res of [get, refused]) expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    await expect.poll(() => accessLine('client-abc-123')).toBeDefined();
    expect(accessLine('client-abc-123')).toMatchObject({ level: 30, method: 'POST', path: '/graphql', status: 200, operations: ['query MyGraphs'], statements: 1 });
    expect(accessLine(made)).toMatchObject({ status: 200 });
    expect(accessLine(get.headers.get('x-request-id')!)).toMatchObject({ method: 'GET', status: 200 });
    expect(accessLine(refused.headers.get('x-request-id')!)).toMatchObject({ status: 401, errors: ['UNAUTHENTICATED'] });
  });

  it("a resolver's log lines carry its request's id", async () => {
    await createSession(server.db, { appName: 'telemetry-app', userId: server.userId });
    const res = await post(server, { query: 'mutation { deleteSessions(filter: { appName: "telemetry-app" }) { deletedCount } }' }, { 'x-request-id': 'delete-req' });
    expect(((await res.json()) as { errors?: unknown }).errors).toBeUndefined();
    expect(lines.find((line) => line.msg === 'deleted sessions')).toMatchObject({ requestId: 'delete-req' });
    // A Prisma operation counts as a statement too (the deletion runs in its own transactions).
    expect(accessLine('delete-req')!.statements).toBeGreaterThan(0);
  });

  it('counts every path in /metrics: hot and cold operations, GET, batches, refusals by code', async () => {
    const before = await (await fetch(`${server.url}/metrics`)).text();
    const query = 'query Counted { viewer { id } }';
    // Compiled from the first use in tests (compileAfterUses 0): the second and third are hot.
    for (let i = 0; i < 3; i++) expect((await post(server, { query, operationName: 'Counted' })).status).toBe(200);
    await fetch(`${server.url}/graphql?query=${encodeURIComponent('query ByGet { viewer { id } }')}`, { headers: { authorization: `Bearer ${server.apiKey}`, 'apollo-require-preflight': '1' } });
    await post(server, [{ query: 'query InBatch { viewer { id } }' }, { query: 'query InBatch { nope }' }]);
    await post(server, Array.from({ length: 50 }, () => ({ query })));
    await post(server, { query: 'query TooMuch { graphs(first: 100) { nodes { executions(first: 100) { nodes { nodeExecutions(first: 100) { nodes { id } } } } } } }' });
    const after = await (await fetch(`${server.url}/metrics`)).text();
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);

    expect(delta('agentgraph_graphql_operations_total', { operation_name: 'Counted', operation_type: 'query', outcome: 'ok' })).toBe(3);
    expect(delta('agentgraph_graphql_operations_total', { operation_name: 'Counted', path: 'hot' })).toBeGreaterThanOrEqual(2);
    expect(delta('agentgraph_graphql_operations_total', { operation_name: 'ByGet', path: 'apollo' })).toBe(1);
    expect(delta('agentgraph_graphql_operations_total', { operation_name: 'InBatch' })).toBe(2);
    expect(delta('agentgraph_graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
    expect(delta('agentgraph_graphql_errors_total', { code: 'BATCH_TOO_LARGE' })).toBe(1);
    expect(delta('agentgraph_limit_refusals_total', { code: 'BATCH_TOO_LARGE' })).toBe(1);
    expect(delta('agentgraph_limit_refusals_total', { code: 'QUERY_TOO_COMPLEX' })).toBe(1);
    expect(delta('agentgraph_graphql_operation_duration_seconds_count', { operation_name: 'Counted', operation_type: 'query' })).toBe(3);
    expect(delta('agentgraph_http_requests_total', { method: 'POST', route: '/graphql', status: '200' })).toBeGreaterThanOrEqual(3);
    expect(delta('agentgraph_http_requests_total', { method: 'GET', route: '/graphql', status: '200' })).toBe(1);
    expect(delta('agentgraph_db_statement_duration_seconds_count', {})).toBeGreaterThan(0);
    // Process and event-loop metrics, and (on PostgreSQL) the pool.
    expect(after).toMatch(/^agentgraph_event_loop_delay_seconds\{quantile="0.99"\} /m);
    expect(after).toMatch(/^process_cpu_seconds_total /m);
    expect(after).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);
    if (kind === 'postgres') expect(sample(after, 'agentgraph_db_pool_connections', { pool: 'main', state: 'total' })).toBeGreaterThan(0);
  });

  it('operation names are the client’s: past a bound they are counted as (other)', async () => {
    for (let i = 0; i <= MAX_OPERATION_NAMES; i++) await post(server, { query: `query Named${i} { viewer { id } }` });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const names = new Set([...text.matchAll(/^agentgraph_graphql_operations_total\{operation_name="([^"]*)"/gm)].map((m) => m[1]));
    expect(names.has('(other)')).toBe(true);
    expect([...names].filter((name) => !name!.startsWith('('))).toHaveLength(MAX_OPERATION_NAMES);
  });
});

describe('metrics on a port of their own (pglite)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ metrics: { port: 0, host: '127.0.0.1' } });
  });
  afterAll(() => server?.close());

  it('serves /metrics there and not on the API port', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    const res = await fetch(`${server.metricsUrl()}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('agentgraph_http_requests_total');
  });
});

describe('health probes (pglite)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it('/live answers without the database, /ready checks it and the migrations', async () => {
    expect(await (await fetch(`${server.url}/live`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', database: { reachable: true, migrations: 'applied' } });
  });
});

describe('readiness with migrations pending (pglite)', () => {
  it('/ready is 503 naming them, /live stays 200', async () => {
    const server = await startTestServer();
    try {
      const [last] = await server.db.prisma.$queryRaw<Array<{ migration_name: string }>>`SELECT migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1`;
      await server.db.prisma.$executeRaw`DELETE FROM _prisma_migrations WHERE migration_name = ${last!.migration_name}`;
      const ready = await fetch(`${server.url}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'migrations pending', database: { pending: [last!.migration_name] } });
      expect((await fetch(`${server.url}/live`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('traces (pglite, in-memory exporter)', () => {
  let server: TestServer;
  const exporter = new InMemorySpanExporter();
  beforeAll(async () => {
    server = await startTestServer({ tracing: createTracing({ exporter, batch: false }) });
    await createGraph(server.db, server.userId, { name: 'traced' });
  });
  afterAll(() => server?.close());

  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

  async function spansOf(requestId: string): Promise<{ http: ReadableSpan; operation: ReadableSpan; statements: ReadableSpan[] }> {
    await expect.poll(() => exporter.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER && s.attributes['agentgraph.request_id'] === requestId)).toBe(true);
    const spans = exporter.getFinishedSpans();
    const http = spans.find((s) => s.kind === SpanKind.SERVER && s.attributes['agentgraph.request_id'] === requestId)!;
    const operation = spans.find((s) => parentOf(s) === http.spanContext().spanId)!;
    const statements = spans.filter((s) => parentOf(s) === operation.spanContext().spanId);
    return { http, operation, statements };
  }

  it('a cold and a hot request: HTTP span, operation span under it, statement spans under that', async () => {
    const query = 'query Traced { graphs(first: 3) { nodes { id name } } }';
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const cold = await post(server, { query }, { 'x-request-id': 'cold-1', traceparent });
    const hot = await post(server, { query }, { 'x-request-id': 'hot-1' });
    expect(cold.status).toBe(200);
    expect(hot.status).toBe(200);
    for (const [requestId, path] of [['cold-1', 'apollo'], ['hot-1', 'hot']] as const) {
      const { http, operation, statements } = await spansOf(requestId);
      expect(http.name).toBe('POST /graphql');
      expect(http.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/graphql', 'http.response.status_code': 200 });
      expect(operation.name).toBe('query Traced');
      expect(operation.attributes).toMatchObject({ 'graphql.operation.name': 'Traced', 'graphql.operation.type': 'query', 'agentgraph.execution_path': path });
      expect(statements.length).toBeGreaterThan(0);
      expect(statements[0]!.kind).toBe(SpanKind.CLIENT);
      expect(statements[0]!.name).toBe('SELECT');
      expect(String(statements[0]!.attributes['db.query.text'])).toMatch(/FROM graphs/);
    }
    // The caller's trace continues in ours.
    expect((await spansOf('cold-1')).http.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('an operation refused by a limit ends its span as an error with the code', async () => {
    await post(server, { query: 'query Nope { nope }' }, { 'x-request-id': 'bad-1' });
    const { http, operation } = await spansOf('bad-1');
    expect(http.attributes['http.response.status_code']).toBe(400);
    expect(operation.attributes['graphql.error.codes']).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(operation.status.code).toBe(2);
  });

  it('a request refused before any operation has its HTTP span only', async () => {
    const { apiKey } = await createUser(server.db, { revoked: true });
    await post(server, { query: '{ viewer { id } }' }, { authorization: `Bearer ${apiKey}`, 'x-request-id': 'revoked-1' });
    await expect.poll(() => exporter.getFinishedSpans().find((s) => s.attributes['agentgraph.request_id'] === 'revoked-1')).toBeDefined();
    const http = exporter.getFinishedSpans().find((s) => s.attributes['agentgraph.request_id'] === 'revoked-1')!;
    expect(http.attributes['http.response.status_code']).toBe(401);
    expect(exporter.getFinishedSpans().filter((s) => parentOf(s) === http.spanContext().spanId)).toEqual([]);
  });
});
