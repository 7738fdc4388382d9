import { pino, type Logger } from 'pino';
import type { Database, DatabaseKind } from '../../src/db/database.js';
import { createServer, type ServerOptions } from '../../src/server/app.js';
import { createPersistedDocuments, DASHBOARD_MANIFEST, loadManifests, type PersistedDocuments } from '../../src/server/persisted-documents.js';
import { createTestDatabase } from './databases.js';
import { createUser } from './factories.js';

export type TestServer = {
  url: string;
  db: Database;
  /** API key of a normal user created for the test, filled into the playground's headers. */
  apiKey: string;
  userEmail: string;
  userId: string;
  /** POSTs a GraphQL operation to /graphql over real HTTP. */
  graphql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, apiKey?: string | null): Promise<GraphQLResponse<T>>;
  /** Subscriptions and live connections open on the server. */
  liveStats(): { subscriptions: number; webSockets: number; eventStreams: number };
  /** Where the server serves metrics on a port of their own, if it does. */
  metricsUrl(): string | null;
  /** Stops the server (its subscriptions end) and keeps the database open. */
  stop(): Promise<void>;
  close(): Promise<void>;
};

export type GraphQLResponse<T> = {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: { code?: string; [k: string]: unknown } }>;
};

/** The real server (Express + Apollo + auth) on a fresh migrated database, listening on a free port. */
export async function startTestServer(
  /** `persistedDocuments`: as the real server (the dashboard's manifest, `allow`) unless given; null: none (ids refused). */
  options: {
    database?: DatabaseKind;
    live?: ServerOptions['live'];
    db?: Database;
    persistedDocuments?: PersistedDocuments | null;
    log?: Logger;
    metrics?: ServerOptions['metrics'];
    tracing?: ServerOptions['tracing'];
  } = {},
): Promise<TestServer> {
  const db = options.db ?? (await createTestDatabase(options.database ?? 'pglite'));
  const log = options.log ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const { user, apiKey } = await createUser(db, { email: `viewer-${Date.now()}@example.com` });
  // The API key cache is off so each request reads its key (statement counts and direct DB edits stay exact);
  // tests/api/http-security.test.ts covers the cache.
  // Every operation is compiled (graphql-jit) from its first use, so the suite exercises the path hot operations take;
  // tests/api/compiled-execution.test.ts compares it with graphql-js.
  // Statistics changes are folded by the tests that mean to (tests/stats/rollups.test.ts), never in the background, so
  // a test sees the rollups as it left them (answers are the same folded or not; the folder's statements are not
  // reported to query listeners anyway).
  const server = await createServer({
    db,
    log,
    playgroundHeaders: { Authorization: `Bearer ${apiKey}` },
    apiKeyCacheMs: 0,
    compileAfterUses: 0,
    statsFoldIntervalMs: 24 * 3_600_000,
    live: options.live,
    metrics: options.metrics,
    tracing: options.tracing,
    persistedDocuments: options.persistedDocuments === undefined ? createPersistedDocuments('allow', loadManifests([DASHBOARD_MANIFEST])) : (options.persistedDocuments ?? undefined),
  });
  const { url } = await server.listen(0, '127.0.0.1');
  return {
    url,
    db,
    apiKey,
    userEmail: user.email,
    userId: user.id,
    async graphql(query, variables, key = apiKey) {
      const send = () =>
        fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
          body: JSON.stringify({ query, variables }),
        });
      // A kept-alive socket the server closes (keepAliveTimeout, after a long pause of a test) just as the client
      // reuses it resets before the request is read; sent once more, on a fresh connection.
      const response = await send().catch((err: { cause?: { code?: string } }) => {
        if (err?.cause?.code !== 'ECONNRESET') throw err;
        return send();
      });
      const body = (await response.json()) as Omit<GraphQLResponse<never>, 'status'>;
      return { status: response.status, ...body };
    },
    liveStats: () => server.liveStats(),
    metricsUrl: () => server.metricsUrl(),
    stop: () => server.stop(),
    async close() {
      await server.stop();
      await db.close();
    },
  };
}
