import { GraphQLError } from 'graphql';

/**
 * Every `extensions.code` the server answers; clients can switch on them. Code that builds an error with a literal
 * code types it as `ErrorCode`, so a new code is added here (and to the table in docs/RELIABILITY.md).
 */
export type ErrorCode =
  // Raised by the API (src/errors.ts).
  /** No valid API key (HTTP 401 when the whole request is refused). */
  | 'UNAUTHENTICATED'
  /** The key lacks the permission. */
  | 'FORBIDDEN'
  /** The id names nothing, or another user's row. */
  | 'NOT_FOUND'
  /** An argument or variable is invalid (also Apollo's code for variables that do not coerce). */
  | 'BAD_USER_INPUT'
  /** A stale version, an illegal transition, or a write race settled by the database. */
  | 'CONFLICT'
  // Raised by the limits (server/limits.ts, server/rate-limit.ts).
  /** Selections nest deeper than the limit (400). */
  | 'QUERY_TOO_DEEP'
  /** The estimated cost of the request is over the limit (400). */
  | 'QUERY_TOO_COMPLEX'
  /** A document is longer than the limit; refused before it is parsed (400). */
  | 'QUERY_TOO_LONG'
  /** A batch is empty or holds too many operations (400). */
  | 'BATCH_TOO_LARGE'
  /** The body is over the size limit (413). */
  | 'PAYLOAD_TOO_LARGE'
  /** The serialized answer would be over the size limit (400). */
  | 'RESPONSE_TOO_LARGE'
  /** The key or address went over a rate limit (429, `Retry-After`). */
  | 'RATE_LIMITED'
  /** The request or one of its statements ran past its time limit. */
  | 'DEADLINE_EXCEEDED'
  /** The key has as many subscriptions (or live connections) open as it may (server/live). */
  | 'TOO_MANY_SUBSCRIPTIONS'
  /** A subscriber that did not read its events fast enough; its subscription was ended (server/live). */
  | 'SLOW_CONSUMER'
  /** The server is stopping; its subscriptions end (subscribe again: another process answers). */
  | 'SHUTTING_DOWN'
  // Given by the error formatter (server/errors.ts).
  /** The database cannot be reached. */
  | 'SERVICE_UNAVAILABLE'
  /** Anything else that failed on our side; the detail goes to the log only. */
  | 'INTERNAL_SERVER_ERROR'
  // Apollo's request-level codes (BAD_REQUEST is also ours: unreadable bodies, uncoded request-level errors).
  /** The body is not a GraphQL request (not JSON, not UTF-8, a GET mutation, no CSRF header, …). */
  | 'BAD_REQUEST'
  /** The document does not parse, or has too many tokens (400). */
  | 'GRAPHQL_PARSE_FAILED'
  /** The document does not fit the schema (400). */
  | 'GRAPHQL_VALIDATION_FAILED'
  /** `operationName` names no operation of the document, or it has several and none is named (400). */
  | 'OPERATION_RESOLUTION_FAILURE'
  /** The request asks for an automatic persisted query; they are off (HTTP 200, as Apollo answers it). */
  | 'PERSISTED_QUERY_NOT_SUPPORTED'
  // Persisted documents (server/persisted-documents.ts).
  /** No loaded manifest holds the document id sent (HTTP 200, as Apollo answers it). */
  | 'PERSISTED_QUERY_NOT_FOUND'
  /** PERSISTED_DOCUMENTS=only, and the document is not in a loaded manifest (400). */
  | 'PERSISTED_DOCUMENT_REQUIRED';

function error(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}, httpStatus?: number) {
  return new GraphQLError(message, {
    extensions: { code, ...extensions, ...(httpStatus ? { http: { status: httpStatus } } : {}) },
  });
}

/** `httpStatus` is set when the whole request is refused (a bad key), not when one field needs a viewer. */
export const unauthenticated = (message = 'A valid API key is required: send `Authorization: Bearer <key>`.', httpStatus?: number) =>
  error('UNAUTHENTICATED', message, {}, httpStatus);

export const forbidden = (message: string) => error('FORBIDDEN', message);

/** Also what another user's ids answer, so ids cannot be probed. */
export const notFound = (what: string, id: string) => error('NOT_FOUND', `${what} ${id} was not found.`);

export const badUserInput = (message: string, argument?: string) =>
  error('BAD_USER_INPUT', message, argument ? { argument } : {});

export const conflict = (message: string) => error('CONFLICT', message);

/**
 * A graph (to write or to run) that breaks rules of the block catalogue: BAD_USER_INPUT with every problem in
 * `extensions.problems`, so a client can show them all at once; the message names the first few.
 */
export function brokenGraph(what: string, problems: ReadonlyArray<{ message: string }>, argument: string) {
  const shown = problems.slice(0, 3).map((problem) => problem.message).join(' ');
  const more = problems.length > 3 ? ` (and ${problems.length - 3} more problems: see extensions.problems)` : '';
  return error('BAD_USER_INPUT', `${what} breaks rules of the block catalogue. ${shown}${more}`, { argument, problems });
}
