import type { ApiKey, ApiKeyPermission, PrismaClient, User } from '../../generated/prisma/client.js';

/** The key and its owner in one statement: this runs on every request. */
export async function findApiKeyByPrefix(prisma: PrismaClient, prefix: string): Promise<(ApiKey & { user: User }) | null> {
  const rows = await prisma.$queryRaw<Array<ApiKey & { userEmail: string; userName: string | null; userMetadata: User['metadata']; userCreatedAt: Date; userUpdatedAt: Date }>>`
    SELECT k.id, k.user_id AS "userId", k.name, k.prefix, k.secret_hash AS "secretHash", k.permissions::text[] AS permissions,
           k.status::text AS status, k.created_at AS "createdAt", k.last_used_at AS "lastUsedAt", k.revoked_at AS "revokedAt",
           u.email AS "userEmail", u.name AS "userName", u.metadata AS "userMetadata", u.created_at AS "userCreatedAt", u.updated_at AS "userUpdatedAt"
    FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.prefix = ${prefix}`;
  const row = rows[0];
  if (!row) return null;
  const { userEmail, userName, userMetadata, userCreatedAt, userUpdatedAt, ...key } = row;
  return { ...key, user: { id: key.userId, email: userEmail, name: userName, metadata: userMetadata, createdAt: userCreatedAt, updatedAt: userUpdatedAt } };
}

/** Only moves `lastUsedAt` forward, so concurrent requests never set it back. */
export async function recordApiKeyUse(prisma: PrismaClient, id: string, at: Date): Promise<void> {
  await prisma.apiKey.updateMany({ where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: at } }] }, data: { lastUsedAt: at } });
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
