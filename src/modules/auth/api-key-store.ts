import type { ApiKey, ApiKeyPermission, PrismaClient } from '../../generated/prisma/client.js';

export function findApiKeyByPrefix(prisma: PrismaClient, prefix: string) {
  return prisma.apiKey.findUnique({ where: { prefix }, include: { user: true } });
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
