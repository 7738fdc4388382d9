import DataLoader from 'dataloader';
import type { Database } from '../../db/database.js';
import type { User } from '../../generated/prisma/client.js';

export function createUserLoaders(db: Database) {
  const userById = new DataLoader<string, User | null>(async (ids) => {
    const rows = await db.prisma.user.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
  return { userById };
}

export type UserLoaders = ReturnType<typeof createUserLoaders>;
