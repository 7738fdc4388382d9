/**
 * Session writes: permissions, ownership, validation, status transitions, the state limit, and what an answer may
 * show a key that may write sessions but not read them.
 */
import type { GraphQLContext } from '../../context.js';
import type { CreateSessionInput, DeleteSessionsFilter, SessionEventInput, UpdateSessionInput } from '../../generated/graphql.js';
import type { SessionStatus } from '../../generated/prisma/client.js';
import { badUserInput, conflict, forbidden, notFound } from '../../errors.js';
import { requireViewer } from '../auth/guards.js';
import type { Viewer } from '../auth/viewer.js';
import { isUuid } from '../shared/ids.js';
import { appendEvents, eventJsonOf, type NewEvent, type SessionEventRow } from './event-store.js';
import {
  checkId,
  checkJson,
  checkStatuses,
  checkString,
  checkVersion,
  MAX_CONTENT_JSON,
  MAX_EVENTS_PER_APPEND,
  visibleTo,
} from './session-service.js';
import {
  deleteSessionById,
  deleteSessionsInBatches,
  insertSession,
  MAX_STATE_BYTES,
  sessionJsonOf,
  updateSessionIf,
  whyUnchanged,
  type SessionChanges,
  type SessionJsonField,
} from './session-store.js';

/** What a session mutation answers: the session is loaded (through the loaders) for the fields its query selects. */
export type SessionPayloadRef = { sessionId: string };
export type AppendSessionEventsPayloadRef = { sessionId: string; events: SessionEventRow[] };

const STATE_LIMIT = `${MAX_STATE_BYTES.toLocaleString('en-US')} bytes of JSON text`;
/**
 * Cost units per KiB of state an append rewrites (merged, measured, stored; refused or not), at the cost model's
 * 1,000 units a millisecond: PostgreSQL 15 here spends ~75 ms of CPU on an append to a 1 MiB state (~25 ms to
 * decompress and merge it, ~10 ms to measure it as text, ~30–45 ms to compress and write it). Without it, appends to
 * a state near its limit cost the database far more than their estimate, and a key could keep a core busy with them.
 */
const STATE_REWRITE_COST_PER_KIB = 75;
const stateRewriteCost = (bytes: number) => Math.ceil((bytes / 1024) * STATE_REWRITE_COST_PER_KIB);

const stateTooLarge = (argument: string) =>
  badUserInput(`A session's state may hold at most ${STATE_LIMIT} (1 MiB); this would pass it, so nothing was written.`, argument);

/** The scope of a write on one session: the viewer's own rows, anyone's for admins. */
const writeScope = (viewer: Viewer) => (viewer.isAdmin ? null : viewer.user.id);

/** The JSON columns a mutation's answer selects of its session (`session.state` …): the write returns them. */
const payloadJson = (answerFields: ReadonlySet<string>): SessionJsonField[] => sessionJsonOf(answerFields, 'session.');

export async function createSession(ctx: GraphQLContext, input: CreateSessionInput, answerFields: ReadonlySet<string>): Promise<SessionPayloadRef> {
  const viewer = requireViewer(ctx.viewer);
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
    const team = isUuid(input.teamSessionId) ? await ctx.loaders.sessions.load(input.teamSessionId, []) : null;
    if (!visibleTo(viewer, team)) throw notFound('Session', input.teamSessionId);
    if (team.userId !== userId) throw badUserInput('A member session must belong to the team session’s user.', 'input.teamSessionId');
    if (team.teamSessionId) throw badUserInput('A member session cannot be a team session itself.', 'input.teamSessionId');
    data.teamSessionId = team.id;
  }
  if (requestedOwner && requestedOwner !== viewer.user.id && !(await ctx.loaders.users.userById.load(requestedOwner))) {
    throw notFound('User', requestedOwner);
  }
  const json = payloadJson(answerFields);
  const session = await insertSession(ctx.db.sql, data, json);
  if (!session) throw stateTooLarge('input.state');
  ctx.loaders.sessions.prime([session], json);
  return { sessionId: session.id };
}

/**
 * Applies the changes in one conditional statement. When it changes nothing, finds out why: another user's or a
 * missing session (NOT_FOUND), a stale version or a status the transition does not start from (CONFLICT), a state
 * over the limit (BAD_USER_INPUT), or nothing to change — then the session is answered as it is: an update that
 * changes nothing is not a new version (version and updatedAt stay).
 */
