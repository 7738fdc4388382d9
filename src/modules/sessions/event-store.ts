/**
 * Data access for session events: keyset pages by sequence (forwards and backwards, on the unique
 * (session_id, sequence) index, or on (session_id, <filtered column>, sequence) when a filter names one) and the
 * append transaction. The JSON columns (content, actions, metadata) are read only when asked for. Reads run on
 * `db.sql`; the append is a Prisma interactive transaction (several statements under one row lock).
 */
import { uuidv7 } from '../shared/ids.js';
import { alignById, groupAligned } from '../shared/by-id.js';
import { Prisma, type PrismaClient, type SessionEvent } from '../../generated/prisma/client.js';
import { MAX_STATE_BYTES } from './session-store.js';
import { limitLiteral, type SqlRunner } from '../../db/sql.js';
import { SESSION_EVENT_TABLE } from './columns.js';

/** An event's JSON columns: read only when a query asks for them. */
export const EVENT_JSON_FIELDS = ['content', 'actions', 'metadata'] as const;
export type EventJsonField = (typeof EVENT_JSON_FIELDS)[number];

/** An event as read: the JSON columns are present only when the read asked for them. */
export type SessionEventRow = Omit<SessionEvent, EventJsonField> & Partial<Pick<SessionEvent, EventJsonField>>;

/** Every column but the JSON ones: what every event read returns. */
const LIGHT_COLUMNS = SESSION_EVENT_TABLE.columns.filter((column) => column.kind !== 'json');

/** The id and the JSON columns (what a read without the JSON columns lacks). */
const EVENT_JSON_COLUMNS = SESSION_EVENT_TABLE.select((['id', ...EVENT_JSON_FIELDS] as const).map((field) => SESSION_EVENT_TABLE.column(field)));

/** The JSON fields named in `fields`, in model order (part of page keys). */
export const eventJsonOf = (fields: ReadonlySet<string>, prefix = ''): EventJsonField[] =>
  EVENT_JSON_FIELDS.filter((field) => fields.has(prefix + field));

/** The light columns and the JSON columns in `json`, aliased to the model's field names. */
export const eventColumns = (json: readonly EventJsonField[]) =>
  SESSION_EVENT_TABLE.select([...LIGHT_COLUMNS, ...json.map((field) => SESSION_EVENT_TABLE.column(field))]);

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
  /** The JSON columns the page reads. */
  json: readonly EventJsonField[];
};

/**
 * The branch filter is a prefix on whole segments: `b` itself, or `b.` followed by anything. The `branch` column
 * sorts bytewise (COLLATE "C"), so `b.…` is exactly the range [`b.`, `b/`) ('/' follows '.'): an index range, and no
 * LIKE wildcards to escape.
 */
const branchRange = (branch: string) => ({ from: `${branch}.`, to: `${branch}/` });

function filterConditions(sessionId: Prisma.Sql, f: EventListFilter, options: { branch: boolean } = { branch: true }): Prisma.Sql[] {
  const where: Prisma.Sql[] = [Prisma.sql`e.session_id = ${sessionId}`];
  if (f.invocationId != null) where.push(Prisma.sql`e.invocation_id = ${f.invocationId}`);
  if (f.agentId != null) where.push(Prisma.sql`e.agent_id = ${f.agentId}`);
  if (f.author != null) where.push(Prisma.sql`e.author = ${f.author}`);
  if (f.branch != null && options.branch) {
    // One index range [b, b/) with the non-matching neighbours (`b-x`, `b,x`: between b and b.) filtered out.
    const { from, to } = branchRange(f.branch);
    where.push(Prisma.sql`e.branch >= ${f.branch} AND e.branch < ${to} AND (e.branch = ${f.branch} OR e.branch >= ${from})`);
  }
  if (f.timestampAfter) where.push(Prisma.sql`e.timestamp >= ${f.timestampAfter}`);
  if (f.timestampBefore) where.push(Prisma.sql`e.timestamp < ${f.timestampBefore}`);
  return where;
}

