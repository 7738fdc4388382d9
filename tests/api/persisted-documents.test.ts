import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildASTSchema, Kind, parse, validate, type OperationDefinitionNode } from 'graphql';
import { projectRoot } from '../../src/config.js';
import { loadSchemaDocument } from '../../src/schema-files.js';
import { createCostModel } from '../../src/server/cost/operation-cost.js';
import { REQUEST_LIMITS } from '../../src/server/limits.js';
import { createPersistedDocuments, DASHBOARD_MANIFEST, loadManifests, sha256 } from '../../src/server/persisted-documents.js';
import { liveClient } from '../helpers/live.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Documents sent by id from loaded manifests, and PERSISTED_DOCUMENTS=only on every path a document can take. */
const VIEWER = 'query Viewer { viewer { id email } }';
const RUNS = 'subscription Runs { graphExecutionUpdated { kind } }';
const OTHER = '{ viewer { id } }';

function writeManifest(documents: string[]): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-manifest-')), 'persisted-documents.json');
  fs.writeFileSync(file, JSON.stringify(Object.fromEntries(documents.map((d) => [sha256(d), d]))));
  return file;
}

const byId = (document: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(document) } } });

async function post(server: TestServer, body: unknown, options: { viaExpress?: boolean } = {}) {
  // A chunked body (no content-length) is served by Express, not the fast path.
  const text = JSON.stringify(body);
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.apiKey}` },
    body: options.viaExpress ? new Blob([text]).stream() : text,
    ...(options.viaExpress ? { duplex: 'half' } : {}),
  } as RequestInit);
  return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown>; errors?: Array<{ extensions?: { code?: string } }> } | Array<{ errors?: unknown[] }> };
}

async function get(server: TestServer, params: Record<string, string>) {
  const res = await fetch(`${server.url}/graphql?${new URLSearchParams(params)}`, { headers: { authorization: `Bearer ${server.apiKey}`, 'apollo-require-preflight': 'true' } });
  return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown>; errors?: Array<{ extensions?: { code?: string } }> } };
}

const codeOf = (body: unknown) => (body as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.[0]?.extensions?.code;

describe('persisted documents (pglite)', () => {
  let only: TestServer;
  let allow: TestServer;
  let off: TestServer;
  beforeAll(async () => {
    const documents = loadManifests([writeManifest([VIEWER, RUNS])]);
    [only, allow, off] = await Promise.all([
      startTestServer({ persistedDocuments: createPersistedDocuments('only', documents) }),
      startTestServer({ persistedDocuments: createPersistedDocuments('allow', documents) }),
      startTestServer({ persistedDocuments: null }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([only, allow, off].map((s) => s?.close()));
  });

  it('runs a document sent by id, or by its exact text, on the fast path, through Express and by GET', async () => {
    for (const viaExpress of [false, true]) {
      const sent = await post(only, byId(VIEWER), { viaExpress });
      expect(sent.status).toBe(200);
      expect((sent.body as { data: { viewer: { email: string } } }).data.viewer.email).toBe(only.userEmail);
      expect((await post(only, { query: VIEWER }, { viaExpress })).status).toBe(200);
    }
    const got = await get(only, { extensions: JSON.stringify(byId(VIEWER).extensions) });
    expect(got.body.data).toMatchObject({ viewer: { email: only.userEmail } });
  });

  it('PERSISTED_DOCUMENT_REQUIRED for any other document, on every path: fast, hot, Express, GET, batch, live', async () => {
    // Hot: the manifest's query runs often enough to be compiled and answered without Apollo's pipeline first.
    for (let i = 0; i < 5; i++) expect((await post(only, { query: VIEWER })).status).toBe(200);
    for (const viaExpress of [false, true]) {
      const refused = await post(only, { query: OTHER }, { viaExpress });
      expect([refused.status, codeOf(refused.body)]).toEqual([400, 'PERSISTED_DOCUMENT_REQUIRED']);
    }
    const refusedGet = await get(only, { query: OTHER });
    expect([refusedGet.status, codeOf(refusedGet.body)]).toEqual([400, 'PERSISTED_DOCUMENT_REQUIRED']);
    const batch = await post(only, [{ query: VIEWER }, { query: OTHER }]);
    expect([batch.status, codeOf(batch.body)]).toEqual([400, 'PERSISTED_DOCUMENT_REQUIRED']);
    const unknownId = await post(only, byId(OTHER));
    expect(codeOf(unknownId.body)).toBe('PERSISTED_QUERY_NOT_FOUND');

    const client = liveClient(only.url, only.apiKey);
    try {
      const refusedLive = client.subscribe('subscription { graphExecutionUpdated { status } }');
      await refusedLive.ended();
      expect(JSON.stringify(refusedLive.error ?? refusedLive.results)).toContain('PERSISTED_DOCUMENT_REQUIRED');
      const known = client.subscribe(RUNS);
      await expect.poll(() => only.liveStats().subscriptions).toBe(1);
      known.stop();
      // By id: graphql-ws needs a `query`, which is then empty.
      const unsubscribe = client.client.subscribe({ query: '', extensions: { persistedQuery: { version: 1, sha256Hash: sha256(RUNS) } } }, { next: () => {}, error: () => {}, complete: () => {} });
      await expect.poll(() => only.liveStats().subscriptions).toBe(1);
      unsubscribe();
    } finally {
      await client.dispose();
    }
  });

  it('allow: documents by id and any other document; off (no manifest): ids are not accepted', async () => {
    expect((await post(allow, byId(VIEWER))).status).toBe(200);
    expect((await post(allow, { query: OTHER })).status).toBe(200);
    expect(codeOf((await post(off, byId(VIEWER))).body)).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
  });

  it('a manifest whose ids are not its documents’ hashes is refused at start', () => {
    const file = writeManifest([VIEWER]);
    fs.writeFileSync(file, JSON.stringify({ [sha256(OTHER)]: VIEWER }));
    expect(() => loadManifests([file])).toThrow(/not the SHA-256/);
  });
});

describe('the dashboard’s persisted documents (npm run generate)', () => {
  it('the manifest lists exactly the operations of src/http/dashboard/*.graphql, each valid and within the limits', () => {
    const dir = path.join(projectRoot, 'src', 'http', 'dashboard');
    const written = fs
      .readdirSync(dir)
      .filter((file) => file.endsWith('.graphql'))
      .flatMap((file) => parse(fs.readFileSync(path.join(dir, file), 'utf8')).definitions)
      .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
      .map((d) => d.name!.value);
    const manifest = loadManifests([DASHBOARD_MANIFEST]);
    const schema = buildASTSchema(loadSchemaDocument());
    const model = createCostModel(schema);
    const listed: string[] = [];
    for (const document of manifest.values()) {
      const parsed = parse(document);
      expect(validate(schema, parsed).map((e) => e.message)).toEqual([]);
      for (const operation of parsed.definitions) {
        if (operation.kind !== Kind.OPERATION_DEFINITION) continue;
        listed.push(operation.name!.value);
        const { depth, cost } = model.analyze(parsed, operation, {}, Number.MAX_SAFE_INTEGER);
        expect(depth).toBeLessThanOrEqual(REQUEST_LIMITS.maxDepth);
        expect(cost, operation.name!.value).toBeLessThanOrEqual(REQUEST_LIMITS.maxCost);
      }
    }
    expect(listed.sort()).toEqual(written.sort());
  });

  it('the client preset’s ids are accepted as the documents they name', async () => {
    const server = await startTestServer({ persistedDocuments: createPersistedDocuments('only', loadManifests([DASHBOARD_MANIFEST])) });
    try {
      const [id, document] = Object.entries(JSON.parse(fs.readFileSync(DASHBOARD_MANIFEST, 'utf8')) as Record<string, string>).find(([, d]) => d.includes('DashboardViewer'))!;
      expect(sha256(document)).toBe(id.replace(/^sha256:/, ''));
      const answer = await post(server, { extensions: { persistedQuery: { version: 1, sha256Hash: id } } });
      expect((answer.body as { data: { viewer: { email: string } } }).data.viewer.email).toBe(server.userEmail);
    } finally {
      await server.close();
    }
  });
});