async function writeSession(
  ctx: GraphQLContext,
  viewer: Viewer,
  id: string,
  changes: SessionChanges,
  conditions: { expectedVersion: number | null; fromStatuses?: readonly SessionStatus[]; to?: SessionStatus },
  json: SessionJsonField[],
): Promise<SessionPayloadRef> {
  const updated = await updateSessionIf(ctx.db.sql, id, writeScope(viewer), changes, conditions, json);
  if (updated) {
    ctx.loaders.sessions.forget(id);
    ctx.loaders.sessions.prime([updated], json);
    return { sessionId: id };
  }
  const current = await whyUnchanged(ctx.db.sql, id, changes, json);
  if (!current || !visibleTo(viewer, current.session)) throw notFound('Session', id);
  const { session } = current;
  if (conditions.fromStatuses && !conditions.fromStatuses.includes(session.status)) {
    throw conflict(`Session ${id} is ${session.status}; it cannot become ${conditions.to} (only from ${conditions.fromStatuses.join(' or ')}).`);
  }
  if (conditions.expectedVersion !== null && session.version !== conditions.expectedVersion) {
    throw conflict(`Session ${id} is at version ${session.version}, not ${conditions.expectedVersion}.`);
  }
  if (!current.stateFits) throw stateTooLarge('input.state');
  // Written by someone else between the two statements: the caller retries against the new version.
  if (current.changes) throw conflict(`Session ${id} changed while it was being updated; try again.`);
  ctx.loaders.sessions.forget(id);
  ctx.loaders.sessions.prime([session], json);
  return { sessionId: id };
}

export async function updateSession(
  ctx: GraphQLContext,
  id: string,
  input: UpdateSessionInput,
  expectedVersion: number | null | undefined,
  answerFields: ReadonlySet<string>,
): Promise<SessionPayloadRef> {
  const viewer = requireViewer(ctx.viewer);
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
  return writeSession(ctx, viewer, id, changes, { expectedVersion: checkVersion(expectedVersion) }, payloadJson(answerFields));
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
  expectedVersion: number | null | undefined,
  answerFields: ReadonlySet<string>,
): Promise<SessionPayloadRef> {
  const viewer = requireViewer(ctx.viewer);
  if (!isUuid(id)) throw notFound('Session', id);
  const conditions = { expectedVersion: checkVersion(expectedVersion), fromStatuses: TRANSITIONS[to], to };
  return writeSession(ctx, viewer, id, { status: to }, conditions, payloadJson(answerFields));
}

export async function deleteSession(ctx: GraphQLContext, id: string): Promise<{ deletedSessionId: string }> {
  const viewer = requireViewer(ctx.viewer);
  if (!isUuid(id) || !(await deleteSessionById(ctx.db.sql, id, writeScope(viewer)))) throw notFound('Session', id);
  ctx.loaders.sessions.forget(id);
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
  expectedVersion: number | null | undefined,
  answerFields: ReadonlySet<string>,
): Promise<AppendSessionEventsPayloadRef> {
  const viewer = requireViewer(ctx.viewer);
  if (!isUuid(sessionId)) throw notFound('Session', sessionId);
  if (inputs.length === 0) throw badUserInput('`events` must hold at least one event.', 'events');
  if (inputs.length > MAX_EVENTS_PER_APPEND) throw badUserInput(`At most ${MAX_EVENTS_PER_APPEND} events may be appended at once.`, 'events');
  const version = checkVersion(expectedVersion);
  // The whole batch is validated before anything is written: one bad event refuses the batch.
  const events = inputs.map(newEvent);
  const clientIds = events.map((e) => e.clientEventId).filter((id) => id !== null);
  if (new Set(clientIds).size !== clientIds.length) throw badUserInput('`clientEventId`s must be unique within a batch.', 'events');

  const outcome = await appendEvents(ctx.db.prisma, sessionId, writeScope(viewer), events, version, eventJsonOf(answerFields, 'events.'));
  if ('stateBytesRewritten' in outcome) ctx.budget?.chargeWork(stateRewriteCost(outcome.stateBytesRewritten));
  switch (outcome.kind) {
    case 'not-found':
      throw notFound('Session', sessionId);
    case 'stale-version':
      throw conflict(`Session ${sessionId} is at version ${outcome.version}, not ${version}.`);
    case 'not-active':
      throw conflict(`Session ${sessionId} is ${outcome.status}; events can only be appended to an ACTIVE session.`);
    case 'state-too-large':
      throw stateTooLarge('events');
    case 'appended':
      ctx.log.debug({ sessionId, stored: outcome.stored, batch: events.length }, 'appended session events');
      ctx.loaders.sessions.forget(sessionId);
      return { sessionId, events: outcome.events };
  }
}

export async function deleteSessions(ctx: GraphQLContext, filter: DeleteSessionsFilter): Promise<{ deletedCount: number }> {
  const viewer = requireViewer(ctx.viewer);
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
  ctx.loaders.sessions.forgetAll();
  ctx.log.info({ userId: criteria.userId, deleted: sessions }, 'deleted sessions');
  return { deletedCount: sessions };
}