/**
 * The rows of one page for the session `sessionId` (an SQL expression: a parameter, or a lateral reference), in the
 * page's direction, `size + 1` of them. With a branch filter, a page in sequence order cannot come from one range of
 * the (session_id, branch, sequence) index: the distinct branches under the prefix are found by skipping through
 * that index (one probe each), the page is read from each branch's sequence order, and the first `size + 1` of
 * those are kept. That reads at most a page per branch, never the whole subtree.
 */
function pageSql(sessionId: Prisma.Sql, query: Omit<EventPageQuery, 'sessionId'>): Prisma.Sql {
  const where = filterConditions(sessionId, query.filter, { branch: false });
  if (query.afterSequence != null) where.push(Prisma.sql`e.sequence > ${query.afterSequence}`);
  if (query.beforeSequence != null) where.push(Prisma.sql`e.sequence < ${query.beforeSequence}`);
  const order = query.direction === 'BACKWARD' ? Prisma.sql`DESC` : Prisma.sql`ASC`;
  const limit = limitLiteral(query.size + 1);
  const columns = eventColumns(query.json);
  const branch = query.filter.branch;
  if (branch == null) {
    return Prisma.sql`SELECT ${columns} FROM session_events e WHERE ${Prisma.join(where, ' AND ')} ORDER BY e.sequence ${order} LIMIT ${limit}`;
  }
  const { from, to } = branchRange(branch);
  return Prisma.sql`
    WITH RECURSIVE below(branch) AS (
      (SELECT b.branch FROM session_events b WHERE b.session_id = ${sessionId} AND b.branch >= ${from} AND b.branch < ${to} ORDER BY b.branch LIMIT 1)
      UNION ALL
      SELECT (SELECT b.branch FROM session_events b WHERE b.session_id = ${sessionId} AND b.branch > below.branch AND b.branch < ${to} ORDER BY b.branch LIMIT 1)
      FROM below WHERE below.branch IS NOT NULL
    )
    SELECT bp.* FROM (SELECT ${branch}::text AS branch UNION ALL SELECT branch FROM below WHERE branch IS NOT NULL) br
    CROSS JOIN LATERAL (
      SELECT ${columns} FROM session_events e WHERE ${Prisma.join([...where, Prisma.sql`e.branch = br.branch`], ' AND ')}
      ORDER BY e.sequence ${order} LIMIT ${limit}
    ) bp
    ORDER BY bp.sequence ${order} LIMIT ${limit}`;
}

/**
 * `size + 1` events in the page's direction (the extra one says whether more exist), returned in ascending
 * sequence order. Backwards pages read `ORDER BY sequence DESC LIMIT n` and are reversed here, so the newest page
 * never reads older rows.
 */
export async function listEvents(sql: SqlRunner, query: EventPageQuery): Promise<SessionEventRow[]> {
  return sql.query<SessionEventRow>(pageSql(Prisma.sql`${query.sessionId}::uuid`, query));
}

