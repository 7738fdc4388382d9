import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';

/** The channel the triggers of the live_notifications migration publish on. */
export const LIVE_CHANNEL = 'agentgraph_live';

/** The `application_name` of each process's listening session. */
export const LISTENER_NAME = 'agentgraph live updates';

/** What a notification says, one per row it names (see the migration for the payload's text). */
export type LiveNotice =
  | { type: 'run'; created: boolean; id: string; graphId: string; userId: string; status: string }
  | { type: 'node'; created: boolean; graphExecutionId: string; id: string; status: string }
  | { type: 'events'; sessionId: string; lastSequence: number }
  | { type: 'sessionDeleted'; sessionId: string }
  | { type: 'key'; apiKeyId: string };

/** The notices of one payload; lines that do not parse are skipped (a newer server's kinds, say). */
export function parseNotification(payload: string): LiveNotice[] {
  const lines = payload.split('\n');
  const kind = lines[0];
  const notices: LiveNotice[] = [];
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.split(' ');
    switch (kind) {
      case 'run+':
      case 'run':
        if (f.length === 4) notices.push({ type: 'run', created: kind === 'run+', id: f[0]!, graphId: f[1]!, userId: f[2]!, status: f[3]! });
        break;
      case 'node+':
      case 'node':
        if (f.length === 3) notices.push({ type: 'node', created: kind === 'node+', graphExecutionId: f[0]!, id: f[1]!, status: f[2]! });
        break;
      case 'events':
        if (f.length === 2 && /^\d+$/.test(f[1]!)) notices.push({ type: 'events', sessionId: f[0]!, lastSequence: Number(f[1]) });
        break;
      case 'session-':
        notices.push({ type: 'sessionDeleted', sessionId: f[0]! });
        break;
      case 'key':
        notices.push({ type: 'key', apiKeyId: f[0]! });
        break;
    }
  }
  return notices;
}

export type NotificationHandlers = {
  /** The notices of one committed transaction's payload, in commit order; `at` is when this process received them. */
  notices(notices: LiveNotice[], at: Date): void;
  /** The listening connection was lost at `since` and is back: what was published in between is gone. */
  missed(since: Date): void;
};

export type NotificationListener = {
  /** Whether notifications are being received now. */
  readonly listening: boolean;
  close(): Promise<void>;
};

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;
/** A connection that stopped answering (a half-open TCP connection receives nothing and reports nothing) is found by this. */
const HEARTBEAT_MS = 10_000;

/**
 * One dedicated PostgreSQL session per process that LISTENs (never a pooled one: a pool would hand it to a request).
 * Lost (a database restart, a network outage, a heartbeat unanswered), it is opened again with backoff, and
 * `handlers.missed` says since when notifications may be missing once it listens again.
 */
function listenOnPostgres(url: string, log: Logger, handlers: NotificationHandlers): NotificationListener {
  let client: pg.Client | null = null;
  let stopped = false;
  let lostAt: Date | null = null;
  let retryMs = RETRY_MIN_MS;
  let retryTimer: NodeJS.Timeout | undefined;

  const lost = (lostClient: pg.Client, err?: unknown) => {
    if (client !== lostClient) return;
    client = null;
    lostAt ??= new Date();
    lostClient.end().catch(() => {});
    if (stopped) return;
    log.warn({ err, retryMs }, 'live updates: lost the database connection that listens for notifications; reconnecting');
    retryTimer = setTimeout(connect, retryMs);
    retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
  };

  const connect = async () => {
    if (stopped) return;
    // Named, so an operator sees each process's listening session in pg_stat_activity.
    const next = new pg.Client({ connectionString: url, keepAlive: true, connectionTimeoutMillis: 5_000, query_timeout: 5_000, application_name: LISTENER_NAME });
    next.on('notification', (message) => {
      if (message.channel === LIVE_CHANNEL && message.payload) handlers.notices(parseNotification(message.payload), new Date());
    });
    next.on('error', (err) => lost(next, err));
    next.on('end', () => lost(next));
    client = next;
    try {
      await next.connect();
      await next.query(`LISTEN ${LIVE_CHANNEL}`);
    } catch (err) {
      lost(next, err);
      return;
    }
    if (stopped) return void next.end().catch(() => {});
    retryMs = RETRY_MIN_MS;
    if (lostAt) {
      log.info({ since: lostAt }, 'live updates: listening again; subscribers are told what they may have missed');
      handlers.missed(lostAt);
      lostAt = null;
    }
  };

  const heartbeat = setInterval(() => {
    const current = client;
    current?.query('SELECT 1').catch((err: unknown) => lost(current, err));
  }, HEARTBEAT_MS);
  heartbeat.unref();
  void connect();

  return {
    get listening() {
      return client !== null && lostAt === null;
    },
    async close() {
      stopped = true;
      clearInterval(heartbeat);
      clearTimeout(retryTimer);
      const current = client;
      client = null;
      await current?.end().catch(() => {});
    },
  };
}

/** PGlite runs in this process (one process per data directory): its own listen/notify, which cannot be lost. */
async function listenOnPglite(db: Extract<Database, { kind: 'pglite' }>, handlers: NotificationHandlers): Promise<NotificationListener> {
  const unlisten = await db.pglite.listen(LIVE_CHANNEL, (payload) => handlers.notices(parseNotification(payload), new Date()));
  let open = true;
  return {
    get listening() {
      return open;
    },
    async close() {
      open = false;
      await unlisten().catch(() => {});
    },
  };
}

export async function listenForNotifications(db: Database, log: Logger, handlers: NotificationHandlers): Promise<NotificationListener> {
  return db.kind === 'postgres' ? listenOnPostgres(db.url, log, handlers) : listenOnPglite(db, handlers);
}
