/**
 * Data access for sessions. Lists are raw SQL (jsonb containment and row-value keyset conditions are not
 * expressible with Prisma's query builder) with columns aliased to the Prisma model's field names, so rows are
 * `Session` values either way.
 */
import { Prisma, type PrismaClient, type Session, type SessionStatus } from '../../generated/prisma/client.js';
import type { OrderDirection, SessionOrderField } from '../../generated/graphql.js';
import { decodeCursor, encodeCursor } from '../shared/pagination.js';
import { alignById } from '../shared/by-id.js';

/** Prisma's client or an interactive transaction's client. */
export type Db = PrismaClient | Prisma.TransactionClient;

export const SESSION_COLUMNS = Prisma.sql`
  s.id::text AS "id", s.app_name AS "appName", s.user_id::text AS "userId", s.agent_id AS "agentId",
  s.status::text AS "status", s.metadata AS "metadata", s.state AS "state", s.team_session_id::text AS "teamSessionId",
  s.version AS "version", s.last_sequence AS "lastSequence", s.created_at AS "createdAt", s.updated_at AS "updatedAt"`;

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
};

const COLUMN: Record<SessionOrderField, Prisma.Sql> = {
  CREATED_AT: Prisma.sql`s.created_at`,
  UPDATED_AT: Prisma.sql`s.updated_at`,
};

export function sessionCursor(query: Pick<SessionListQuery, 'field' | 'direction'>) {
  const order = `sessions:${query.field}:${query.direction}`;
  const valueOf = (session: Session) => (query.field === 'CREATED_AT' ? session.createdAt : session.updatedAt);
  return {
    encode: (session: Session) => encodeCursor(order, [valueOf(session), session.id]),
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
export async function listSessions(db: Db, query: SessionListQuery): Promise<Session[]> {
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
  return db.$queryRaw<Session[]>`
    SELECT ${SESSION_COLUMNS} FROM sessions s ${whereClause(conditions)}
    ORDER BY ${column} ${dir}, s.id ${dir} LIMIT ${query.size + 1}`;
}

export async function countSessions(db: Db, query: Pick<SessionListQuery, 'ownerId' | 'filter'>): Promise<number> {
  const [row] = await db.$queryRaw<Array<{ count: number }>>`
    SELECT count(*)::int AS "count" FROM sessions s ${whereClause(filterConditions(query))}`;
  return row?.count ?? 0;
}

export async function sessionsByIds(db: Db, ids: readonly string[]): Promise<Array<Session | null>> {
  const rows = await db.session.findMany({ where: { id: { in: [...ids] } } });
  return alignById(ids, rows);
}

/** Member counts of team sessions, optionally only the members of one owner. */
export async function memberCounts(db: Db, keys: ReadonlyArray<{ teamSessionId: string; ownerId: string | null }>): Promise<number[]> {
  const ids = [...new Set(keys.map((k) => k.teamSessionId))];
  const rows = await db.session.groupBy({
    by: ['teamSessionId', 'userId'],
    where: { teamSessionId: { in: ids } },
    _count: { _all: true },
  });
  return keys.map((key) =>
    rows
      .filter((row) => row.teamSessionId === key.teamSessionId && (key.ownerId === null || row.userId === key.ownerId))
      .reduce((sum, row) => sum + row._count._all, 0),
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

export function insertSession(db: Db, data: NewSession): Promise<Session> {
  return db.session.create({
    data: {
      appName: data.appName,
      userId: data.userId,
      agentId: data.agentId,
      metadata: data.metadata as Prisma.InputJsonObject,
      state: data.state as Prisma.InputJsonObject,
      teamSessionId: data.teamSessionId,
    },
  });
}

export type SessionChanges = {
  appName?: string;
  agentId?: string | null;
  metadata?: Record<string, unknown>;
  state?: Record<string, unknown>;
  status?: SessionStatus;
};

/**
 * Applies `changes` and bumps the version in one conditional statement: only when the row is the caller's
 * (`ownerId` null = anyone's), has one of `fromStatuses` and the expected version. Returns the updated row, or
 * null when no row qualified (the caller then finds out why).
 */
export async function updateSessionIf(
  db: Db,
  id: string,
  ownerId: string | null,
  changes: SessionChanges,
  conditions: { expectedVersion?: number | null; fromStatuses?: readonly SessionStatus[] },
): Promise<Session | null> {
  const { count } = await db.session.updateMany({
    where: {
      id,
      ...(ownerId ? { userId: ownerId } : {}),
      ...(conditions.expectedVersion != null ? { version: conditions.expectedVersion } : {}),
      ...(conditions.fromStatuses ? { status: { in: [...conditions.fromStatuses] } } : {}),
    },
    data: {
      ...(changes.appName !== undefined ? { appName: changes.appName } : {}),
      ...(changes.agentId !== undefined ? { agentId: changes.agentId } : {}),
      ...(changes.metadata !== undefined ? { metadata: changes.metadata as Prisma.InputJsonObject } : {}),
      ...(changes.state !== undefined ? { state: changes.state as Prisma.InputJsonObject } : {}),
      ...(changes.status !== undefined ? { status: changes.status } : {}),
      version: { increment: 1 },
    },
  });
  if (count === 0) return null;
  return db.session.findUnique({ where: { id } });
}

export async function deleteSessionById(db: Db, id: string, ownerId: string | null): Promise<boolean> {
  const { count } = await db.session.deleteMany({ where: { id, ...(ownerId ? { userId: ownerId } : {}) } });
  return count > 0;
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
