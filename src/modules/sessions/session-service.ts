/**
 * Sessions: policy (permissions, ownership, validation) and the reads; the writes are in session-mutations.ts.
 * Another user's session answers NOT_FOUND exactly like a missing one, on every path. The JSON columns (a session's
 * metadata and state, an event's content, actions and metadata) are read only when the query selects them.
 */
import type { GraphQLContext } from '../../context.js';
import type { SessionEventFilter, SessionFilter, SessionOrder } from '../../generated/graphql.js';
import type { SessionStatus } from '../../generated/prisma/client.js';
import { badUserInput, notFound } from '../../errors.js';
import { canSeeOwner, ownerScope, requireViewer } from '../auth/guards.js';
import type { Viewer } from '../auth/viewer.js';
import type { Connection } from '../shared/connection.js';
import { conflictingOwnerFilter, connectionFromPage, emptyConnection } from '../shared/connection.js';
import { isUuid } from '../shared/ids.js';
import { memoizeByObject } from '../shared/memo.js';
import { decodeCursor, encodeCursor, MAX_PAGE_SIZE, pageSize } from '../shared/pagination.js';
import { countEvents, eventJsonOf, type EventJsonField, type EventListFilter, type SessionEventRow } from './event-store.js';
import { countSessions, listSessions, sessionCursor, sessionJsonOf, type SessionJsonField, type SessionListQuery, type SessionRow } from './session-store.js';
import { checkJson as checkJsonShared, checkText } from '../shared/input.js';

// ---- limits ----
export const MAX_EVENTS_PER_APPEND = 500;
/** Names and ids (appName, agentId, author, invocationId, branch, clientEventId, filter strings). */
export const MAX_STRING_LENGTH = 1024;
/** Serialized JSON sizes, in bytes. */
export const MAX_CONTENT_JSON = 256 * 1024;
export const MAX_JSON = 64 * 1024;
export const MAX_FILTER_JSON = 8 * 1024;

// ---- validation ----

// Strings and JSON go through the shared checks (NUL, invalid Unicode, nesting depth, size).
export function checkString(value: string | null | undefined, argument: string, options: { required?: boolean } = {}): string | null {
  if (value === null || value === undefined) {
    if (options.required) throw badUserInput(`\`${argument}\` is required.`, argument);
    return null;
  }
  return checkText(value, argument, { max: MAX_STRING_LENGTH, allowEmpty: !options.required });
}

export function checkJson<T>(value: T, argument: string, maxBytes = MAX_JSON): T {
  return checkJsonShared(value, argument, { maxBytes });
}

export function checkId(id: string | null | undefined, argument: string): string | null {
  if (id === null || id === undefined) return null;
  if (!isUuid(id)) throw badUserInput(`\`${argument}\` must be a uuid.`, argument);
  return id;
}

export function checkVersion(expectedVersion: number | null | undefined): number | null {
  if (expectedVersion === null || expectedVersion === undefined) return null;
  if (!Number.isInteger(expectedVersion) || expectedVersion < 1) throw badUserInput('`expectedVersion` must be a positive integer.', 'expectedVersion');
  return expectedVersion;
}

export function checkStatuses(statuses: readonly SessionStatus[] | null | undefined): SessionStatus[] | null {
  return statuses && statuses.length > 0 ? [...new Set(statuses)] : null;
}

// ---- reads ----

export type SessionListArgs = {
  first?: number | null;
  after?: string | null;
  filter?: SessionFilter | null;
  orderBy?: SessionOrder | null;
};

function listFilter(filter: SessionFilter | null | undefined): SessionListQuery['filter'] {
  const f = filter ?? {};
  return {
    appName: checkString(f.appName, 'filter.appName'),
    agentId: checkString(f.agentId, 'filter.agentId'),
    status: checkStatuses(f.status),
    teamSessionId: f.teamSessionId != null && !isUuid(f.teamSessionId) ? '00000000-0000-0000-0000-000000000000' : f.teamSessionId,
    isTeamMember: f.isTeamMember,
    createdAfter: f.createdAfter,
    createdBefore: f.createdBefore,
    updatedAfter: f.updatedAfter,
    updatedBefore: f.updatedBefore,
    metadataContains: checkJson(f.metadataContains, 'filter.metadataContains', MAX_FILTER_JSON),
  };
}

