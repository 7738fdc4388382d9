import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { GraphQLContext, RequestBudget } from '../context.js';
import { unauthenticated } from '../errors.js';
import type { Database } from '../db/database.js';
import { startFolding } from '../modules/stats/rollup-folder.js';
import { createDashboardRouter, createPlaygroundRouter } from '../http/playground.js';
import { PLAYGROUND_DEFAULT_QUERY } from '../http/playground-examples.js';
import { createApiKeyCache } from '../modules/auth/api-key-cache.js';
import { authenticate, bearerToken } from '../modules/auth/authenticate.js';
import { createApiKeyAccess } from '../modules/auth/api-key-access.js';
import { createLoaders } from '../modules/loaders.js';
import { resolvers } from '../modules/resolvers.js';
import { buildExecutableSchema } from '../schema-files.js';
import { compiledExecutionGateway } from './compiled-execution.js';
import { createErrorFormatter } from './errors.js';
import { graphqlFastPath } from './graphql-fast-path.js';
import { createHealthRouter } from './health.js';
import { createServerMetrics, type ServerMetrics } from './telemetry/metrics.js';
import { codeOf, recordRefusal, requestRecordOf, type RequestRecord } from './telemetry/request-record.js';
import { createRequestTelemetry } from './telemetry/request-telemetry.js';
import type { Tracing } from './telemetry/tracing.js';
import { createRateLimiter, createTarpit, type RateLimitOptions } from './rate-limit.js';
import { cors, securityHeaders } from './security.js';
import { MAX_COMPILED_QUERY_LENGTH, REQUEST_LIMITS, batchLimit, bodyErrors, documentLengthRefusal, limitResponses, operationLimits, refuseInvalidUtf8 } from './limits.js';
import { assertEveryListBounded } from './cost/field-costs.js';
import { enforceFieldAuth } from '../modules/auth/field-auth.js';
import { requireReadableAnswer } from '../modules/auth/readable-answers.js';
import { createHotOperations } from './hot-operations.js';
import { createFairAdmission } from './fair-admission.js';
import { apiKeyPrefix } from '../modules/auth/api-key-secret.js';
import { DEFAULT_LIVE_LIMITS, LiveHub, type LiveLimits } from '../live/live-hub.js';
import { startLiveUpdates } from '../modules/live-updates.js';
import { createLiveOperations } from './live/live-operations.js';
import { attachWebSocketTransport } from './live/websocket.js';
import { createSseHandler, wantsEventStream } from './live/sse.js';
import { createStallWatch } from './live/stall-watch.js';
import { persistedDocumentsMiddleware, type PersistedDocuments } from './persisted-documents.js';
import { listenOn } from './starting.js';

/**
 * The per-request context. Its logger is made when something logs: most requests log nothing, and a pino child per
 * request (its bindings serialized up front) was measurable at thousands of requests per second. A class, with the
 * logger behind a getter on its prototype: Apollo hands resolvers a copy of the context (`Object.assign` onto an
 * object of the same prototype), which would call a getter of the object itself and make the logger every time.
 */
class RequestContext implements GraphQLContext {
  /** Shared by Apollo's copies of this context, so a request logs with one request id. */
  private readonly lazyLog: { logger?: Logger } = {};
  constructor(
    readonly viewer: GraphQLContext['viewer'],
    readonly loaders: GraphQLContext['loaders'],
    readonly db: GraphQLContext['db'],
    private readonly serverLog: Logger,
    readonly apiKeyCache: GraphQLContext['apiKeyCache'],
    readonly budget: RequestBudget,
    readonly request: RequestRecord | undefined,
  ) {}
  get log(): Logger {
    return (this.lazyLog.logger ??= this.serverLog.child({ requestId: this.request?.id ?? randomUUID() }));
  }
}

