/**
 * Data access for sessions. Reads and one-statement writes run on `db.sql` (see src/db/database.ts), with columns
 * rendered from the declaration in columns.ts; the JSON columns (metadata, state) are read only when asked for
 * (`SessionRow`). Only the batched bulk deletion needs Prisma's interactive transactions.
 */
import { Prisma, type PrismaClient, type Session, type SessionStatus } from '../../generated/prisma/client.js';
import { limitLiteral, type SqlRunner } from '../../db/sql.js';
import type { OrderDirection, SessionOrderField } from '../../generated/graphql.js';
import { decodeCursor, encodeCursor } from '../shared/pagination.js';
import { alignById } from '../shared/by-id.js';
import { uuidv7 } from '../shared/ids.js';
import { SESSION_TABLE } from './columns.js';

/** A session's JSON columns: large (the state up to MAX_STATE_BYTES), read only when a query asks for them. */
export const SESSION_JSON_FIELDS = ['metadata', 'state'] as const;
export type SessionJsonField = (typeof SESSION_JSON_FIELDS)[number];

/** A session as read: the JSON columns are present only when the read asked for them. */
export type SessionRow = Omit<Session, SessionJsonField> & Partial<Pick<Session, SessionJsonField>>;

/** The most JSON text a session's state may hold, measured as `octet_length(state::text)` (the same on both databases). */
export const MAX_STATE_BYTES = 1024 * 1024;

/** Every column but the JSON ones: what every session read returns. */
const LIGHT_COLUMNS = SESSION_TABLE.columns.filter((column) => column.kind !== 'json');

/** The JSON fields named in `fields`, in model order (part of loader and page keys). */
export const sessionJsonOf = (fields: ReadonlySet<string>, prefix = ''): SessionJsonField[] =>
  SESSION_JSON_FIELDS.filter((field) => fields.has(prefix + field));

/** The light columns and the JSON columns in `json`, aliased to the model's field names. */
export const sessionColumns = (json: readonly SessionJsonField[]) =>
  SESSION_TABLE.select([...LIGHT_COLUMNS, ...json.map((field) => SESSION_TABLE.column(field))]);

export type SessionListFilter = {
  appName?: string | null;
  agentId?: string | null;
  status?: readonly SessionStatus[] | null;
  teamSessionId?: string | null;
  isTeamMember?: boolean | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
  updatedAfter?: Date | null;
  updatedBefore?: Date | null;
  metadataContains?: Record<string, unknown> | null;
};

export type SessionListQuery = {
  /** null: every owner (admins only; the caller decides). */
  ownerId: string | null;
  filter: SessionListFilter;
  field: SessionOrderField;
  direction: OrderDirection;
  after?: string | null;
  size: number;
  /** The JSON columns the page reads. */
  json: readonly SessionJsonField[];
};

const COLUMN: Record<SessionOrderField, Prisma.Sql> = {
  CREATED_AT: Prisma.sql`s.created_at`,
  UPDATED_AT: Prisma.sql`s.updated_at`,
};

export function sessionCursor(query: Pick<SessionListQuery, 'field' | 'direction'>) {
  const order = `sessions:${query.field}:${query.direction}`;
  const valueOf = (session: SessionRow) => (query.field === 'CREATED_AT' ? session.createdAt : session.updatedAt);
  return {
    encode: (session: SessionRow) => encodeCursor(order, [valueOf(session), session.id]),
    decode: (cursor: string) => {
      const [value, id] = decodeCursor(cursor, order, ['date', 'uuid']);
      return { value, id };
    },
  };
}

function filterConditions(query: Pick<SessionListQuery, 'ownerId' | 'filter'>): Prisma.Sql[] {
  const f = query.filter;
  const where: Prisma.Sql[] = [];
  if (query.ownerId) where.push(Prisma.sql`s.user_id = ${query.ownerId}::uuid`);
  if (f.appName != null) where.push(Prisma.sql`s.app_name = ${f.appName}`);
  if (f.agentId != null) where.push(Prisma.sql`s.agent_id = ${f.agentId}`);
  if (f.status && f.status.length > 0) {
    where.push(Prisma.sql`s.status::text IN (${Prisma.join(f.status.map((status) => Prisma.sql`${status}`))})`);
  }
  if (f.teamSessionId != null) where.push(Prisma.sql`s.team_session_id = ${f.teamSessionId}::uuid`);
  if (f.isTeamMember === true) where.push(Prisma.sql`s.team_session_id IS NOT NULL`);
  if (f.isTeamMember === false) where.push(Prisma.sql`s.team_session_id IS NULL`);
  if (f.createdAfter) where.push(Prisma.sql`s.created_at >= ${f.createdAfter}`);
  if (f.createdBefore) where.push(Prisma.sql`s.created_at < ${f.createdBefore}`);
  if (f.updatedAfter) where.push(Prisma.sql`s.updated_at >= ${f.updatedAfter}`);
  if (f.updatedBefore) where.push(Prisma.sql`s.updated_at < ${f.updatedBefore}`);
  if (f.metadataContains) where.push(Prisma.sql`s.metadata @> ${JSON.stringify(f.metadataContains)}::jsonb`);
  return where;
}