/** The JSON columns the selected fields of a session need (memoized on the field set, kept per document). */
export const sessionJsonFor = memoizeByObject((fields: ReadonlySet<string>): SessionJsonField[] => sessionJsonOf(fields));
export const eventJsonFor = memoizeByObject((fields: ReadonlySet<string>): EventJsonField[] => eventJsonOf(fields));

async function sessionPage(ctx: GraphQLContext, query: SessionListQuery): Promise<Connection<SessionRow>> {
  const fetched = await listSessions(ctx.db.sql, query);
  ctx.loaders.sessions.prime(fetched.slice(0, query.size), query.json);
  return connectionFromPage(fetched, query.size, Boolean(query.after), sessionCursor(query).encode, () =>
    countSessions(ctx.db.sql, query),
  );
}

/**
 * The sessions page a viewer may see; `forOwnerId` narrows to one user (User.sessions). `rowFields`: the fields the
 * query asks of the sessions (`requestedRowFields`), which decide the JSON columns read.
 */
export async function sessionConnection(
  ctx: GraphQLContext,
  args: SessionListArgs,
  rowFields: ReadonlySet<string>,
  forOwnerId?: string,
): Promise<Connection<SessionRow>> {
  const viewer = requireViewer(ctx.viewer);
  const requestedOwner = forOwnerId ?? args.filter?.userId ?? null;
  if (requestedOwner !== null && !isUuid(requestedOwner)) throw badUserInput('`userId` must be a user id.', 'filter');
  // User.sessions naming another user in its filter: honoured like everywhere (no session is both users').
  if (conflictingOwnerFilter(forOwnerId, args.filter?.userId)) {
    ownerScope(viewer, args.filter!.userId);
    return emptyConnection();
  }
  return sessionPage(ctx, {
    ownerId: ownerScope(viewer, requestedOwner),
    filter: listFilter(args.filter),
    field: args.orderBy?.field ?? 'UPDATED_AT',
    direction: args.orderBy?.direction ?? 'DESC',
    after: args.after,
    size: pageSize(args.first),
    json: sessionJsonFor(rowFields),
  });
}

/** Member sessions of a (visible) team session, oldest first; only the ones the viewer may see. */
export async function memberSessionConnection(
  ctx: GraphQLContext,
  team: SessionRow,
  args: { first?: number | null; after?: string | null },
  rowFields: ReadonlySet<string>,
): Promise<Connection<SessionRow>> {
  const viewer = requireViewer(ctx.viewer);
  const ownerId = viewer.isAdmin ? null : viewer.user.id;
  const query: SessionListQuery = {
    ownerId,
    filter: { teamSessionId: team.id },
    field: 'CREATED_AT',
    direction: 'ASC',
    after: args.after,
    size: pageSize(args.first),
    json: sessionJsonFor(rowFields),
  };
  const connection = await sessionPage(ctx, query);
  return { ...connection, count: () => ctx.loaders.sessions.memberCount.load({ teamSessionId: team.id, ownerId }) };
}

export function visibleTo(viewer: Viewer, session: SessionRow | null): session is SessionRow {
  return session !== null && canSeeOwner(viewer, session.userId);
}

/** One session the viewer may see; others' sessions answer NOT_FOUND exactly like missing ones. */
export async function visibleSession(ctx: GraphQLContext, id: string, rowFields: ReadonlySet<string>): Promise<SessionRow> {
  const viewer = requireViewer(ctx.viewer);
  const session = isUuid(id) ? await ctx.loaders.sessions.load(id, sessionJsonFor(rowFields)) : null;
  if (!visibleTo(viewer, session)) throw notFound('Session', id);
  return session;
}

/** A session's team session, or null when it has none or the viewer may not see it. */
export async function teamSessionOf(ctx: GraphQLContext, session: SessionRow, rowFields: ReadonlySet<string>): Promise<SessionRow | null> {
  const viewer = requireViewer(ctx.viewer);
  if (!session.teamSessionId) return null;
  const team = await ctx.loaders.sessions.load(session.teamSessionId, sessionJsonFor(rowFields));
  return visibleTo(viewer, team) ? team : null;
}

