import type { Resolvers } from '../../generated/graphql.js';
import { connectionResolvers } from '../shared/connection.js';
import { resolveLive } from '../../live/live-events.js';
import { subscribeToSessionEvents } from './event-live.js';
import { listSelection, requestedRowFields } from '../shared/selection.js';
import { appendSessionEvents, createSession, deleteSession, deleteSessions, transitionSession, updateSession } from './session-mutations.js';
import {
  eventConnection,
  eventJson,
  memberSessionConnection,
  sessionById,
  sessionConnection,
  sessionJson,
  teamSessionOf,
  visibleSession,
} from './session-service.js';

// Permissions are declared on the schema (@auth); whose sessions a key sees is the service's policy, and nested fields
// are reachable only through a session the viewer was allowed to see. The fields a query selects
// (`requestedRowFields`) decide which JSON columns are read.
export const sessionResolvers: Resolvers = {
  Query: {
    sessions: (_root, args, ctx, info) => sessionConnection(ctx, args, listSelection(info).rowFields),
    session: (_root, { id }, ctx, info) => visibleSession(ctx, id, requestedRowFields(info)),
  },
  // Permissions, and what the answer may show, are declared on the schema and checked before the write (field-auth.ts).
  Mutation: {
    createSession: (_root, { input }, ctx, info) => createSession(ctx, input, requestedRowFields(info)),
    updateSession: (_root, { id, input, expectedVersion }, ctx, info) => updateSession(ctx, id, input, expectedVersion, requestedRowFields(info)),
    completeSession: (_root, { id, expectedVersion }, ctx, info) => transitionSession(ctx, id, 'COMPLETED', expectedVersion, requestedRowFields(info)),
    failSession: (_root, { id, expectedVersion }, ctx, info) => transitionSession(ctx, id, 'FAILED', expectedVersion, requestedRowFields(info)),
    reactivateSession: (_root, { id, expectedVersion }, ctx, info) => transitionSession(ctx, id, 'ACTIVE', expectedVersion, requestedRowFields(info)),
    deleteSession: (_root, { id }, ctx) => deleteSession(ctx, id),
    appendSessionEvents: (_root, { sessionId, events, expectedVersion }, ctx, info) =>
      appendSessionEvents(ctx, sessionId, events, expectedVersion, requestedRowFields(info)),
    deleteSessions: (_root, { filter }, ctx) => deleteSessions(ctx, filter),
  },
  Subscription: {
    sessionEventsAppended: {
      subscribe: (_root, { sessionId, afterSequence }, ctx, info) => subscribeToSessionEvents(ctx, sessionId, afterSequence, requestedRowFields(info)),
      resolve: resolveLive,
    },
  },
  User: {
    sessions: (user, args, ctx, info) => sessionConnection(ctx, args, listSelection(info).rowFields, user.id),
  },
  // The mutation checked access, and its answer's selection, before writing: load, do not re-check.
  SessionPayload: {
    session: (payload, _args, ctx, info) => sessionById(ctx, payload.sessionId, requestedRowFields(info)),
  },
  AppendSessionEventsPayload: {
    session: (payload, _args, ctx, info) => sessionById(ctx, payload.sessionId, requestedRowFields(info)),
  },
  SessionConnection: connectionResolvers,
  SessionEventConnection: connectionResolvers,
  Session: {
    metadata: (session, _args, ctx) => sessionJson(ctx, session, 'metadata'),
    state: (session, _args, ctx) => sessionJson(ctx, session, 'state'),
    user: (session, _args, ctx) => ctx.loaders.users.userById.load(session.userId).then((user) => user!),
    teamSession: (session, _args, ctx, info) => teamSessionOf(ctx, session, requestedRowFields(info)),
    memberSessions: (session, args, ctx, info) => memberSessionConnection(ctx, session, args, listSelection(info).rowFields),
    eventCount: (session) => session.lastSequence,
    events: (session, args, ctx, info) => eventConnection(ctx, session, args, listSelection(info).rowFields),
  },
  SessionEvent: {
    content: (event, _args, ctx) => eventJson(ctx, event, 'content'),
    actions: (event, _args, ctx) => eventJson(ctx, event, 'actions'),
    metadata: (event, _args, ctx) => eventJson(ctx, event, 'metadata') as Promise<Record<string, unknown>>,
    session: (event, _args, ctx, info) => sessionById(ctx, event.sessionId, requestedRowFields(info)),
  },
};
