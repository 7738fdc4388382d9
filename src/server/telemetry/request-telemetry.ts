import type { ApolloServerPlugin } from '@apollo/server';
import { Kind } from 'graphql';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { GraphQLContext } from '../../context.js';
import type { Database } from '../../db/database.js';
import type { SqlRunner } from '../../db/sql.js';
import { precomputedOf } from '../hot-operations.js';
import type { ServerMetrics } from './metrics.js';
import { codeOf, routeOf, startRequestRecord, tagErrorWithRequest, type ExecutionPath, type OperationRecord, type RequestRecord } from './request-record.js';
import type { Tracing } from './tracing.js';

/** Paths probed by load balancers and scrapers every few seconds: logged at debug level, not info. */
const PROBES = new Set(['/live', '/ready', '/health', '/metrics']);

export type RequestTelemetry = {
  /** Starts a request's record; when its answer is finished: metrics, the span's end, the access log line. */
  begin(req: IncomingMessage, res: ServerResponse): RequestRecord;
  /** The database as one request's work sees it: its statements counted (and traced) on its record. */
  database(db: Database, record: RequestRecord | undefined): Database;
  startOperation(record: RequestRecord | undefined, path: ExecutionPath): OperationRecord | null;
  finishOperation(operation: OperationRecord | null, errors?: ReadonlyArray<CodedError>): void;
  /** Apollo's side: every operation it runs (batches' each, GET, hot ones it reports) is an operation record. */
  plugin: ApolloServerPlugin<GraphQLContext>;
  stop(): Promise<void>;
};

type CodedError = { extensions?: { code?: unknown } | undefined };

export function createRequestTelemetry(options: { log: Logger; metrics: ServerMetrics | null; tracing: Tracing | null }): RequestTelemetry {
  const { log, metrics, tracing } = options;

  const finish = (record: RequestRecord, res: ServerResponse) => {
    const status = res.statusCode;
    metrics?.requestFinished(record, status);
    if (record.span && tracing) tracing.finishRequest(record.span, record.method, routeOf(record.path), status);
    const level = status >= 500 ? 'warn' : PROBES.has(record.path) ? 'debug' : 'info';
    if (!log.isLevelEnabled(level)) return;
    const entry = {
      requestId: record.id,
      method: record.method,
      path: record.path,
      status,
      ms: Math.round((performance.now() - record.startedAt) * 100) / 100,
      ...(record.operations.length ? { operations: record.operations.map((o) => `${o.type ?? 'unknown'} ${o.name ?? '(anonymous)'}`) } : {}),
      statements: record.statements,
      ...(record.refusals.length || record.operations.some((o) => o.errorCodes.length) ? { errors: [...record.refusals, ...record.operations.flatMap((o) => o.errorCodes)] } : {}),
      ...(res.writableFinished ? {} : { aborted: true }),
    };
    log[level](entry, status >= 500 ? 'request failed' : 'request');
  };

  const startOperation = (record: RequestRecord | undefined, path: ExecutionPath): OperationRecord | null =>
    record ? record.startOperation(path, tracing ? tracing.startOperation(record.span) : null) : null;

  const finishOperation = (operation: OperationRecord | null, errors?: ReadonlyArray<CodedError>) => {
    if (!operation || operation.durationMs !== null) return;
    operation.durationMs = performance.now() - operation.startedAt;
    for (const error of errors ?? []) operation.errorCodes.push(codeOf(error));
    if (operation.span && tracing) tracing.finishOperation(operation.span, operation);
  };

  /** Counts (and traces) each statement of a request; statements of background work use `backgroundSql`, not this. */
  const countedSql = (sql: SqlRunner, record: RequestRecord): SqlRunner => ({
    query<Row>(statement: Parameters<SqlRunner['query']>[0], queryOptions?: Parameters<SqlRunner['query']>[1]) {
      record.statements += 1;
      if (!tracing) return sql.query<Row>(statement, queryOptions);
      const span = tracing.startStatement(record.activeSpan, statement.text);
      return sql.query<Row>(statement, queryOptions).finally(() => span.end());
    },
  });

  /**
   * A request's database is an object over a prototype made once per database (its own fields, and the Prisma client
   * as the request sees it): a request sets two fields, where a copy of the database object cost 5 µs.
   */
  type RequestDatabase = Database & { record: RequestRecord; countedPrisma?: Database['prisma'] };
  const databaseViews = new WeakMap<Database, Database>();
  const viewOf = (db: Database): Database => {
    const prototype = Object.create(db, {
      // Prisma's own operations (a few writes) count one each; extending the client costs ~0.07 ms, so it is made
      // only for a request that uses it.
      prisma: {
        get(this: RequestDatabase) {
          const record = this.record;
          return (this.countedPrisma ??= db.prisma.$extends({
            query: {
              $allOperations({ args, query }) {
                record.statements += 1;
                if (!tracing) return query(args);
                const span = tracing.startStatement(record.activeSpan, 'prisma');
                return query(args).finally(() => span.end());
              },
            },
          }) as unknown as Database['prisma']);
        },
      },
    }) as Database;
    databaseViews.set(db, prototype);
    return prototype;
  };

  return {
    begin(req, res) {
      const record = startRequestRecord(req, res);
      if (tracing) record.span = tracing.startRequest(record.method, record.path, req.headers, record.id);
      // 'close' comes once the answer is written, and also for one the client did not wait for.
      res.once('close', () => finish(record, res));
      return record;
    },
    database(db, record) {
      if (!record) return db;
      const view = Object.create(databaseViews.get(db) ?? viewOf(db)) as RequestDatabase;
      view.sql = countedSql(db.sql, record);
      view.record = record;
      return view;
    },
    startOperation,
    finishOperation,
    plugin: {
      async requestDidStart({ contextValue, request }) {
        const record = contextValue.request;
        // A hot operation that failed is reported by Apollo: its record was started by the fast path.
        const hot = precomputedOf(contextValue) ? record?.operations.find((o) => o.path === 'hot' && o.durationMs === null) : undefined;
        const operation = hot ?? startOperation(record, 'apollo');
        if (operation && !hot) operation.name = request.operationName ?? null;
        return {
          async didResolveOperation({ operationName, operation: definition }) {
            if (!operation) return;
            operation.name = operationName ?? null;
            operation.type = definition?.operation ?? null;
          },
          async didEncounterErrors({ errors, document }) {
            // A document that failed validation resolved no operation: named from its only operation, if it has one.
            if (operation && operation.type === null && document) {
              const definitions = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
              if (definitions.length === 1) {
                operation.name ??= definitions[0]!.name?.value ?? null;
                operation.type = definitions[0]!.operation;
              }
            }
            // Tagged for the error formatter, which logs what it masks and is not given the context.
            if (record) for (const error of errors) tagErrorWithRequest(error, record.id);
          },
          async willSendResponse({ response }) {
            finishOperation(operation, response.body.kind === 'single' ? response.body.singleResult.errors : undefined);
          },
        };
      },
    },
    async stop() {
      metrics?.stop();
      await tracing?.shutdown();
    },
  };
}
