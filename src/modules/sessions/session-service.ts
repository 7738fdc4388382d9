/**
 * Sessions: policy (permissions, ownership, validation, status transitions) and orchestration over the stores.
 * Another user's session answers NOT_FOUND exactly like a missing one, on every path.
 */
import type { GraphQLContext } from '../../context.js';
import type {
  CreateSessionInput,
  DeleteSessionsFilter,
  SessionEventFilter,
  SessionEventInput,
  SessionFilter,
  SessionOrder,
  UpdateSessionInput,
} from '../../generated/graphql.js';
import type { Session, SessionEvent, SessionStatus } from '../../generated/prisma/client.js';
import { badUserInput, conflict, forbidden, notFound } from '../../errors.js';
import { canSeeOwner, ownerScope, requirePermission } from '../auth/guards.js';
import type { Viewer } from '../auth/viewer.js';
import type { Connection } from '../shared/connection.js';
import { connectionFromPage } from '../shared/connection.js';
import { isUuid } from '../shared/ids.js';
import { decodeCursor, encodeCursor, MAX_PAGE_SIZE, pageSize } from '../shared/pagination.js';
import { appendEvents, countEvents, type EventListFilter, type NewEvent } from './event-store.js';
import { primeSessions } from './loaders.js';
import {
  countSessions,
  deleteSessionById,
  deleteSessionsInBatches,
  insertSession,
  listSessions,
  sessionCursor,
  sessionsByIds,
  updateSessionIf,
  type SessionChanges,
  type SessionListQuery,
} from './session-store.js';
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
function checkString(value: string | null | undefined, argument: string, options: { required?: boolean } = {}): string | null {
  if (value === null || value === undefined) {
    if (options.required) throw badUserInput(`\`${argument}\` is required.`, argument);
    return null;
  }
  return checkText(value, argument, { max: MAX_STRING_LENGTH, allowEmpty: !options.required });
}

function checkJson<T>(value: T, argument: string, maxBytes = MAX_JSON): T {
  return checkJsonShared(value, argument, { maxBytes });
}

function checkId(id: string | null | undefined, argument: string): string | null {
  if (id === null || id === undefined) return null;
  if (!isUuid(id)) throw badUserInput(`\`${argument}\` must be a uuid.`, argument);
  return id;
}

function checkVersion(expectedVersion: number | null | undefined): number | null {
  if (expectedVersion === null || expectedVersion === undefined) return null;
  if (!Number.isInteger(expectedVersion) || expectedVersion < 1) throw badUserInput('`expectedVersion` must be a positive integer.', 'expectedVersion');
  return expectedVersion;
}

