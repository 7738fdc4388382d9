import type { Session, SessionEvent } from '../../generated/prisma/client.js';
import { modelTable } from '../../db/columns.js';

/** The Session model's columns (alias `s`); see db/columns.ts. Ids are read as text (the same on both databases). */
export const SESSION_TABLE = modelTable<Session>('sessions', 's', {
  id: { column: 'id', kind: 'text' },
  appName: { column: 'app_name' },
  userId: { column: 'user_id', kind: 'text' },
  agentId: { column: 'agent_id' },
  status: { column: 'status', kind: 'text' },
  metadata: { column: 'metadata', kind: 'json' },
  state: { column: 'state', kind: 'json' },
  teamSessionId: { column: 'team_session_id', kind: 'text' },
  version: { column: 'version' },
  lastSequence: { column: 'last_sequence' },
  createdAt: { column: 'created_at', kind: 'time' },
  updatedAt: { column: 'updated_at', kind: 'time' },
});

/** The SessionEvent model's columns (alias `e`). */
export const SESSION_EVENT_TABLE = modelTable<SessionEvent>('session_events', 'e', {
  id: { column: 'id', kind: 'text' },
  sessionId: { column: 'session_id', kind: 'text' },
  sequence: { column: 'sequence' },
  invocationId: { column: 'invocation_id' },
  agentId: { column: 'agent_id' },
  author: { column: 'author' },
  content: { column: 'content', kind: 'json' },
  actions: { column: 'actions', kind: 'json' },
  metadata: { column: 'metadata', kind: 'json' },
  branch: { column: 'branch' },
  timestamp: { column: 'timestamp', kind: 'time' },
  clientEventId: { column: 'client_event_id' },
});
