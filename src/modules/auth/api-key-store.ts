import { Prisma, type ApiKey, type ApiKeyPermission, type PrismaClient, type User } from '../../generated/prisma/client.js';
import type { SqlRunner } from '../../db/sql.js';
import { USER_TABLE } from '../users/columns.js';
import { API_KEY_TABLE } from './columns.js';

const OWNER_PREFIX = 'user.';

/** Keys with their owners by prefix, in one statement (for keys not cached; columns from both declarations). */
export async function apiKeysByPrefixes(sql: SqlRunner, prefixes: readonly string[]): Promise<Map<string, ApiKey & { user: User }>> {
  const rows = await sql.query<Record<string, unknown>>(Prisma.sql`
    SELECT ${API_KEY_TABLE.select()}, ${USER_TABLE.select(undefined, 'u', OWNER_PREFIX)}
    FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.prefix = ANY(${[...prefixes]}::text[])`);
  return new Map(rows.map((row) => [row.prefix as string, { ...API_KEY_TABLE.fromRow(row), user: USER_TABLE.fromRow(row, OWNER_PREFIX) }]));
}

/** Where each key stands, for the live connections authorized with it (keys that are gone are absent). */
export async function apiKeyStandings(sql: SqlRunner, ids: readonly string[]): Promise<Map<string, ApiKey>> {
  const rows = await sql.query<Record<string, unknown>>(Prisma.sql`SELECT ${API_KEY_TABLE.select()} FROM api_keys k WHERE k.id = ANY(${[...ids]}::uuid[])`);
  return new Map(rows.map((row) => {
    const key = API_KEY_TABLE.fromRow(row);
    return [key.id, key];
  }));
}

/** Moves each key's `lastUsedAt` to its time, only forward, so concurrent writers never set it back. */
export async function recordApiKeyUses(sql: SqlRunner, uses: ReadonlyMap<string, Date>): Promise<void> {
  await sql.query(Prisma.sql`
    UPDATE api_keys k SET last_used_at = u.at
    FROM unnest(${[...uses.keys()]}::uuid[], ${[...uses.values()].map((at) => at.toISOString())}::timestamptz[]) AS u(id, at)
    WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`);
}

export async function insertApiKey(
  prisma: PrismaClient,
  data: { userId: string; name: string; prefix: string; secretHash: string; permissions: ApiKeyPermission[] },
): Promise<string> {
  const row = await prisma.apiKey.create({ data, select: { id: true } });
  return row.id;
}

/** Returns whether a still-active key was revoked. */
export async function revokeApiKeyRow(prisma: PrismaClient, id: string): Promise<boolean> {
  const { count } = await prisma.apiKey.updateMany({ where: { id, status: 'ACTIVE' }, data: { status: 'REVOKED', revokedAt: new Date() } });
  return count === 1;
}

/** A user's keys, newest first, keyset-paged on (createdAt, id). */
export function listApiKeys(prisma: PrismaClient, userId: string, after: { at: Date; id: string } | null, take: number): Promise<ApiKey[]> {
  return prisma.apiKey.findMany({
    where: {
      userId,
      ...(after ? { OR: [{ createdAt: { lt: after.at } }, { createdAt: after.at, id: { lt: after.id } }] } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take,
  });
}

export function countApiKeys(prisma: PrismaClient, userId: string): Promise<number> {
  return prisma.apiKey.count({ where: { userId } });
}