function checkStatuses(statuses: readonly SessionStatus[] | null | undefined): SessionStatus[] | null {
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

async function sessionPage(ctx: GraphQLContext, query: SessionListQuery): Promise<Connection<Session>> {
  const fetched = await listSessions(ctx.db.prisma, query);
  primeSessions(ctx.loaders.sessions, fetched.slice(0, query.size));
  return connectionFromPage(fetched, query.size, Boolean(query.after), sessionCursor(query).encode, () =>
    countSessions(ctx.db.prisma, query),
  );
}

/** The sessions page a viewer may see; `forOwnerId` narrows to one user (User.sessions). */
export async function sessionConnection(ctx: GraphQLContext, args: SessionListArgs, forOwnerId?: string): Promise<Connection<Session>> {
  const viewer = requirePermission(ctx.viewer, 'READ_SESSIONS');
  const requestedOwner = forOwnerId ?? args.filter?.userId ?? null;
  if (requestedOwner !== null && !isUuid(requestedOwner)) throw badUserInput('`userId` must be a user id.', 'filter');
  return sessionPage(ctx, {
    ownerId: ownerScope(viewer, requestedOwner),
    filter: listFilter(args.filter),
    field: args.orderBy?.field ?? 'UPDATED_AT',
    direction: args.orderBy?.direction ?? 'DESC',
    after: args.after,
    size: pageSize(args.first),
  });
}

/** Member sessions of a (visible) team session, oldest first; only the ones the viewer may see. */
export async function memberSessionConnection(
  ctx: GraphQLContext,
  team: Session,
  args: { first?: number | null; after?: string | null },
): Promise<Connection<Session>> {
  const viewer = requirePermission(ctx.viewer, 'READ_SESSIONS');
  const ownerId = viewer.isAdmin ? null : viewer.user.id;
  const query: SessionListQuery = {
    ownerId,
    filter: { teamSessionId: team.id },
    field: 'CREATED_AT',
    direction: 'ASC',
    after: args.after,
    size: pageSize(args.first),
  };
  const connection = await sessionPage(ctx, query);
  return { ...connection, count: () => ctx.loaders.sessions.memberCount.load({ teamSessionId: team.id, ownerId }) };
}

function visibleTo(viewer: Viewer, session: Session | null): session is Session {
  return session !== null && canSeeOwner(viewer, session.userId);
}

/** One session the viewer may see; others' sessions answer NOT_FOUND exactly like missing ones. */
export async function visibleSession(ctx: GraphQLContext, id: string): Promise<Session> {
  const viewer = requirePermission(ctx.viewer, 'READ_SESSIONS');
  const session = isUuid(id) ? await ctx.loaders.sessions.sessionById.load(id) : null;
  if (!visibleTo(viewer, session)) throw notFound('Session', id);
  return session;
}

/** A session's team session, or null when it has none or the viewer may not see it. */
export async function teamSessionOf(ctx: GraphQLContext, session: Session): Promise<Session | null> {
  if (!session.teamSessionId) return null;
  const viewer = requirePermission(ctx.viewer, 'READ_SESSIONS');
  const team = await ctx.loaders.sessions.sessionById.load(session.teamSessionId);
  return visibleTo(viewer, team) ? team : null;
}

export type EventListArgs = {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  filter?: SessionEventFilter | null;
};

const EVENT_CURSOR = 'events:SEQUENCE';
export const eventCursor = (event: SessionEvent) => encodeCursor(EVENT_CURSOR, [event.sequence]);
const decodeEventCursor = (cursor: string) => decodeCursor(cursor, EVENT_CURSOR, ['int'])[0];

function lastSize(last: number): number {
  if (!Number.isInteger(last) || last < 0) throw badUserInput('`last` must be a non-negative integer.', 'last');
  if (last > MAX_PAGE_SIZE) throw badUserInput(`\`last\` may be at most ${MAX_PAGE_SIZE}.`, 'last');
  return last;
}

/** A page of a (visible) session's events, forwards (`first`/`after`) or backwards from the newest (`last`/`before`). */
export async function eventConnection(ctx: GraphQLContext, session: Session, args: EventListArgs): Promise<Connection<SessionEvent>> {
  requirePermission(ctx.viewer, 'READ_SESSIONS');
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
  const count = () => (unfiltered ? Promise.resolve(session.lastSequence) : countEvents(ctx.db.prisma, session.id, filter));

  const fetched = await ctx.loaders.sessions.eventPage.load({
    sessionId: session.id,
    filter,
    afterSequence,
    beforeSequence,
    direction: backward ? 'BACKWARD' : 'FORWARD',
    size,
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

// ---- writes ----

function writer(ctx: GraphQLContext): Viewer {
  return requirePermission(ctx.viewer, 'WRITE_SESSIONS');
}

/** The scope of a write on one session: the viewer's own rows, anyone's for admins. */
const writeScope = (viewer: Viewer) => (viewer.isAdmin ? null : viewer.user.id);

/** After a conditional write matched nothing: NOT_FOUND when the row is missing or not the viewer's, else CONFLICT. */
async function whyNotWritten(ctx: GraphQLContext, viewer: Viewer, id: string, reason: (session: Session) => string): Promise<never> {
  const [session] = await sessionsByIds(ctx.db.prisma, [id]);
  if (!session || !visibleTo(viewer, session)) throw notFound('Session', id);
  throw conflict(reason(session));
}

function written(ctx: GraphQLContext, session: Session): { session: Session } {
  primeSessions(ctx.loaders.sessions, [session]);
  return { session };
}

export async function createSession(ctx: GraphQLContext, input: CreateSessionInput): Promise<{ session: Session }> {
  const viewer = writer(ctx);
  const requestedOwner = checkId(input.userId, 'input.userId');
  if (requestedOwner && requestedOwner !== viewer.user.id && !viewer.isAdmin) {
    throw forbidden('Only an API key with the ADMIN permission may create sessions for other users.');
  }
  const userId = requestedOwner ?? viewer.user.id;
  const data = {
    appName: checkString(input.appName, 'input.appName', { required: true })!,
    agentId: checkString(input.agentId, 'input.agentId'),
    metadata: checkJson(input.metadata, 'input.metadata') ?? {},
    state: checkJson(input.state, 'input.state') ?? {},
    teamSessionId: null as string | null,
    userId,
  };
  if (input.teamSessionId != null) {
    // The team session must exist and belong to the same user (and be visible: others' ids answer NOT_FOUND).
    const team = isUuid(input.teamSessionId) ? await ctx.loaders.sessions.sessionById.load(input.teamSessionId) : null;
    if (!visibleTo(viewer, team)) throw notFound('Session', input.teamSessionId);
    if (team.userId !== userId) throw badUserInput('A member session must belong to the team session’s user.', 'input.teamSessionId');
    if (team.teamSessionId) throw badUserInput('A member session cannot be a team session itself.', 'input.teamSessionId');
    data.teamSessionId = team.id;
  }
  if (requestedOwner && requestedOwner !== viewer.user.id && !(await ctx.loaders.users.userById.load(requestedOwner))) {
    throw notFound('User', requestedOwner);
  }
  return written(ctx, await insertSession(ctx.db.prisma, data));
}

export async function updateSession(
  ctx: GraphQLContext,
  id: string,
  input: UpdateSessionInput,
  expectedVersion?: number | null,
): Promise<{ session: Session }> {
  const viewer = writer(ctx);
  if (!isUuid(id)) throw notFound('Session', id);
  const changes: SessionChanges = {};
  if (input.appName !== undefined) {
    if (input.appName === null) throw badUserInput('`input.appName` cannot be null.', 'input.appName');
    changes.appName = checkString(input.appName, 'input.appName', { required: true })!;
  }
  if (input.agentId !== undefined) changes.agentId = checkString(input.agentId, 'input.agentId');
  if (input.metadata != null) changes.metadata = checkJson(input.metadata, 'input.metadata');
  if (input.state != null) changes.state = checkJson(input.state, 'input.state');
  if (input.metadata === null || input.state === null) throw badUserInput('`metadata` and `state` take an object; pass {} to empty them.', 'input');
  const version = checkVersion(expectedVersion);
  const session = await updateSessionIf(ctx.db.prisma, id, writeScope(viewer), changes, { expectedVersion: version });
  if (!session) return whyNotWritten(ctx, viewer, id, (s) => `Session ${id} is at version ${s.version}, not ${version}.`);
  return written(ctx, session);
}

const TRANSITIONS: Record<SessionStatus, readonly SessionStatus[]> = {
  COMPLETED: ['ACTIVE'],
  FAILED: ['ACTIVE'],
  ACTIVE: ['COMPLETED', 'FAILED'],
};

/** ACTIVE → COMPLETED | FAILED, COMPLETED | FAILED → ACTIVE; anything else is a CONFLICT and changes nothing. */
export async function transitionSession(
  ctx: GraphQLContext,
  id: string,
  to: SessionStatus,
  expectedVersion?: number | null,
): Promise<{ session: Session }> {
  const viewer = writer(ctx);
  if (!isUuid(id)) throw notFound('Session', id);
  const version = checkVersion(expectedVersion);
  const from = TRANSITIONS[to];
  const session = await updateSessionIf(ctx.db.prisma, id, writeScope(viewer), { status: to }, { expectedVersion: version, fromStatuses: from });
  if (!session) {
    return whyNotWritten(ctx, viewer, id, (s) =>
      !from.includes(s.status)
        ? `Session ${id} is ${s.status}; it cannot become ${to} (only from ${from.join(' or ')}).`
        : `Session ${id} is at version ${s.version}, not ${version}.`,
    );
  }
  return written(ctx, session);
}

export async function deleteSession(ctx: GraphQLContext, id: string): Promise<{ deletedSessionId: string }> {
  const viewer = writer(ctx);
  if (!isUuid(id) || !(await deleteSessionById(ctx.db.prisma, id, writeScope(viewer)))) throw notFound('Session', id);
  ctx.loaders.sessions.sessionById.clear(id);
  return { deletedSessionId: id };
}

function newEvent(input: SessionEventInput, index: number): NewEvent {
  const at = (field: string) => `events[${index}].${field}`;
  const actions = checkJson(input.actions, at('actions')) ?? null;
  const stateDelta = actions?.stateDelta;
  if (stateDelta !== undefined && stateDelta !== null && (typeof stateDelta !== 'object' || Array.isArray(stateDelta))) {
    throw badUserInput(`\`${at('actions.stateDelta')}\` must be an object.`, 'events');
  }
  if (input.timestamp && Number.isNaN(input.timestamp.valueOf())) throw badUserInput(`\`${at('timestamp')}\` is invalid.`, 'events');
  return {
    author: checkString(input.author, at('author'), { required: true })!,
    invocationId: checkString(input.invocationId, at('invocationId')),
    agentId: checkString(input.agentId, at('agentId')),
    branch: checkString(input.branch, at('branch')),
    clientEventId: checkString(input.clientEventId, at('clientEventId')),
    content: checkJson(input.content, at('content'), MAX_CONTENT_JSON) ?? null,
    actions,
    metadata: checkJson(input.metadata, at('metadata')) ?? {},
    timestamp: input.timestamp ?? null,
  };
}

export async function appendSessionEvents(
  ctx: GraphQLContext,
  sessionId: string,
  inputs: readonly SessionEventInput[],
  expectedVersion?: number | null,
): Promise<{ session: Session; events: SessionEvent[] }> {
  const viewer = writer(ctx);
  if (!isUuid(sessionId)) throw notFound('Session', sessionId);
  if (inputs.length === 0) throw badUserInput('`events` must hold at least one event.', 'events');
  if (inputs.length > MAX_EVENTS_PER_APPEND) throw badUserInput(`At most ${MAX_EVENTS_PER_APPEND} events may be appended at once.`, 'events');
  const version = checkVersion(expectedVersion);
  // The whole batch is validated before anything is written: one bad event refuses the batch.
  const events = inputs.map(newEvent);
  const clientIds = events.map((e) => e.clientEventId).filter((id) => id !== null);
  if (new Set(clientIds).size !== clientIds.length) throw badUserInput('`clientEventId`s must be unique within a batch.', 'events');

  const outcome = await appendEvents(ctx.db.prisma, sessionId, writeScope(viewer), events, version);
  switch (outcome.kind) {
    case 'not-found':
      throw notFound('Session', sessionId);
    case 'stale-version':
      throw conflict(`Session ${sessionId} is at version ${outcome.version}, not ${version}.`);
    case 'not-active':
      throw conflict(`Session ${sessionId} is ${outcome.status}; events can only be appended to an ACTIVE session.`);
    case 'appended':
      ctx.log.debug({ sessionId, stored: outcome.stored, batch: events.length }, 'appended session events');
      primeSessions(ctx.loaders.sessions, [outcome.session]);
      return { session: outcome.session, events: outcome.events };
  }
}

export async function deleteSessions(ctx: GraphQLContext, filter: DeleteSessionsFilter): Promise<{ deletedCount: number }> {
  const viewer = writer(ctx);
  const requestedUser = checkId(filter.userId, 'filter.userId');
  if (requestedUser && requestedUser !== viewer.user.id && !viewer.isAdmin) {
    throw forbidden('Only an API key with the ADMIN permission may delete other users’ sessions.');
  }
  const criteria = {
    userId: viewer.isAdmin ? requestedUser : viewer.user.id,
    appName: checkString(filter.appName, 'filter.appName'),
    status: checkStatuses(filter.status),
    updatedBefore: filter.updatedBefore ?? null,
  };
  if (!requestedUser && criteria.appName === null && !criteria.status && !criteria.updatedBefore) {
    throw badUserInput('Name at least one criterion (appName, userId, status, updatedBefore).', 'filter');
  }
  const { sessions } = await deleteSessionsInBatches(ctx.db.prisma, criteria);
  ctx.loaders.sessions.sessionById.clearAll();
  ctx.log.info({ userId: criteria.userId, deleted: sessions }, 'deleted sessions');
  return { deletedCount: sessions };
}
