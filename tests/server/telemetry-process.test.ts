// A real server process configured the operator's way (NODE_ENV=production, OTEL_* and METRICS_PORT variables):
// its spans reach an OTLP/HTTP collector, its metrics are on their own port and not on the API's, and it is ready.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { freePort, spawnServer, type ServerProcess } from '../faults/helpers.js';
import { createTestDatabase, testDatabaseKinds } from '../helpers/databases.js';
import { createGraph, createUser } from '../helpers/factories.js';

type OtlpSpan = { name: string; traceId: string; spanId: string; parentSpanId?: string; attributes: Array<{ key: string; value: Record<string, unknown> }> };
type OtlpBody = { resourceSpans: Array<{ resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }> };

const attribute = (span: OtlpSpan, key: string) => Object.values(span.attributes.find((a) => a.key === key)?.value ?? {})[0];

describe.runIf(testDatabaseKinds.includes('postgres'))('telemetry of a real server process (PostgreSQL, OTLP over HTTP)', () => {
  let db: Database;
  let server: ServerProcess;
  let collector: http.Server;
  let metricsPort: number;
  let apiKey: string;
  const received: OtlpBody[] = [];

  beforeAll(async () => {
    // The collector: what an OpenTelemetry Collector's OTLP/HTTP receiver gets, kept as sent.
    collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.url === '/v1/traces') received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpBody);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    db = await createTestDatabase('postgres');
    const created = await createUser(db);
    apiKey = created.apiKey;
    await createGraph(db, created.user.id, { name: 'exported' });
    metricsPort = await freePort();
    server = await spawnServer({
      DATABASE_URL: (db as Extract<Database, { kind: 'postgres' }>).url,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      OTEL_SERVICE_NAME: 'agentgraph-test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      METRICS_PORT: String(metricsPort),
    });
  }, 90_000);
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await db?.close();
    await new Promise((resolve) => collector?.close(resolve));
  });

  it('exports the spans of a request to the collector: HTTP, operation and statements, one trace', async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, 'x-request-id': 'exported-1' },
      body: JSON.stringify({ query: 'query Exported { graphs(first: 5) { nodes { id name } } }' }),
    });
    expect(res.status).toBe(200);
    const spans = () => received.flatMap((body) => body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    await expect.poll(() => spans().some((s) => attribute(s, 'agentgraph.request_id') === 'exported-1'), { timeout: 10_000 }).toBe(true);
    const httpSpan = spans().find((s) => attribute(s, 'agentgraph.request_id') === 'exported-1')!;
    expect(httpSpan.name).toBe('POST /graphql');
    await expect.poll(() => spans().filter((s) => s.traceId === httpSpan.traceId).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const trace = spans().filter((s) => s.traceId === httpSpan.traceId);
    const operation = trace.find((s) => s.parentSpanId === httpSpan.spanId)!;
    expect(operation.name).toBe('query Exported');
    expect(trace.some((s) => s.parentSpanId === operation.spanId && attribute(s, 'db.system.name') === 'postgresql')).toBe(true);
    const service = received[0]!.resourceSpans[0]!.resource.attributes.find((a) => a.key === 'service.name');
    expect(service?.value).toEqual({ stringValue: 'agentgraph-test' });
  });

  it('serves metrics on their own port only, and answers the probes', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^agentgraph_http_requests_total\{method="POST",route="\/graphql",status="200"\} \d+/m);
    expect(metrics).toMatch(/^agentgraph_db_pool_connections\{pool="main",state="total"\} \d+/m);
    expect((await fetch(`${server.url}/live`)).status).toBe(200);
    expect(await (await fetch(`${server.url}/ready`)).json()).toMatchObject({ status: 'ready' });
  });
});
