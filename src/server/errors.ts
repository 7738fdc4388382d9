import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors.js';
import { requestIdOfError } from './telemetry/request-record.js';

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);
/** What Prisma's driver adapters call a lost or unreachable database. */
const ADAPTER_UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'DatabaseDoesNotExist']);

type AdapterCause = { kind?: string; originalCode?: string };
const adapterCause = (error: unknown): AdapterCause | undefined =>
  (error as { meta?: { driverAdapterError?: { cause?: AdapterCause } } })?.meta?.driverAdapterError?.cause;

type ErrorLike = { code?: unknown; message?: unknown; cause?: unknown };

/** Whether the error or one of its causes (a few levels down: driver, adapter, Prisma) matches. */
function anyCause(error: unknown, matches: (candidate: ErrorLike) => boolean): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    if (matches(e as ErrorLike)) return true;
    e = (e as ErrorLike).cause;
  }
  return false;
}

const UNAVAILABLE_MESSAGE = /ECONNREFUSED|Connection terminated|timeout exceeded when trying to connect|DatabaseNotReachable|Query read timeout/i;

const isDatabaseUnavailable = (error: unknown) =>
  anyCause(error, (candidate) => {
    if (typeof candidate.code === 'string' && CONNECTION_ERROR_CODES.has(candidate.code)) return true;
    const cause = adapterCause(candidate);
    if (cause && ((cause.kind && ADAPTER_UNAVAILABLE_KINDS.has(cause.kind)) || (cause.originalCode && CONNECTION_ERROR_CODES.has(cause.originalCode)))) return true;
    return typeof candidate.message === 'string' && UNAVAILABLE_MESSAGE.test(candidate.message);
  });

/** PostgreSQL cancelled the statement at its statement_timeout (SQLSTATE 57014): the request asked too much. */
const statementTimedOut = (error: unknown) =>
  anyCause(
    error,
    (candidate) =>
      candidate.code === '57014' ||
      adapterCause(candidate)?.originalCode === '57014' ||
      (typeof candidate.message === 'string' && /canceling statement due to statement timeout/i.test(candidate.message)),
  );

/** Races the database settled (a unique key taken meanwhile, a serialization failure or deadlock) are the client's to retry. */
function writeConflict(error: unknown): string | null {
  const e = error as { code?: unknown };
  const cause = adapterCause(error);
  // Prisma's codes, its adapters' kinds, or PostgreSQL's SQLSTATE (statements sent with db.sql).
  if (e?.code === 'P2002' || e?.code === '23505' || cause?.kind === 'UniqueConstraintViolation') return 'The write conflicts with data stored meanwhile; read it again and retry.';
  if (e?.code === 'P2034' || e?.code === '40001' || e?.code === '40P01' || cause?.kind === 'TransactionWriteConflict' || cause?.originalCode === '40001' || cause?.originalCode === '40P01') {
    return 'The write raced with another one and was rolled back; retry it.';
  }
  return null;
}

const CLIENT_REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** graphql-js's hint at the end of validation and coercion messages: `… Did you mean "name"?` names schema members. */
const SCHEMA_HINT = /\s*Did you mean .*\?$/;

export type ErrorFormatterOptions = {
  /** Keep "Did you mean …?" hints. They reveal the schema, so they go where introspection is off. Default on. */
  schemaHints?: boolean;
};

/**
 * Errors the API raised on purpose (a GraphQLError with a code) go to the client as they are; anything else
 * is an internal error: logged with its detail, shown to the client only as a code and a generic message.
 */
export function createErrorFormatter(log: Logger, options: ErrorFormatterOptions = {}) {
  const clientMessage = options.schemaHints === false ? (message: string) => message.replace(SCHEMA_HINT, '') : (message: string) => message;
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    // Apollo's own request-level codes (parse, validation, bad variables, …) are the client's errors, even when a
    // non-GraphQL error (say, a stack overflow on absurd input) sits underneath.
    if (!formatted.path && typeof code === 'string' && CLIENT_REQUEST_CODES.has(code)) return { message: clientMessage(formatted.message), locations: formatted.locations, path: formatted.path, extensions: { code } };
    let original = unwrapResolverError(error);
    // Errors thrown while building the context arrive wrapped in another GraphQLError.
    while (original instanceof GraphQLError && original.originalError) original = original.originalError;
    if (original instanceof GraphQLError) {
      if (typeof original.extensions?.code === 'string') return options.schemaHints === false ? { ...formatted, message: clientMessage(formatted.message) } : formatted;
      // Uncoded request-level errors (e.g. an unsupported operation type) are the client's; an uncoded error
      // at a field path is ours (say, null for a non-null field) and is masked below.
      if (!formatted.path) return { ...formatted, message: clientMessage(formatted.message), extensions: { code: 'BAD_REQUEST' satisfies ErrorCode } };
    }
    const requestId = requestIdOfError(error);
    const conflictMessage = writeConflict(original);
    if (conflictMessage) {
      log.info({ requestId, err: original, path: formatted.path }, 'write conflict');
      return { message: conflictMessage, path: formatted.path, extensions: { code: 'CONFLICT' satisfies ErrorCode } };
    }
    if (statementTimedOut(original)) {
      log.warn({ requestId, err: original, path: formatted.path }, 'statement timeout');
      return { message: 'A database statement of this request ran past its time limit; ask for less, or retry later.', path: formatted.path, extensions: { code: 'DEADLINE_EXCEEDED' satisfies ErrorCode } };
    }
    if (isDatabaseUnavailable(original)) {
      log.warn({ requestId, err: original, path: formatted.path }, 'database unavailable');
      return { message: 'The database is unavailable; try again shortly.', path: formatted.path, extensions: { code: 'SERVICE_UNAVAILABLE' satisfies ErrorCode } };
    }
    log.error({ requestId, err: original, path: formatted.path }, 'internal error');
    return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' satisfies ErrorCode } };
  };
}