/**
 * A session reached from a row the caller could already see (an event's session, a mutation's answer): loaded with
 * the JSON columns its selection asks for.
 */
export async function sessionById(ctx: GraphQLContext, id: string, rowFields: ReadonlySet<string>): Promise<SessionRow> {
  const session = await ctx.loaders.sessions.load(id, sessionJsonFor(rowFields));
  if (!session) throw notFound('Session', id);
  return session;
}

/**
 * A session's JSON field. Rows are read with the JSON columns their query selects, so this is normally the row's
 * own value; a row read without it (a selection the look-ahead did not see) loads it, batched, by id.
 */
export async function sessionJson(ctx: GraphQLContext, session: SessionRow, field: SessionJsonField): Promise<Record<string, unknown>> {
  const value = session[field] !== undefined ? session[field] : (await ctx.loaders.sessions.load(session.id, [field]))?.[field];
  if (value === undefined) throw notFound('Session', session.id);
  return value as Record<string, unknown>;
}

/** An event's JSON field, like `sessionJson`. */
export async function eventJson(ctx: GraphQLContext, event: SessionEventRow, field: EventJsonField): Promise<unknown> {
  if (event[field] !== undefined) return event[field];
  return (await ctx.loaders.sessions.eventJson.load(event.id))?.[field] ?? null;
}

export type EventListArgs = {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  filter?: SessionEventFilter | null;
};

const EVENT_CURSOR = 'events:SEQUENCE';
export const eventCursor = (event: SessionEventRow) => encodeCursor(EVENT_CURSOR, [event.sequence]);
const decodeEventCursor = (cursor: string) => decodeCursor(cursor, EVENT_CURSOR, ['int'])[0];

function lastSize(last: number): number {
  if (!Number.isInteger(last) || last < 0) throw badUserInput('`last` must be a non-negative integer.', 'last');
  if (last > MAX_PAGE_SIZE) throw badUserInput(`\`last\` may be at most ${MAX_PAGE_SIZE}.`, 'last');
  return last;
}

/**
 * A page of a (visible) session's events, forwards (`first`/`after`) or backwards from the newest (`last`/`before`);
 * `rowFields`: the fields the query asks of the events (the JSON columns are read only for them).
 */
export async function eventConnection(
  ctx: GraphQLContext,
  session: SessionRow,
  args: EventListArgs,
  rowFields: ReadonlySet<string>,
): Promise<Connection<SessionEventRow>> {
  requireViewer(ctx.viewer);
  if (args.first != null && args.last != null) throw badUserInput('Pass `first` or `last`, not both.', 'last');
  const f = args.filter ?? {};
  const filter: EventListFilter = {
    invocationId: checkString(f.invocationId, 'filter.invocationId'),
    agentId: checkString(f.agentId, 'filter.agentId'),
    author: checkString(f.author, 'filter.author'),
    branch: checkString(f.branch, 'filter.branch'),
    timestampAfter: f.timestampAfter,
    timestampBefore: f.timestampBefore,
  };
  const afterSequence = args.after ? decodeEventCursor(args.after) : null;
  const beforeSequence = args.before ? decodeEventCursor(args.before) : null;
  const backward = args.last != null;
  const size = backward ? lastSize(args.last!) : pageSize(args.first);
  const unfiltered = Object.values(filter).every((value) => value === null || value === undefined);
  const count = () => (unfiltered ? Promise.resolve(session.lastSequence) : countEvents(ctx.db.sql, session.id, filter));

  const fetched = await ctx.loaders.sessions.eventPage.load({
    sessionId: session.id,
    filter,
    afterSequence,
    beforeSequence,
    direction: backward ? 'BACKWARD' : 'FORWARD',
    size,
    json: eventJsonFor(rowFields),
  });
  if (!backward) return connectionFromPage(fetched, size, afterSequence !== null, eventCursor, count);
  return {
    rows: fetched.slice(0, size).reverse(),
    cursorOf: eventCursor,
    count,
    hasPreviousPage: fetched.length > size,
    hasNextPage: beforeSequence !== null,
  };
}

