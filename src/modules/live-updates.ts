import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import type { LiveHub } from '../live/live-hub.js';
import { listenForNotifications, type LiveNotice } from '../live/notifications.js';
import type { ApiKeyCache } from './auth/api-key-cache.js';
import { recheckApiKeys } from './auth/api-key-live.js';
import { publishNodeExecutions, publishRuns } from './executions/execution-live.js';
import { publishSessionNotices } from './sessions/event-live.js';

type NoticeOf<T extends LiveNotice['type']> = Extract<LiveNotice, { type: T }>;

/**
 * This process's end of the live updates: the notifications of every process's writes (src/live/notifications.ts),
 * handed to each domain's publisher one notification after another (a run's updates reach its subscribers in commit
 * order), and every `keyCheckMs` a check of the keys with live connections here (a revocation whose notification was
 * lost still ends them within that time).
 */
export async function startLiveUpdates(options: { db: Database; log: Logger; hub: LiveHub; apiKeyCache: ApiKeyCache; keyCheckMs: number }) {
  const { db, log, hub, apiKeyCache } = options;
  let chain: Promise<void> = Promise.resolve();
  /** `since`: when what `work` publishes was received (what subscribers may have missed if it fails). */
  const inTurn = (work: () => Promise<void> | void, since = new Date()) => {
    chain = chain.then(work).catch((err: unknown) => {
      // What could not be read is lost to the subscribers: they are told, as after a lost connection.
      log.error({ err }, 'live updates: publishing failed; subscribers are told they may have missed updates');
      hub.missed(since);
    });
  };
  const dispatch = async (notices: LiveNotice[], at: Date) => {
    const of = <T extends LiveNotice['type']>(...types: T[]) => notices.filter((n): n is NoticeOf<T> => (types as string[]).includes(n.type));
    const keys = of('key');
    if (keys.length) await recheckApiKeys(db.sql, hub, apiKeyCache, keys.map((n) => n.apiKeyId));
    const runs = of('run');
    if (runs.length) await publishRuns(db.sql, hub, runs, at);
    const nodes = of('node');
    if (nodes.length) await publishNodeExecutions(db.sql, hub, nodes, at);
    const sessions = of('events', 'sessionDeleted');
    if (sessions.length) publishSessionNotices(hub, sessions);
  };
  const listener = await listenForNotifications(db, log, {
    notices: (notices, at) => inTurn(() => dispatch(notices, at), at),
    missed: (since) =>
      inTurn(async () => {
        hub.missed(since);
        // Revocations may be among what was missed; every cached key is read again on its next use.
        apiKeyCache.clear();
        await recheckApiKeys(db.sql, hub, null, hub.liveKeys());
      }),
  });
  const keyCheck = setInterval(() => {
    const keys = hub.liveKeys();
    if (keys.length) inTurn(() => recheckApiKeys(db.sql, hub, null, keys));
  }, options.keyCheckMs);
  keyCheck.unref();
  return {
    listener,
    async stop() {
      clearInterval(keyCheck);
      await listener.close();
      await chain;
    },
  };
}
