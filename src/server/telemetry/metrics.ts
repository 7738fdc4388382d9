import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Database } from '../../db/database.js';
import { LightCounter, LightHistogram } from './light-metrics.js';
import { routeOf, type RequestRecord } from './request-record.js';

/** Error codes that are the server's limits refusing work (rate, cost, depth, size, concurrency, deadline). */
const LIMIT_CODES = new Set([
  'RATE_LIMITED',
  'QUERY_TOO_COMPLEX',
  'QUERY_TOO_DEEP',
  'QUERY_TOO_LONG',
  'BATCH_TOO_LARGE',
  'PAYLOAD_TOO_LARGE',
  'RESPONSE_TOO_LARGE',
  'DEADLINE_EXCEEDED',
  'SERVICE_UNAVAILABLE',
  'TOO_MANY_SUBSCRIPTIONS',
  'PERSISTED_DOCUMENT_REQUIRED',
]);

/** Operation names are the client's: past this many distinct ones a process counts the rest as `(other)`. */
export const MAX_OPERATION_NAMES = 200;


/** Seconds: from a fast hot query (~0.3 ms) to the request deadline (15 s). */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];

/**
 * Process-wide metrics (CPU, memory, GC, handles, event-loop lag): facts about the process, not about one server, so
 * registered once per process however many servers it runs (tests run hundreds; each registration would add a GC
 * observer and an event-loop timer that nothing could remove).
 */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export type ServerMetrics = {
  contentType: string;
  /** The exposition text: this server's metrics, then the process's. */
  scrape(): Promise<string>;
  requestFinished(record: RequestRecord, status: number): void;
  /** Stops what samples in the background (the event-loop delay histogram). */
  stop(): void;
};

export type MetricsSources = {
  db: Database;
  live: () => { subscriptions: number; webSockets: number; eventStreams: number };
  admission: () => { running: number; queued: number };
};

export function createServerMetrics(sources: MetricsSources): ServerMetrics {
  const registry = new Registry();
  const requests = new LightCounter('agentgraph_http_requests_total', 'HTTP requests answered, by method, route and status.', ['method', 'route', 'status'], registry);
  const requestSeconds = new LightHistogram(
    'agentgraph_http_request_duration_seconds',
    'From the first byte of a request to the last byte of its answer.',
    ['method', 'route'],
    registry,
    LATENCY_BUCKETS,
  );
  const operations = new LightCounter(
    'agentgraph_graphql_operations_total',
    'GraphQL operations, by name, type, execution path (hot: compiled, without Apollo) and outcome.',
    ['operation_name', 'operation_type', 'path', 'outcome'],
    registry,
  );
  const operationSeconds = new LightHistogram(
    'agentgraph_graphql_operation_duration_seconds',
    'GraphQL operations from their start to their answer, by name and type.',
    ['operation_name', 'operation_type'],
    registry,
    LATENCY_BUCKETS,
  );
  const errors = new LightCounter(
    'agentgraph_graphql_errors_total',
    'Errors in GraphQL answers by extensions.code (refusals before any operation ran too), by operation name and type.',
    ['operation_name', 'operation_type', 'code'],
    registry,
  );
  const limitRefusals = new LightCounter('agentgraph_limit_refusals_total', 'Work refused by a limit (rate, cost, depth, size, deadline, admission), by code.', ['code'], registry);
  const statements = new LightHistogram('agentgraph_db_statement_duration_seconds', 'Database statements of requests and subscriptions (not background work).', [], registry, LATENCY_BUCKETS);
  const statementsPerRequest = new LightHistogram('agentgraph_db_statements_per_request', 'Statements one HTTP request ran.', [], registry, [0, 1, 2, 3, 5, 10, 20, 50, 100]);

  const { db } = sources;
  const pools = db.kind === 'postgres' ? [['main', db.pool] as const] : [];
  new Gauge({
    name: 'agentgraph_db_pool_connections',
    help: 'PostgreSQL pool connections by state: total (open), idle, in_use, waiting (requests waiting for one).',
    labelNames: ['pool', 'state'],
    registers: [registry],
    collect() {
      for (const [name, pool] of pools) {
        this.set({ pool: name, state: 'total' }, pool.totalCount);
        this.set({ pool: name, state: 'idle' }, pool.idleCount);
        this.set({ pool: name, state: 'in_use' }, pool.totalCount - pool.idleCount);
        this.set({ pool: name, state: 'waiting' }, pool.waitingCount);
      }
    },
  });
  new Gauge({
    name: 'agentgraph_live_connections',
    help: 'Open subscriptions, WebSockets and event streams on this process.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const live = sources.live();
      this.set({ kind: 'subscriptions' }, live.subscriptions);
      this.set({ kind: 'websockets' }, live.webSockets);
      this.set({ kind: 'event_streams' }, live.eventStreams);
    },
  });
  new Gauge({
    name: 'agentgraph_graphql_requests_in_flight',
    help: 'GraphQL requests executing (running) and waiting for their turn (queued, fair-admission.ts).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const admission = sources.admission();
      this.set({ state: 'running' }, admission.running);
      this.set({ state: 'queued' }, admission.queued);
    },
  });
  // The event loop's delay as a distribution since the previous scrape (prom-client's own gauge is process-wide).
  const loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  new Gauge({
    name: 'agentgraph_event_loop_delay_seconds',
    help: 'Event-loop delay since the previous scrape, by quantile (0.5, 0.99, 1 = max).',
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      for (const quantile of [0.5, 0.99]) this.set({ quantile: String(quantile) }, loopDelay.percentile(quantile * 100) / 1e9);
      this.set({ quantile: '1' }, loopDelay.max / 1e9);
      loopDelay.reset();
    },
  });

  const names = new Set<string>();
  const operationName = (name: string | null) => {
    if (!name) return '(anonymous)';
    if (names.has(name)) return name;
    if (names.size >= MAX_OPERATION_NAMES) return '(other)';
    names.add(name);
    return name;
  };
  const stopObservingStatements = db.onQuery((event) => statements.observe(event.durationMs / 1_000));

  return {
    contentType: registry.contentType,
    async scrape() {
      return `${await registry.metrics()}\n${await processMetrics().metrics()}`;
    },
    requestFinished(record, status) {
      const route = routeOf(record.path);
      requests.inc(record.method, route, String(status));
      requestSeconds.observe((performance.now() - record.startedAt) / 1_000, record.method, route);
      if (route === '/graphql') statementsPerRequest.observe(record.statements);
      for (const code of record.refusals) {
        errors.inc('(none)', '(none)', code);
        if (LIMIT_CODES.has(code)) limitRefusals.inc(code);
      }
      for (const operation of record.operations) {
        const name = operationName(operation.name);
        const type = operation.type ?? '(unknown)';
        operations.inc(name, type, operation.path, operation.errorCodes.length ? 'error' : 'ok');
        if (operation.durationMs !== null) operationSeconds.observe(operation.durationMs / 1_000, name, type);
        for (const code of operation.errorCodes) {
          errors.inc(name, type, code);
          if (LIMIT_CODES.has(code)) limitRefusals.inc(code);
        }
      }
    },
    stop() {
      loopDelay.disable();
      stopObservingStatements();
    },
  };
}
