import DataLoader from 'dataloader';
import type { Database } from '../../db/database.js';
import type { ApiKey } from '../../generated/prisma/client.js';
import { alignById } from '../shared/by-id.js';

export function createApiKeyLoaders(db: Database) {
  const apiKeyById = new DataLoader<string, ApiKey | null>(async (ids) => {
    const rows = await db.prisma.apiKey.findMany({ where: { id: { in: [...ids] } } });
    return alignById(ids, rows);
  });
  return { apiKeyById };
}
