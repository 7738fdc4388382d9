import type { GraphQLContext } from '../../context.js';
import { notFound } from '../../errors.js';
import { Ending, type LiveHub } from '../../live/live-hub.js';
import type { LiveQueue } from '../../live/live-queue.js';
import { subscribeLive } from '../../live/live-events.js';
import type { LiveNotice } from '../../live/notifications.js';
import { requireViewer } from '../auth/guards.js';
import { isUuid } from '../shared/ids.js';
import { listEvents, type SessionEventRow } from './event-store.js';
import { eventJsonFor, visibleSession } from './session-service.js';

/**
 * Live session events. A notification only says how far a session's history goes (`lastSequence`); the subscriber
 * reads what it has not delivered yet by sequence, so what it delivers is 1, 2, 3, … with no gap and no repeat,
 * whether the events were stored before it subscribed (`afterSequence`), appended while it replayed them, or appended
 * while the process's notifications were lost. Sequences are handed out under the session row's lock and committed in
 * that order (event-store.ts `appendEvents`), so a read never sees sequence n+1 without n.
 */
type Announcement = { lastSequence: number };

const sessionTopic = (sessionId: string) => `session:${sessionId}`;

/** Events read per statement while catching up. */
const PAGE_SIZE = 100;
const NO_FIELDS: ReadonlySet<string> = new Set();

export function publishSessionNotices(hub: LiveHub, notices: Array<Extract<LiveNotice, { type: 'events' | 'sessionDeleted' }>>): void {
  for (const notice of notices) {
    const topic = sessionTopic(notice.sessionId);
    if (notice.type === 'events') hub.publish<Announcement>(topic, { lastSequence: notice.lastSequence });
    else hub.endTopic(topic, notFound('Session', notice.sessionId));
  }
}

/** Subscription.sessionEventsAppended; `rowFields`: what the subscription selects of an event (its JSON columns are read then). */
export async function subscribeToSessionEvents(ctx: GraphQLContext, sessionId: string, afterSequence: number | null | undefined, rowFields: ReadonlySet<string>) {
  requireViewer(ctx.viewer);
  if (!isUuid(sessionId)) throw notFound('Session', sessionId);
  // The highest sequence announced since this subscriber listens. At most one announcement waits in the queue (the
  // latest is here): a client replaying a long history is not ended as slow because appends go on meanwhile.
  let announced = 0;
  // Listening starts before the session is read: an append committed after that read is announced.
  const queue: LiveQueue<Announcement> = subscribeLive<Announcement>(ctx, sessionTopic(sessionId), {
    accepts: (item): boolean => {
      announced = Math.max(announced, item.lastSequence);
      return queue.size === 0;
    },
    missed: () => ({ lastSequence: Number.POSITIVE_INFINITY }),
  });
  let session;
  try {
    session = await visibleSession(ctx, sessionId, NO_FIELDS);
  } catch (error) {
    await queue.return();
    throw error;
  }
  const json = eventJsonFor(rowFields);
  let delivered = afterSequence ?? session.lastSequence;
  let known = session.lastSequence;
  let page: SessionEventRow[] = [];

  const iterator: AsyncIterableIterator<SessionEventRow | Ending> = {
    async next() {
      for (;;) {
        const event = page.shift();
        if (event) {
          delivered = event.sequence;
          ctx.renewForEvent?.();
          return { value: event, done: false };
        }
        if (known > delivered) {
          const rows = await listEvents(ctx.db.sql, { sessionId, filter: {}, afterSequence: delivered, direction: 'FORWARD', size: PAGE_SIZE - 1, json }).catch((error: unknown) => {
            void queue.return();
            return new Ending(error instanceof Error ? error : new Error(String(error)));
          });
          if (rows instanceof Ending) return { value: rows, done: false };
          if (rows.length === 0) known = delivered;
          page = rows;
          continue;
        }
        const next = await queue.next();
        if (next.done || next.value instanceof Ending) return next as IteratorResult<Ending>;
        known = Math.max(known, announced, next.value.lastSequence);
      }
    },
    async return() {
      await queue.return();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      await queue.return();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
