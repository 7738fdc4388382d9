import type { Database } from '../../src/db/database.js';
import type { SessionStatus } from '../../src/generated/prisma/client.js';
import type { TestServer } from '../helpers/server.js';

export const SESSION_FIELDS = 'id appName agentId status metadata state version eventCount createdAt updatedAt user { id } teamSession { id }';
export const EVENT_FIELDS = 'id sequence invocationId agentId author content actions metadata branch timestamp clientEventId';

export type SessionData = {
  id: string;
  appName: string;
  agentId: string | null;
  status: SessionStatus;
  metadata: Record<string, unknown>;
  state: Record<string, unknown>;
  version: number;
  eventCount: number;
  createdAt: string;
  updatedAt: string;
  user: { id: string };
  teamSession: { id: string } | null;
};

export type EventData = {
  id: string;
  sequence: number;
  invocationId: string | null;
  agentId: string | null;
  author: string;
  content: unknown;
  actions: unknown;
  metadata: Record<string, unknown>;
  branch: string | null;
  timestamp: string;
  clientEventId: string | null;
};

export type PageInfo = { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };

export const SESSIONS_PAGE = /* GraphQL */ `
  query Sessions($first: Int, $after: String, $filter: SessionFilter, $orderBy: SessionOrder) {
    sessions(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { ${SESSION_FIELDS} } }
    }
  }
`;
export type SessionsPage = { sessions: { totalCount: number; pageInfo: PageInfo; edges: Array<{ cursor: string; node: SessionData }> } };

export const EVENTS_PAGE = /* GraphQL */ `
  query Events($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $filter: SessionEventFilter) {
    session(id: $id) {
      eventCount
      events(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { ${EVENT_FIELDS} } }
      }
    }
  }
`;
export type EventsPage = {
  session: { eventCount: number; events: { totalCount: number; pageInfo: PageInfo; edges: Array<{ cursor: string; node: EventData }> } };
};

export const CREATE = /* GraphQL */ `
  mutation Create($input: CreateSessionInput!) { createSession(input: $input) { session { ${SESSION_FIELDS} } } }
`;
export const APPEND = /* GraphQL */ `
  mutation Append($id: ID!, $events: [SessionEventInput!]!, $expectedVersion: Int) {
    appendSessionEvents(sessionId: $id, events: $events, expectedVersion: $expectedVersion) {
      session { ${SESSION_FIELDS} }
      events { ${EVENT_FIELDS} }
    }
  }
`;
export type AppendResult = { appendSessionEvents: { session: SessionData; events: EventData[] } };

/** Creates a session through the API and returns it. */
export async function createSessionViaApi(server: TestServer, input: Record<string, unknown>, apiKey?: string): Promise<SessionData> {
  const res = await server.graphql<{ createSession: { session: SessionData } }>(CREATE, { input }, apiKey);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.createSession.session;
}

export async function append(
  server: TestServer,
  id: string,
  events: Array<Record<string, unknown>>,
  options: { expectedVersion?: number; apiKey?: string } = {},
) {
  return server.graphql<AppendResult>(APPEND, { id, events, expectedVersion: options.expectedVersion }, options.apiKey);
}

/** Everything about a session and its events, as stored: to assert that a refused write changed nothing. */
export async function snapshot(db: Database, sessionId: string) {
  const session = await db.prisma.session.findUnique({ where: { id: sessionId } });
  const events = await db.prisma.sessionEvent.findMany({ where: { sessionId }, orderBy: { sequence: 'asc' } });
  return { session, events };
}
