/**
 * Data access for session events: keyset pages by sequence (forwards and backwards, both on the unique
 * (session_id, sequence) index) and the append transaction.
 */
import { uuidv7 } from '../shared/ids.js';
import { Prisma, type PrismaClient, type Session, type SessionEvent } from '../../generated/prisma/client.js';
import type { Db } from './session-store.js';

export const EVENT_COLUMNS = Prisma.sql`
  e.id::text AS "id", e.session_id::text AS "sessionId", e.sequence AS "sequence", e.invocation_id AS "invocationId",
  e.agent_id AS "agentId", e.author AS "author", e.content AS "content", e.actions AS "actions", e.metadata AS "metadata",
  e.branch AS "branch", e.timestamp AS "timestamp", e.client_event_id AS "clientEventId"`;

export type EventListFilter = {
  invocationId?: string | null;
  agentId?: string | null;
  author?: string | null;
  branch?: string | null;
  timestampAfter?: Date | null;
  timestampBefore?: Date | null;
};

export type EventPageQuery = {
  sessionId: string;
  filter: EventListFilter;
  /** Exclusive sequence bounds from the cursors. */
  afterSequence?: number | null;
  beforeSequence?: number | null;
  /** FORWARD: oldest first from `afterSequence`; BACKWARD: the newest rows before `beforeSequence`. */
  direction: 'FORWARD' | 'BACKWARD';
  size: number;
};

function filterConditions(sessionId: string, f: EventListFilter): Prisma.Sql[] {
  const where: Prisma.Sql[] = [Prisma.sql`e.session_id = ${sessionId}::uuid`];
  if (f.invocationId != null) where.push(Prisma.sql`e.invocation_id = ${f.invocationId}`);
  if (f.agentId != null) where.push(Prisma.sql`e.agent_id = ${f.agentId}`);
  if (f.author != null) where.push(Prisma.sql`e.author = ${f.author}`);
  // A path prefix on whole segments; starts_with takes no wildcards, so `_` and `%` in the branch are literal.
  if (f.branch != null) where.push(Prisma.sql`(e.branch = ${f.branch} OR starts_with(e.branch, ${`${f.branch}.`}))`);
  if (f.timestampAfter) where.push(Prisma.sql`e.timestamp >= ${f.timestampAfter}`);
  if (f.timestampBefore) where.push(Prisma.sql`e.timestamp < ${f.timestampBefore}`);
  return where;
}

/**
 * `size + 1` events in the page's direction (the extra one says whether more exist), returned in ascending
 * sequence order. Backwards pages read `ORDER BY sequence DESC LIMIT n` and are reversed here, so the newest page
 * never reads older rows.
 */
export async function listEvents(db: Db, query: EventPageQuery): Promise<SessionEvent[]> {
  const where = filterConditions(query.sessionId, query.filter);
  if (query.afterSequence != null) where.push(Prisma.sql`e.sequence > ${query.afterSequence}`);
  if (query.beforeSequence != null) where.push(Prisma.sql`e.sequence < ${query.beforeSequence}`);
  const backward = query.direction === 'BACKWARD';
  const rows = await db.$queryRaw<SessionEvent[]>`
    SELECT ${EVENT_COLUMNS} FROM session_events e WHERE ${Prisma.join(where, ' AND ')}
    ORDER BY e.sequence ${backward ? Prisma.sql`DESC` : Prisma.sql`ASC`} LIMIT ${query.size + 1}`;
  return rows;
}

export async function countEvents(db: Db, sessionId: string, filter: EventListFilter): Promise<number> {
  const [row] = await db.$queryRaw<Array<{ count: number }>>`
    SELECT count(*)::int AS "count" FROM session_events e WHERE ${Prisma.join(filterConditions(sessionId, filter), ' AND ')}`;
  return row?.count ?? 0;
}

export type NewEvent = {
  author: string;
  invocationId: string | null;
  agentId: string | null;
  content: unknown;
  actions: Record<string, unknown> | null;
  metadata: Record<string, unknown>;
  branch: string | null;
  timestamp: Date | null;
  clientEventId: string | null;
};

type LockedSession = { id: string; userId: string; status: string; version: number; lastSequence: number };

export type AppendOutcome =
  | { kind: 'appended'; session: Session; events: SessionEvent[]; stored: number }
  | { kind: 'not-found' }
  | { kind: 'stale-version'; version: number }
  | { kind: 'not-active'; status: string };

const json = (value: unknown) => (value === null || value === undefined ? Prisma.sql`NULL` : Prisma.sql`${JSON.stringify(value)}::jsonb`);

/**
 * Appends a batch in one transaction:
 * 1. `SELECT … FOR UPDATE` locks the session row, so appends to one session run one after another (and only
 *    those: other sessions are not blocked);
 * 2. events whose client id is already stored are looked up under that lock (two concurrent retries cannot both
 *    insert); when every event of the batch is stored already, the stored events are returned and nothing changes;
 * 3. the version and status are checked (a stale `expectedVersion` or a non-ACTIVE session writes nothing);
 * 4. `UPDATE sessions SET last_sequence = last_sequence + n, version = version + 1, state = …` hands out the
 *    sequences `last_sequence + 1 … + n` and merges the state deltas;
 * 5. the new events are inserted with those sequences.
 * Any failure rolls everything back.
 */
