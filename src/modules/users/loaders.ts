import DataLoader from 'dataloader';
import type { Database } from '../../db/database.js';
import type { User } from '../../generated/prisma/client.js';
import { alignById } from '../shared/by-id.js';

export function createUserLoaders(db: Database) {
  const userById = new DataLoader<string, User | null>(async (ids) => {
    const rows = await db.prisma.user.findMany({ where: { id: { in: [...ids] } } });
    return alignById(ids, rows);
  });
  return { userById };
}

export type UserLoaders = ReturnType<typeof createUserLoaders>;