/** Counted on the filter's index (an index-only scan of (session_id, <column>, sequence) when one column is filtered). */
export async function countEvents(sql: SqlRunner, sessionId: string, filter: EventListFilter): Promise<number> {
  const where = filterConditions(Prisma.sql`${sessionId}::uuid`, filter);
  const [row] = await sql.query<{ count: number }>(Prisma.sql`
    SELECT count(*)::int AS "count" FROM session_events e WHERE ${Prisma.join(where, ' AND ')}`);
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
  | { kind: 'appended'; events: SessionEventRow[]; stored: number; stateBytesRewritten: number }
  | { kind: 'not-found' }
  | { kind: 'stale-version'; version: number }
  | { kind: 'not-active'; status: string }
  | { kind: 'state-too-large'; stateBytesRewritten: number };

const json = (value: unknown) => (value === null || value === undefined ? Prisma.sql`NULL` : Prisma.sql`${JSON.stringify(value)}::jsonb`);

/** The state deltas of a batch's events, folded in order: the last write of a key wins, null removes it. */
function foldStateDeltas(events: readonly NewEvent[]): { set: Record<string, unknown>; removed: string[] } | null {
  const set: Record<string, unknown> = {};
  const removed = new Set<string>();
  for (const event of events) {
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
  return Object.keys(set).length === 0 && removed.size === 0 ? null : { set, removed: [...removed] };
}

/**
 * Appends a batch in one transaction:
 * 1. `SELECT … FOR UPDATE` locks the session row, so appends to one session run one after another (and only
 *    those: other sessions are not blocked);
 * 2. events whose client id is already stored are looked up under that lock (two concurrent retries cannot both
 *    insert); when every event of the batch is stored already, the stored events are returned and nothing changes;
 * 3. the version and status are checked (a stale `expectedVersion` or a non-ACTIVE session writes nothing);
 * 4. `UPDATE sessions SET last_sequence = last_sequence + n, version = version + 1, state = …` hands out the
 *    sequences `last_sequence + 1 … + n` and merges the state deltas in SQL (jsonb `||`, then `-` of the removed
 *    keys): the state never leaves the database. When the merged state would pass MAX_STATE_BYTES, no row is
 *    updated and nothing is written; either way the outcome says how large the merged state was (the work done);
 * 5. the new events are inserted with those sequences.
 * Any failure rolls everything back. Events come back with the JSON columns in `eventJson`; the session is not read
 * (the caller loads what its answer asks for).
 */
export async function appendEvents(
  prisma: PrismaClient,
  sessionId: string,
  ownerId: string | null,
  events: readonly NewEvent[],
  expectedVersion: number | null,
  eventJson: readonly EventJsonField[],
): Promise<AppendOutcome> {
  const columns = eventColumns(eventJson);
  return prisma.$transaction(
    async (tx) => {
      const [locked] = await tx.$queryRaw<LockedSession[]>`
        SELECT id::text AS "id", user_id::text AS "userId", status::text AS "status", version, last_sequence AS "lastSequence"
        FROM sessions WHERE id = ${sessionId}::uuid FOR UPDATE`;
      if (!locked || (ownerId !== null && locked.userId !== ownerId)) return { kind: 'not-found' } as const;

      const clientIds = events.map((e) => e.clientEventId).filter((id): id is string => id !== null);
      const existing = new Map<string, SessionEventRow>();
      if (clientIds.length > 0) {
        const rows = await tx.$queryRaw<SessionEventRow[]>`
          SELECT ${columns} FROM session_events e
          WHERE e.session_id = ${sessionId}::uuid AND e.client_event_id IN (${Prisma.join(clientIds)})`;
        for (const row of rows) existing.set(row.clientEventId!, row);
      }
      const fresh = events.filter((e) => e.clientEventId === null || !existing.has(e.clientEventId));
      if (fresh.length === 0) return { kind: 'appended', events: events.map((e) => existing.get(e.clientEventId!)!), stored: 0, stateBytesRewritten: 0 } as const;
      if (expectedVersion !== null && locked.version !== expectedVersion) return { kind: 'stale-version', version: locked.version } as const;
      if (locked.status !== 'ACTIVE') return { kind: 'not-active', status: locked.status } as const;

      const delta = foldStateDeltas(fresh);
      // The merged state is measured once (the limit, and the work the caller is charged for: every append with a
      // delta rewrites the whole state, fitting or not).
      const [updated] = delta
        ? await tx.$queryRaw<Array<{ lastSequence: number | null; stateBytes: number }>>`
            WITH m AS (
              SELECT merged AS state, octet_length(merged::text) AS bytes
              FROM (SELECT (state || ${JSON.stringify(delta.set)}::jsonb) - ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(delta.removed)}::jsonb)) AS merged
                    FROM sessions WHERE id = ${sessionId}::uuid) merge
            ), u AS (
              UPDATE sessions s SET last_sequence = s.last_sequence + ${fresh.length}, version = s.version + 1, updated_at = now(), state = m.state
              FROM m WHERE s.id = ${sessionId}::uuid AND m.bytes <= ${MAX_STATE_BYTES}
              RETURNING s.last_sequence
            )
            SELECT (SELECT last_sequence FROM u) AS "lastSequence", bytes AS "stateBytes" FROM m`
        : await tx.$queryRaw<Array<{ lastSequence: number | null; stateBytes: number }>>`
            UPDATE sessions SET last_sequence = last_sequence + ${fresh.length}, version = version + 1, updated_at = now()
            WHERE id = ${sessionId}::uuid RETURNING last_sequence AS "lastSequence", 0 AS "stateBytes"`;
      const stateBytesRewritten = Number(updated?.stateBytes ?? 0);
      if (updated?.lastSequence == null) return { kind: 'state-too-large', stateBytesRewritten } as const;
      const lastSequence = Number(updated.lastSequence);
      const first = lastSequence - fresh.length + 1;

      const values = fresh.map(
        (e, i) => Prisma.sql`(${uuidv7()}::uuid, ${sessionId}::uuid, ${first + i}, ${e.invocationId}, ${e.agentId}, ${e.author},
          ${json(e.content)}, ${json(e.actions)}, ${json(e.metadata)}, ${e.branch},
          ${e.timestamp ? Prisma.sql`${e.timestamp}` : Prisma.sql`now()`}, ${e.clientEventId})`,
      );
      const inserted = await tx.$queryRaw<SessionEventRow[]>`
        INSERT INTO session_events AS e (id, session_id, sequence, invocation_id, agent_id, author, content, actions, metadata, branch, timestamp, client_event_id)
        VALUES ${Prisma.join(values)}
        RETURNING ${columns}`;
      const bySequence = new Map(inserted.map((row) => [row.sequence, row]));
      let next = first;
      const result = events.map((e) => (e.clientEventId !== null && existing.has(e.clientEventId) ? existing.get(e.clientEventId)! : bySequence.get(next++)!));
      return { kind: 'appended', events: result, stored: fresh.length, stateBytesRewritten } as const;
    },
    { maxWait: 15_000, timeout: 30_000 },
  );
}

/**
 * The same page for several sessions in one statement (a LATERAL subquery per session, each an index range
 * scan), for lists of sessions that select `events`. Returns each session's rows in the order `listEvents` would.
 */
export async function listEventsForSessions(
  sql: SqlRunner,
  sessionIds: readonly string[],
  shape: Omit<EventPageQuery, 'sessionId'>,
): Promise<SessionEventRow[][]> {
  if (sessionIds.length === 1) return [await listEvents(sql, { ...shape, sessionId: sessionIds[0]! })];
  const backward = shape.direction === 'BACKWARD';
  const rows = await sql.query<SessionEventRow>(Prisma.sql`
    SELECT p.* FROM unnest(${[...sessionIds]}::uuid[]) AS k(sid)
    CROSS JOIN LATERAL (${pageSql(Prisma.sql`k.sid`, shape)}) p`);
  const groups = groupAligned(rows, sessionIds, (row) => row.sessionId, (id) => id);
  for (const group of groups) group.sort((a, b) => (backward ? b.sequence - a.sequence : a.sequence - b.sequence));
  return groups;
}

/** Events' JSON columns by id (for rows read without them whose JSON fields are asked after all). */
export async function eventJsonByIds(sql: SqlRunner, ids: readonly string[]): Promise<Array<Pick<SessionEvent, 'id' | EventJsonField> | null>> {
  const rows = await sql.query<Pick<SessionEvent, 'id' | EventJsonField>>(Prisma.sql`
    SELECT ${EVENT_JSON_COLUMNS} FROM session_events e WHERE e.id = ANY(${[...ids]}::uuid[])`);
  return alignById(ids, rows);
}
