import type { PrismaClient } from '../../generated/prisma/client.js';

export function findApiKeyByPrefix(prisma: PrismaClient, prefix: string) {
  return prisma.apiKey.findUnique({ where: { prefix }, include: { user: true } });
}

/** Only moves `lastUsedAt` forward, so concurrent requests never set it back. */
export async function recordApiKeyUse(prisma: PrismaClient, id: string, at: Date): Promise<void> {
  await prisma.apiKey.updateMany({ where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: at } }] }, data: { lastUsedAt: at } });
}
