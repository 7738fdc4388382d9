import DataLoader from 'dataloader';
import type { Database } from '../../db/database.js';
import type { Session, SessionEvent } from '../../generated/prisma/client.js';
import { listEventsForSessions, type EventPageQuery } from './event-store.js';
import { memberCounts, sessionsByIds } from './session-store.js';

export type MemberCountKey = { teamSessionId: string; ownerId: string | null };

/** Per-request loaders of the sessions domain. */
export function createSessionLoaders(db: Database) {
  const prisma = db.prisma;
  const sessionById = new DataLoader<string, Session | null>((ids) => sessionsByIds(prisma, ids));
  const memberCount = new DataLoader<MemberCountKey, number, string>((keys) => memberCounts(prisma, keys), {
    cacheKeyFn: (key) => `${key.teamSessionId}:${key.ownerId ?? '*'}`,
  });
  /** One events page per session; pages of the same shape (size, cursors, filter) for many sessions batch into one statement. */
  const eventPage = new DataLoader<EventPageQuery, SessionEvent[], string>(
    async (queries) => {
      const shapes = new Map<string, { shape: Omit<EventPageQuery, 'sessionId'>; indexes: number[] }>();
      queries.forEach((query, index) => {
        const { sessionId: _sessionId, ...shape } = query;
        const key = JSON.stringify(shape);
        const group = shapes.get(key) ?? { shape, indexes: [] };
        group.indexes.push(index);
        shapes.set(key, group);
      });
      const results: SessionEvent[][] = new Array(queries.length);
      await Promise.all(
        [...shapes.values()].map(async ({ shape, indexes }) => {
          const pages = await listEventsForSessions(prisma, indexes.map((i) => queries[i]!.sessionId), shape);
          indexes.forEach((queryIndex, i) => (results[queryIndex] = pages[i]!));
        }),
      );
      return results;
    },
    { cacheKeyFn: (query) => JSON.stringify(query) },
  );
  return { sessionById, memberCount, eventPage };
}

export type SessionLoaders = ReturnType<typeof createSessionLoaders>;

/** Remembers sessions read by a list query or written by a mutation, so nested fields do not read them again. */
export function primeSessions(loaders: SessionLoaders, sessions: Session[]): void {
  for (const session of sessions) loaders.sessionById.clear(session.id).prime(session.id, session);
}