export type ServerOptions = {
  db: Database;
  log: Logger;
  /** Headers the playground opens with (the demo API key on the embedded database). */
  playgroundHeaders?: Record<string, string>;
  introspection?: boolean;
  playground?: boolean;
  /** The /dashboard page (src/http/dashboard); default: as `playground`. */
  dashboard?: boolean;
  corsOrigins?: string[];
  /** How long a verified API key is trusted without reading it again (0: every request reads it). */
  apiKeyCacheMs?: number;
  /** Per-API-key operation and cost rates, per-address authentication failures; absent turns limiting off. */
  rateLimit?: RateLimitOptions;
  /** How long a 429 answer waits before it is written (default 1 s; rate-limit.ts's tarpit). */
  rateLimitDelayMs?: number;
  /** How long a request may execute before it is answered DEADLINE_EXCEEDED (default 15 s). */
  requestTimeoutMs?: number;
  /** Executions of a document on graphql-js before it is compiled (graphql-jit); 0 compiles at once. Default 2. */
  compileAfterUses?: number;
  /** GraphQL requests processed at once; more wait, admitted one client at a time in turn (fair-admission.ts). */
  maxConcurrentRequests?: number;
  /** How often the statistics changes are folded into the rollups (src/modules/stats/rollup-folder.ts); default 1 s. */
  statsFoldIntervalMs?: number;
  /** Documents accepted by id, and whether only those are run (persisted-documents.ts); absent: ids are refused by Apollo. */
  persistedDocuments?: PersistedDocuments;
  /** Subscriptions (src/live): per-key limits and bounded queues, and how often live keys are checked (default 5 s). */
  live?: Partial<LiveLimits> & { keyCheckMs?: number };
  /**
   * Prometheus metrics (telemetry/metrics.ts): `false` for none; by default served at /metrics on the API's port,
   * or on a listener of their own with `port` (then not on the API's port at all).
   */
  metrics?: false | { port?: number; host?: string };
  /** OpenTelemetry spans (telemetry/tracing.ts); absent: no tracing. */
  tracing?: Tracing | null;
  /** A server listening already (boot's starting listener, starting.ts), taken over instead of a new one. */
  httpServer?: http.Server;
};

export type AppServer = {
  httpServer: http.Server;
  listen(port: number, host: string): Promise<{ url: string }>;
  /** Hot operations (hot-operations.ts): how many are kept, and how many requests were executed as such. */
  hotOperationStats(): { operations: number; requests: number };
  /** Subscriptions, WebSockets and event streams open on this process. */
  liveStats(): { subscriptions: number; webSockets: number; eventStreams: number };
  /** Where metrics are served on their own port, once listening; null when they are not. */
  metricsUrl(): string | null;
  /** /ready answers 503 `draining` from now on, while requests are still served (a load balancer's time to see it). */
  beginDraining(): void;
  /** Stops accepting connections, lets in-flight requests finish, then stops Apollo. */
  stop(): Promise<void>;
};