const whereClause = (conditions: Prisma.Sql[]) =>
  conditions.length === 0 ? Prisma.empty : Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}`;

/** One page (`size + 1` rows, the extra one says whether more exist) in keyset order with the id as tie-breaker. */
export async function listSessions(sql: SqlRunner, query: SessionListQuery): Promise<SessionRow[]> {
  const conditions = filterConditions(query);
  const column = COLUMN[query.field];
  const desc = query.direction === 'DESC';
  if (query.after) {
    const cursor = sessionCursor(query).decode(query.after);
    if (Number.isNaN(cursor.value.valueOf())) return [];
    // Row-value comparison: one index range condition on (column, id).
    conditions.push(
      desc
        ? Prisma.sql`(${column}, s.id) < (${cursor.value}, ${cursor.id}::uuid)`
        : Prisma.sql`(${column}, s.id) > (${cursor.value}, ${cursor.id}::uuid)`,
    );
  }
  const dir = desc ? Prisma.sql`DESC` : Prisma.sql`ASC`;
  return sql.query<SessionRow>(Prisma.sql`
    SELECT ${sessionColumns(query.json)} FROM sessions s ${whereClause(conditions)}
    ORDER BY ${column} ${dir}, s.id ${dir} LIMIT ${limitLiteral(query.size + 1)}`);
}

export async function countSessions(sql: SqlRunner, query: Pick<SessionListQuery, 'ownerId' | 'filter'>): Promise<number> {
  const [row] = await sql.query<{ count: number }>(Prisma.sql`
    SELECT count(*)::int AS "count" FROM sessions s ${whereClause(filterConditions(query))}`);
  return row?.count ?? 0;
}

/** Sessions by id, with the JSON columns in `json`; null for ids that name none. */
export async function sessionsByIds(sql: SqlRunner, ids: readonly string[], json: readonly SessionJsonField[]): Promise<Array<SessionRow | null>> {
  const rows = await sql.query<SessionRow>(Prisma.sql`
    SELECT ${sessionColumns(json)} FROM sessions s WHERE s.id = ANY(${[...ids]}::uuid[])`);
  return alignById(ids, rows);
}

/** Member counts of team sessions, optionally only the members of one owner. */
export async function memberCounts(sql: SqlRunner, keys: ReadonlyArray<{ teamSessionId: string; ownerId: string | null }>): Promise<number[]> {
  const ids = [...new Set(keys.map((k) => k.teamSessionId))];
  const rows = await sql.query<{ teamSessionId: string; userId: string; count: number }>(Prisma.sql`
    SELECT s.team_session_id::text AS "teamSessionId", s.user_id::text AS "userId", count(*)::int AS "count"
    FROM sessions s WHERE s.team_session_id = ANY(${ids}::uuid[]) GROUP BY 1, 2`);
  return keys.map((key) =>
    rows
      .filter((row) => row.teamSessionId === key.teamSessionId && (key.ownerId === null || row.userId === key.ownerId))
      .reduce((sum, row) => sum + row.count, 0),
  );
}

export type NewSession = {
  appName: string;
  userId: string;
  agentId: string | null;
  metadata: Record<string, unknown>;
  state: Record<string, unknown>;
  teamSessionId: string | null;
};

const jsonb = (value: unknown) => Prisma.sql`${JSON.stringify(value)}::jsonb`;

/** The state fits MAX_STATE_BYTES (measured in SQL, as PostgreSQL writes the jsonb). */
const stateFits = (state: Prisma.Sql) => Prisma.sql`octet_length((${state})::text) <= ${MAX_STATE_BYTES}`;

/** Inserts a session and returns it with the JSON columns in `json`; null (nothing written) when its state is too large. */
export async function insertSession(sql: SqlRunner, data: NewSession, json: readonly SessionJsonField[]): Promise<SessionRow | null> {
  const [row] = await sql.query<SessionRow>(Prisma.sql`
    INSERT INTO sessions AS s (id, app_name, user_id, agent_id, metadata, state, team_session_id, updated_at)
    SELECT ${uuidv7()}::uuid, ${data.appName}, ${data.userId}::uuid, ${data.agentId}, ${jsonb(data.metadata)}, n.state,
      ${data.teamSessionId}::uuid, now()
    FROM (SELECT ${jsonb(data.state)} AS state) n WHERE ${stateFits(Prisma.sql`n.state`)}
    RETURNING ${sessionColumns(json)}`);
  return row ?? null;
}

export type SessionChanges = {
  appName?: string;
  agentId?: string | null;
  metadata?: Record<string, unknown>;
  state?: Record<string, unknown>;
  status?: SessionStatus;
};

/** Each change as `[column, new value]`, in SQL. */
function changedColumns(changes: SessionChanges): Array<[Prisma.Sql, Prisma.Sql]> {
  const columns: Array<[Prisma.Sql, Prisma.Sql]> = [];
  if (changes.appName !== undefined) columns.push([Prisma.sql`app_name`, Prisma.sql`${changes.appName}`]);
  if (changes.agentId !== undefined) columns.push([Prisma.sql`agent_id`, Prisma.sql`${changes.agentId}::text`]);
  if (changes.metadata !== undefined) columns.push([Prisma.sql`metadata`, jsonb(changes.metadata)]);
  if (changes.state !== undefined) columns.push([Prisma.sql`state`, jsonb(changes.state)]);
  if (changes.status !== undefined) columns.push([Prisma.sql`status`, Prisma.sql`${changes.status}::"SessionStatus"`]);
  return columns;
}

/** Whether `changes` would change the row `s` (jsonb compares by value, not by text). */
const wouldChange = (columns: Array<[Prisma.Sql, Prisma.Sql]>) =>
  Prisma.join(columns.map(([column, value]) => Prisma.sql`s.${column} IS DISTINCT FROM ${value}`), ' OR ');

/**
 * Applies `changes` and bumps the version in one conditional statement: only when the row is the caller's
 * (`ownerId` null = anyone's), has one of `fromStatuses` and the expected version, a new state fits MAX_STATE_BYTES
 * and something actually changes (an update to the same values is not a new version). Returns the updated row with
 * the JSON columns in `json`, or null when no row qualified (the caller then finds out why: `whyUnchanged`).
 */
export async function updateSessionIf(
  sql: SqlRunner,
  id: string,
  ownerId: string | null,
  changes: SessionChanges,
  conditions: { expectedVersion?: number | null; fromStatuses?: readonly SessionStatus[] },
  json: readonly SessionJsonField[],
): Promise<SessionRow | null> {
  const columns = changedColumns(changes);
  if (columns.length === 0) return null;
  const where = [Prisma.sql`s.id = ${id}::uuid`, Prisma.sql`(${wouldChange(columns)})`];
  if (ownerId) where.push(Prisma.sql`s.user_id = ${ownerId}::uuid`);
  if (conditions.expectedVersion != null) where.push(Prisma.sql`s.version = ${conditions.expectedVersion}`);
  if (conditions.fromStatuses) where.push(Prisma.sql`s.status::text IN (${Prisma.join([...conditions.fromStatuses])})`);
  if (changes.state !== undefined) where.push(stateFits(jsonb(changes.state)));
  const set = Prisma.join(columns.map(([column, value]) => Prisma.sql`${column} = ${value}`));
  const [row] = await sql.query<SessionRow>(Prisma.sql`
    UPDATE sessions AS s SET ${set}, version = s.version + 1, updated_at = now()
    WHERE ${Prisma.join(where, ' AND ')} RETURNING ${sessionColumns(json)}`);
  return row ?? null;
}

/** A session as it is now, and of `changes`: whether they would change it and whether a new state fits. */
export async function whyUnchanged(
  sql: SqlRunner,
  id: string,
  changes: SessionChanges,
  json: readonly SessionJsonField[],
): Promise<{ session: SessionRow; changes: boolean; stateFits: boolean } | null> {
  const columns = changedColumns(changes);
  const changed = columns.length === 0 ? Prisma.sql`false` : wouldChange(columns);
  const fits = changes.state === undefined ? Prisma.sql`true` : stateFits(jsonb(changes.state));
  const [row] = await sql.query<SessionRow & { wouldChange: boolean; stateFits: boolean }>(Prisma.sql`
    SELECT ${sessionColumns(json)}, (${changed}) AS "wouldChange", (${fits}) AS "stateFits" FROM sessions s WHERE s.id = ${id}::uuid`);
  if (!row) return null;
  const { wouldChange: changesIt, stateFits: fitsIt, ...session } = row;
  return { session, changes: changesIt, stateFits: fitsIt };
}

export async function deleteSessionById(sql: SqlRunner, id: string, ownerId: string | null): Promise<boolean> {
  const owner = ownerId ? Prisma.sql`AND s.user_id = ${ownerId}::uuid` : Prisma.empty;
  const rows = await sql.query<{ id: string }>(Prisma.sql`DELETE FROM sessions s WHERE s.id = ${id}::uuid ${owner} RETURNING s.id::text AS "id"`);
  return rows.length > 0;
}

// ---- bulk deletion (the deleteSessions mutation and the sessions:prune CLI) ----

export type BulkDeleteCriteria = {
  userId?: string | null;
  appName?: string | null;
  status?: readonly SessionStatus[] | null;
  updatedBefore?: Date | null;
};

export type BulkDeleteOptions = {
  /** Sessions per transaction. */
  batchSize?: number;
  /** Events per DELETE statement. */
  eventChunkSize?: number;
  /** Count what would be deleted, delete nothing. */
  dryRun?: boolean;
  onBatch?: (progress: { sessions: number; events: number }) => void;
};

function bulkConditions(criteria: BulkDeleteCriteria): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  if (criteria.userId) where.push(Prisma.sql`s.user_id = ${criteria.userId}::uuid`);
  if (criteria.appName != null) where.push(Prisma.sql`s.app_name = ${criteria.appName}`);
  if (criteria.status && criteria.status.length > 0) {
    where.push(Prisma.sql`s.status::text IN (${Prisma.join(criteria.status.map((status) => Prisma.sql`${status}`))})`);
  }
  if (criteria.updatedBefore) where.push(Prisma.sql`s.updated_at < ${criteria.updatedBefore}`);
  return where;
}

/**
 * Deletes the sessions matching every criterion, with their events, in bounded batches: each transaction takes
 * at most `batchSize` sessions (locked, skipping rows another writer holds), deletes their events in chunks of
 * `eventChunkSize` rows, then the sessions (re-checking the criteria, so a session touched meanwhile survives).
 * No statement touches an unbounded number of rows. Returns what was deleted (or, dry, what would be).
 */
export async function deleteSessionsInBatches(
  prisma: PrismaClient,
  criteria: BulkDeleteCriteria,
  options: BulkDeleteOptions = {},
): Promise<{ sessions: number; events: number }> {
  const batchSize = options.batchSize ?? 1000;
  const eventChunk = options.eventChunkSize ?? 5000;
  const conditions = bulkConditions(criteria);
  const where = whereClause(conditions);
  if (options.dryRun) {
    const [row] = await prisma.$queryRaw<Array<{ sessions: number; events: number }>>`
      SELECT count(*)::int AS "sessions", coalesce(sum(s.last_sequence), 0)::int AS "events" FROM sessions s ${where}`;
    return { sessions: row?.sessions ?? 0, events: row?.events ?? 0 };
  }
  const total = { sessions: 0, events: 0 };
  for (;;) {
    const batch = await prisma.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<Array<{ id: string }>>`
          SELECT s.id::text AS "id" FROM sessions s ${where}
          ORDER BY s.updated_at LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`;
        if (rows.length === 0) return { sessions: 0, events: 0, more: false };
        const ids = Prisma.join(rows.map((row) => Prisma.sql`${row.id}::uuid`));
        let events = 0;
        for (;;) {
          const deleted = await tx.$executeRaw`
            DELETE FROM session_events WHERE id IN (
              SELECT id FROM session_events WHERE session_id IN (${ids}) LIMIT ${eventChunk})`;
          events += deleted;
          if (deleted < eventChunk) break;
        }
        const sessions = await tx.$executeRaw`
          DELETE FROM sessions s WHERE s.id IN (${ids})${conditions.length ? Prisma.sql` AND ${Prisma.join(conditions, ' AND ')}` : Prisma.empty}`;
        return { sessions, events, more: rows.length === batchSize };
      },
      { maxWait: 10_000, timeout: 120_000 },
    );
    total.sessions += batch.sessions;
    total.events += batch.events;
    if (batch.sessions > 0 || batch.events > 0) options.onBatch?.({ ...total });
    if (!batch.more) break;
  }
  return total;
}
