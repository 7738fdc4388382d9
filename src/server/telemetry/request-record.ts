import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Span } from '@opentelemetry/api';

/** How an operation was executed: compiled without Apollo's pipeline (hot), or by Apollo. */
export type ExecutionPath = 'hot' | 'apollo';

/** One GraphQL operation of a request (a batch has several), as metrics, traces and the access log see it. */
export type OperationRecord = {
  /** The operation's name as the client gave it; null for an anonymous one or one that never resolved. */
  name: string | null;
  /** query, mutation or subscription; null when the document did not parse or name an operation. */
  type: string | null;
  path: ExecutionPath;
  /** `extensions.code` of each error of its answer (refusals included). */
  errorCodes: string[];
  startedAt: number;
  durationMs: number | null;
  span: Span | null;
};

/**
 * What one HTTP request did, kept from its first byte to its last: its id, its operations, its statements and the
 * codes it was refused or failed with. Made in the HTTP server's request listener, on every path (the fast path,
 * hot operations, Express and Apollo, GET, batches, event streams), and read when the answer is finished.
 */
export class RequestRecord {
  readonly startedAt = performance.now();
  readonly operations: OperationRecord[] = [];
  /** Codes of refusals written before any operation ran (a body, batch or persisted-document refusal, a bad key). */
  readonly refusals: string[] = [];
  statements = 0;
  /** The HTTP server span when tracing is on. */
  span: Span | null = null;
  /** Taken when the request arrives: Express rewrites `req.url` while a mounted router handles it. */
  readonly path: string;

  constructor(
    readonly id: string,
    readonly method: string,
    url: string,
  ) {
    const query = url.indexOf('?');
    this.path = query === -1 ? url : url.slice(0, query);
  }

  startOperation(path: ExecutionPath, span: Span | null = null): OperationRecord {
    const operation: OperationRecord = { name: null, type: null, path, errorCodes: [], startedAt: performance.now(), durationMs: null, span };
    this.operations.push(operation);
    return operation;
  }

  /** The span statements of this request are children of: the operation running last, else the request's own. */
  get activeSpan(): Span | null {
    for (let i = this.operations.length - 1; i >= 0; i--) {
      const operation = this.operations[i]!;
      if (operation.span && operation.durationMs === null) return operation.span;
    }
    return this.span;
  }
}

/** Routes as metric labels and span names: the server's own paths, anything else `other` (a scanner adds none). */
const ROUTES = ['/graphql', '/graphiql', '/dashboard', '/health', '/live', '/ready', '/metrics'];
export const routeOf = (path: string) => ROUTES.find((route) => path === route || path.startsWith(`${route}/`)) ?? 'other';

const RECORD = Symbol('agentgraph.request');

/** A request id a client may choose: short, printable, no spaces (it is echoed in a header and written to logs). */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * Starts a request's record: its id is the client's `x-request-id` when that is a sensible one, else a new UUID, and
 * the answer carries it back (every path writes its headers after this, so they keep it).
 */
export function startRequestRecord(req: IncomingMessage, res: ServerResponse): RequestRecord {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
  const record = new RequestRecord(id, req.method ?? 'GET', req.url ?? '');
  (req as IncomingMessage & { [RECORD]?: RequestRecord })[RECORD] = record;
  res.setHeader('x-request-id', id);
  return record;
}

/** The record of a request (absent for requests made outside the HTTP server, as some tests do). */
export const requestRecordOf = (req: IncomingMessage): RequestRecord | undefined => (req as IncomingMessage & { [RECORD]?: RequestRecord })[RECORD];

/** An error's `extensions.code` as the client reads it: an uncoded error is masked as an internal one. */
export function codeOf(error: unknown): string {
  const code = (error as { extensions?: { code?: unknown } } | null)?.extensions?.code;
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
}

/** Notes a refusal written outside any operation (body, batch, persisted document, authentication). */
export function recordRefusal(req: IncomingMessage, code: string): void {
  requestRecordOf(req)?.refusals.push(code);
}

const REQUEST_ID = Symbol('agentgraph.requestId');

/** Marks an error with the request it was raised in: the error formatter logs what it masks and has no context. */
export function tagErrorWithRequest(error: object, requestId: string): void {
  (error as { [REQUEST_ID]?: string })[REQUEST_ID] = requestId;
}

export const requestIdOfError = (error: unknown): string | undefined => (error as { [REQUEST_ID]?: string } | null)?.[REQUEST_ID];