export async function createServer(options: ServerOptions): Promise<AppServer> {
  const { db, log } = options;
  const app = express();
  app.disable('x-powered-by');
  // No ETag: a SHA-1 of every response body, for POSTed GraphQL answers that no cache may reuse.
  app.set('etag', false);
  app.use(securityHeaders);
  // POST /graphql with a JSON body takes the fast path (graphql-fast-path.ts); everything else is Express's.
  let fastPath: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean) | null = null;
  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!fastPath?.(req, res)) app(req, res);
  };
  const maxConcurrent = options.maxConcurrentRequests ?? 0;
  const admission = createFairAdmission({ maxConcurrent: maxConcurrent > 0 ? maxConcurrent : Infinity, maxQueued: 2_000 });
  let eventStreams: ReturnType<typeof createSseHandler> | null = null;
  const metrics: ServerMetrics | null =
    options.metrics === false
      ? null
      : createServerMetrics({
          db,
          // Scraped only once listening, when the live transports below exist.
          live: () => liveStats(),
          admission: () => admission.stats(),
        });
  const telemetry = createRequestTelemetry({ log, metrics, tracing: options.tracing ?? null });
  let draining = false;
  const httpServer = options.httpServer ?? http.createServer();
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    // Every request has a record from here on (its id, operations and statements; metrics, spans, the access log).
    telemetry.begin(req, res);
    // An event stream lasts as long as its subscription: it is limited per key (live-hub.ts), not admitted as a request.
    if (eventStreams && req.url?.startsWith('/graphql') && wantsEventStream(req)) {
      eventStreams.handle(req, res).catch((err: unknown) => {
        log.error({ err, requestId: requestRecordOf(req)?.id }, 'event stream failed');
        res.destroy();
      });
    } else if (req.url?.startsWith('/graphql')) admission.admit(clientOf(req), res, () => handle(req, res), () => recordRefusal(req, 'SERVICE_UNAVAILABLE'));
    else handle(req, res);
  };
  // A client that trickles its request cannot hold a connection for long.
  httpServer.headersTimeout = 10_000;
  httpServer.requestTimeout = 30_000;
  const rateLimiter = options.rateLimit ? createRateLimiter(options.rateLimit) : null;
  const parkAnswer = createTarpit({ delayMs: options.rateLimitDelayMs ?? 1_000, maxPending: 1_000 });
  // A parked 429 holds no work: its admission slot goes to the next client.
  const tarpit = (send: () => void, res?: http.ServerResponse) => {
    if (res) admission.release(res);
    parkAnswer(send);
  };
  const requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
  const apiKeyCache = createApiKeyCache({ ttlMs: options.apiKeyCacheMs ?? 5_000, maxEntries: 10_000 });
  /** Who a request is for fairness: its API key once verified (by prefix), else its address (made-up keys share it). */
  const clientOf = (req: http.IncomingMessage): string => {
    const key = bearerToken(req.headers.authorization);
    const prefix = key ? apiKeyPrefix(key) : null;
    return prefix && apiKeyCache.recentlyVerified(prefix) ? prefix : `address ${req.socket.remoteAddress ?? 'unknown'}`;
  };

  const schema = buildExecutableSchema(resolvers);
  assertEveryListBounded(schema);
  enforceFieldAuth(schema, requireReadableAnswer);
  const limits = operationLimits(schema, REQUEST_LIMITS, rateLimiter);
  // Operations executed compiled are answered from then on without Apollo's pipeline (hot-operations.ts).
  const hotOperations = createHotOperations({
    maxEntries: 1_000,
    maxQueryLength: 20_000,
    check: limits.check,
  });
  const apollo = new ApolloServer<GraphQLContext>({
    gateway: compiledExecutionGateway(schema, {
      compileAfterUses: options.compileAfterUses ?? 2,
      maxCompiledQueryLength: MAX_COMPILED_QUERY_LENGTH,
      log,
      onCompiledExecution: hotOperations.remember,
    }),
    introspection: options.introspection ?? true,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: true,
    // main.ts owns shutdown (drain HTTP, then close the database); Apollo's own signal handler would race it.
    stopOnTerminationSignals: false,
    // Automatic persisted queries are not offered: every request carries its document.
    persistedQueries: false,
    parseOptions: { maxTokens: REQUEST_LIMITS.maxTokens },
    // "Did you mean …?" hints name schema members: they go with introspection.
    formatError: createErrorFormatter(log, { schemaHints: options.introspection ?? true }),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      // No cache hints are set anywhere; the plugin would only wrap every field resolution.
      ApolloServerPluginCacheControlDisabled(),
      // Nothing is reported to Apollo's cloud (which this machine could not reach), whatever APOLLO_KEY says. These
      // plugins hook every request, which hot operations skip: they must stay off while that path is open.
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      limits.plugin,
      // Per-request hooks: the hot path records its operations itself (graphql-fast-path.ts), as this plugin would.
      telemetry.plugin,
    ],
    logger: log,
  });
  await apollo.start();

  // Every request needs a valid key: none and a bad one are refused alike (401) before anything executes, and an
  // address that keeps failing is refused without a database lookup (a key verified moments ago still passes: it
  // needs none). Operations are charged in the limits plugin.
  const apiKeys = createApiKeyAccess(db.sql, log);
  const context = async (req: http.IncomingMessage, body: unknown): Promise<GraphQLContext> => {
    const record = requestRecordOf(req);
    try {
      return await requestContext(req, body, record);
    } catch (err) {
      // Refused before any operation started (Apollo runs no plugin for a failed context): noted on the record here.
      if (record) recordRefusal(req, codeOf(err));
      throw err;
    }
  };
  const requestContext = async (req: http.IncomingMessage, body: unknown, record: RequestRecord | undefined): Promise<GraphQLContext> => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const checkAddress = rateLimiter ? () => rateLimiter.checkAddress(address) : undefined;
    if (!req.headers.authorization) checkAddress?.();
    const viewer = await authenticate(apiKeys, req.headers.authorization, apiKeyCache, checkAddress).catch((err: unknown) => {
      rateLimiter?.authenticationFailed(address);
      throw err;
    });
    if (!viewer) {
      rateLimiter?.authenticationFailed(address);
      throw unauthenticated(undefined, 401);
    }
    // A key out of operations or cost is refused before its document is even parsed; so is an over-long document.
    rateLimiter?.checkKey(viewer.apiKeyId);
    const tooLong = documentLengthRefusal(body, REQUEST_LIMITS.maxDocumentLength);
    if (tooLong) {
      limits.chargeRefusal({ viewer });
      throw tooLong;
    }
    const budget: RequestBudget = {
      spentCost: 0,
      deadline: Date.now() + requestTimeoutMs,
      chargeWork: (cost) => rateLimiter?.chargeCost(viewer.apiKeyId, cost),
    };
    const requestDb = telemetry.database(db, record);
    return new RequestContext(viewer, createLoaders(requestDb), requestDb, log, apiKeyCache, budget, record);
  };

  app.use(createHealthRouter({ db, log, draining: () => draining }));
  const metricsPort = options.metrics ? options.metrics.port : undefined;
  let metricsServer: http.Server | null = null;
  if (metrics) {
    const serveMetrics = (_req: http.IncomingMessage, res: http.ServerResponse) => {
      metrics.scrape().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
          res.end(text);
        },
        (err: unknown) => {
          log.error({ err }, 'metrics scrape failed');
          res.writeHead(500).end();
        },
      );
    };
    if (metricsPort === undefined) app.get('/metrics', serveMetrics);
    else metricsServer = http.createServer((req, res) => (req.method === 'GET' && req.url?.split('?')[0] === '/metrics' ? serveMetrics(req, res) : res.writeHead(404).end()));
  }

  if (options.playground ?? true) {
    app.use('/graphiql', createPlaygroundRouter({ graphqlPath: '/graphql', defaultHeaders: options.playgroundHeaders, defaultQuery: PLAYGROUND_DEFAULT_QUERY, title: 'agentgraph' }));
    app.get('/', (_req, res) => res.redirect('/graphiql'));
  }
  if (options.dashboard ?? options.playground ?? true) {
    app.use('/dashboard', createDashboardRouter({ graphqlPath: '/graphql', defaultHeaders: options.playgroundHeaders }));
  }

  app.use(
    '/graphql',
    cors(options.corsOrigins ?? []),
    express.json({ limit: REQUEST_LIMITS.maxBodyBytes, verify: refuseInvalidUtf8 }),
    bodyErrors,
    batchLimit(REQUEST_LIMITS.maxBatch),
    ...(options.persistedDocuments ? [persistedDocumentsMiddleware(options.persistedDocuments)] : []),
    limitResponses(REQUEST_LIMITS.maxResponseBytes, tarpit),
    expressMiddleware(apollo, { context: ({ req }) => context(req, req.body) }),
  );
  fastPath = graphqlFastPath({
    apollo,
    hotOperations,
    persistedDocuments: options.persistedDocuments,
    context,
    corsOrigins: options.corsOrigins ?? [],
    log,
    limits: REQUEST_LIMITS,
    admit: (requestContext, hot) => limits.admit(requestContext, hot.analysis),
    tarpit,
    telemetry,
  });

  const folding = startFolding(db.backgroundSql, log, options.statsFoldIntervalMs ?? 1_000);

  const hub = new LiveHub({ ...DEFAULT_LIVE_LIMITS, ...options.live });
  const liveOperations = createLiveOperations({
    schema,
    db,
    log,
    hub,
    apiKeys,
    apiKeyCache,
    rateLimiter,
    limits,
    formatError: createErrorFormatter(log, { schemaHints: options.introspection ?? true }),
    requestTimeoutMs,
    persistedDocuments: options.persistedDocuments,
  });
  const stalls = createStallWatch(hub.limits.stallMs);
  const webSockets = attachWebSocketTransport({ httpServer, path: '/graphql', operations: liveOperations, hub, log, stalls });
  eventStreams = createSseHandler({ operations: liveOperations, hub, corsOrigins: options.corsOrigins ?? [], stalls });
  let stopping: Promise<void> | null = null;
  const liveUpdates = await startLiveUpdates({ db, log, hub, apiKeyCache, keyCheckMs: options.live?.keyCheckMs ?? 5_000 });
  let metricsUrl: string | null = null;
  // Requests reach this server only now that it is whole. A listener that answered while the server started
  // (starting.ts) has its handler replaced.
  httpServer.removeAllListeners('request');
  httpServer.on('request', onRequest);

  return {
    httpServer,
    async listen(port, host) {
      const url = await listenOn(httpServer, port, host);
      if (metricsServer) metricsUrl = await listenOn(metricsServer, metricsPort!, options.metrics ? (options.metrics.host ?? host) : host);
      return { url };
    },
    hotOperationStats: hotOperations.stats,
    liveStats,
    metricsUrl: () => metricsUrl,
    beginDraining: () => {
      draining = true;
    },
    stop: () => (stopping ??= stopAll()),
  };

  function liveStats() {
    return { subscriptions: hub.subscriptionCount, webSockets: webSockets.connections, eventStreams: eventStreams?.streams ?? 0 };
  }

  async function stopAll(): Promise<void> {
    // Not ready from now on (/ready answers 503), while what is in flight finishes.
    draining = true;
    // Subscriptions end first (SHUTTING_DOWN), so that draining HTTP does not wait for streams that never end.
    hub.close();
    // A moment for the endings to be written out (subscribers that do not read are not waited for).
    for (const started = Date.now(); hub.subscriptionCount > 0 && Date.now() - started < 1_000; ) await new Promise((resolve) => setTimeout(resolve, 20));
    await liveUpdates.stop();
    await webSockets.close();
    eventStreams?.close();
    stalls.stop();
    // Apollo refuses requests once it stops; hot operations must not outlive it.
    hotOperations.close();
    await apollo.stop();
    await folding.stop();
    await new Promise<void>((resolve) => (metricsServer?.listening ? metricsServer.close(() => resolve()) : resolve()));
    await telemetry.stop();
  }
}
