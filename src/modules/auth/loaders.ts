import DataLoader from 'dataloader';
import type { Database } from '../../db/database.js';
import type { ApiKey } from '../../generated/prisma/client.js';

export function createApiKeyLoaders(db: Database) {
  const apiKeyById = new DataLoader<string, ApiKey | null>(async (ids) => {
    const rows = await db.prisma.apiKey.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
  return { apiKeyById };
}
