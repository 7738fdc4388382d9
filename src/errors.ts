import { GraphQLError } from 'graphql';

/** The stable `extensions.code` values clients can switch on. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

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

export const serviceUnavailable = (message = 'The database is unavailable; try again shortly.') =>
  error('SERVICE_UNAVAILABLE', message, {}, 503);
