import type { Resolvers } from '../../generated/graphql.js';
import { connectionResolvers } from '../shared/connection.js';
import {
  appendSessionEvents,
  createSession,
  deleteSession,
  deleteSessions,
  eventConnection,
  memberSessionConnection,
  sessionConnection,
  teamSessionOf,
  transitionSession,
  updateSession,
  visibleSession,
} from './session-service.js';

// Entry points (Query, Mutation, User.sessions) go through the service's policy; nested fields are reachable only
// through a session the viewer was allowed to see.
export const sessionResolvers: Resolvers = {
  Query: {
    sessions: (_root, args, ctx) => sessionConnection(ctx, args),
    session: (_root, { id }, ctx) => visibleSession(ctx, id),
  },
  Mutation: {
    createSession: (_root, { input }, ctx) => createSession(ctx, input),
    updateSession: (_root, { id, input, expectedVersion }, ctx) => updateSession(ctx, id, input, expectedVersion),
    completeSession: (_root, { id, expectedVersion }, ctx) => transitionSession(ctx, id, 'COMPLETED', expectedVersion),
    failSession: (_root, { id, expectedVersion }, ctx) => transitionSession(ctx, id, 'FAILED', expectedVersion),
    reactivateSession: (_root, { id, expectedVersion }, ctx) => transitionSession(ctx, id, 'ACTIVE', expectedVersion),
    deleteSession: (_root, { id }, ctx) => deleteSession(ctx, id),
    appendSessionEvents: (_root, { sessionId, events, expectedVersion }, ctx) => appendSessionEvents(ctx, sessionId, events, expectedVersion),
    deleteSessions: (_root, { filter }, ctx) => deleteSessions(ctx, filter),
  },
  User: {
    sessions: (user, args, ctx) => sessionConnection(ctx, args, user.id),
  },
  SessionPayload: {
    session: (payload, _args, ctx) => ctx.loaders.sessions.sessionById.load(payload.session.id).then((s) => s ?? payload.session),
  },
  AppendSessionEventsPayload: {
    session: (payload, _args, ctx) => ctx.loaders.sessions.sessionById.load(payload.session.id).then((s) => s ?? payload.session),
  },
  SessionConnection: connectionResolvers,
  SessionEventConnection: connectionResolvers,
  Session: {
    metadata: (session) => session.metadata as Record<string, unknown>,
    state: (session) => session.state as Record<string, unknown>,
    user: (session, _args, ctx) => ctx.loaders.users.userById.load(session.userId).then((user) => user!),
    teamSession: (session, _args, ctx) => teamSessionOf(ctx, session),
    memberSessions: (session, args, ctx) => memberSessionConnection(ctx, session, args),
    eventCount: (session) => session.lastSequence,
    events: (session, args, ctx) => eventConnection(ctx, session, args),
  },
  SessionEvent: {
    metadata: (event) => event.metadata as Record<string, unknown>,
    session: (event, _args, ctx) => ctx.loaders.sessions.sessionById.load(event.sessionId).then((session) => session!),
  },
};