export async function appendEvents(
  prisma: PrismaClient,
  sessionId: string,
  ownerId: string | null,
  events: readonly NewEvent[],
  expectedVersion: number | null,
): Promise<AppendOutcome> {
  return prisma.$transaction(
    async (tx) => {
      const [locked] = await tx.$queryRaw<LockedSession[]>`
        SELECT id::text AS "id", user_id::text AS "userId", status::text AS "status", version, last_sequence AS "lastSequence"
        FROM sessions WHERE id = ${sessionId}::uuid FOR UPDATE`;
      if (!locked || (ownerId !== null && locked.userId !== ownerId)) return { kind: 'not-found' } as const;

      const clientIds = events.map((e) => e.clientEventId).filter((id): id is string => id !== null);
      const existing = new Map<string, SessionEvent>();
      if (clientIds.length > 0) {
        const rows = await tx.$queryRaw<SessionEvent[]>`
          SELECT ${EVENT_COLUMNS} FROM session_events e
          WHERE e.session_id = ${sessionId}::uuid AND e.client_event_id IN (${Prisma.join(clientIds)})`;
        for (const row of rows) existing.set(row.clientEventId!, row);
      }
      const fresh = events.filter((e) => e.clientEventId === null || !existing.has(e.clientEventId));
      if (fresh.length === 0) {
        const session = await tx.session.findUniqueOrThrow({ where: { id: sessionId } });
        return { kind: 'appended', session, events: events.map((e) => existing.get(e.clientEventId!)!), stored: 0 };
      }
      if (expectedVersion !== null && locked.version !== expectedVersion) return { kind: 'stale-version', version: locked.version } as const;
      if (locked.status !== 'ACTIVE') return { kind: 'not-active', status: locked.status } as const;

      // The state deltas of the new events, folded in order: the last write of a key wins, null removes it.
      const set: Record<string, unknown> = {};
      const removed = new Set<string>();
      for (const event of fresh) {
        const delta = event.actions?.stateDelta;
        if (!delta || typeof delta !== 'object' || Array.isArray(delta)) continue;
        for (const [key, value] of Object.entries(delta as Record<string, unknown>)) {
          if (value === null) {
            removed.add(key);
            delete set[key];
          } else {
            set[key] = value;
            removed.delete(key);
          }
        }
      }
      const stateChange =
        Object.keys(set).length === 0 && removed.size === 0
          ? Prisma.empty
          : Prisma.sql`, state = (state || ${JSON.stringify(set)}::jsonb) - ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify([...removed])}::jsonb))`;
      const [updated] = await tx.$queryRaw<Array<{ lastSequence: number }>>`
        UPDATE sessions SET last_sequence = last_sequence + ${fresh.length}, version = version + 1, updated_at = now()${stateChange}
        WHERE id = ${sessionId}::uuid RETURNING last_sequence AS "lastSequence"`;
      const first = updated!.lastSequence - fresh.length + 1;

      const values = fresh.map(
        (e, i) => Prisma.sql`(${uuidv7()}::uuid, ${sessionId}::uuid, ${first + i}, ${e.invocationId}, ${e.agentId}, ${e.author},
          ${json(e.content)}, ${json(e.actions)}, ${json(e.metadata)}, ${e.branch},
          ${e.timestamp ? Prisma.sql`${e.timestamp}` : Prisma.sql`now()`}, ${e.clientEventId})`,
      );
      const inserted = await tx.$queryRaw<SessionEvent[]>`
        INSERT INTO session_events AS e (id, session_id, sequence, invocation_id, agent_id, author, content, actions, metadata, branch, timestamp, client_event_id)
        VALUES ${Prisma.join(values)}
        RETURNING ${EVENT_COLUMNS}`;
      const bySequence = new Map(inserted.map((row) => [row.sequence, row]));
      const session = await tx.session.findUniqueOrThrow({ where: { id: sessionId } });
      let next = first;
      const result = events.map((e) => (e.clientEventId !== null && existing.has(e.clientEventId) ? existing.get(e.clientEventId)! : bySequence.get(next++)!));
      return { kind: 'appended', session, events: result, stored: fresh.length };
    },
    { maxWait: 15_000, timeout: 30_000 },
  );
}

/**
 * The same page for several sessions in one statement (a LATERAL subquery per session, each an index range
 * scan), for lists of sessions that select `events`. Returns each session's rows in the order `listEvents` would.
 */
export async function listEventsForSessions(
  db: Db,
  sessionIds: readonly string[],
  shape: Omit<EventPageQuery, 'sessionId'>,
): Promise<SessionEvent[][]> {
  if (sessionIds.length === 1) return [await listEvents(db, { ...shape, sessionId: sessionIds[0]! })];
  const where = filterConditions('00000000-0000-0000-0000-000000000000', shape.filter).slice(1);
  where.unshift(Prisma.sql`e.session_id = k.sid`);
  if (shape.afterSequence != null) where.push(Prisma.sql`e.sequence > ${shape.afterSequence}`);
  if (shape.beforeSequence != null) where.push(Prisma.sql`e.sequence < ${shape.beforeSequence}`);
  const backward = shape.direction === 'BACKWARD';
  const rows = await db.$queryRaw<SessionEvent[]>`
    SELECT p.* FROM unnest(ARRAY[${Prisma.join(sessionIds.map((id) => Prisma.sql`${id}::uuid`))}]) AS k(sid)
    CROSS JOIN LATERAL (
      SELECT ${EVENT_COLUMNS} FROM session_events e WHERE ${Prisma.join(where, ' AND ')}
      ORDER BY e.sequence ${backward ? Prisma.sql`DESC` : Prisma.sql`ASC`} LIMIT ${shape.size + 1}
    ) p`;
  const groups = new Map<string, SessionEvent[]>(sessionIds.map((id) => [id, []]));
  for (const row of rows) groups.get(row.sessionId)?.push(row);
  for (const group of groups.values()) group.sort((a, b) => (backward ? b.sequence - a.sequence : a.sequence - b.sequence));
  return sessionIds.map((id) => groups.get(id) ?? []);
}
