import DataLoader from 'dataloader';
import type { Database } from '../../db/database.js';
import type { User } from '../../generated/prisma/client.js';
import { usersByIds } from './user-store.js';

export function createUserLoaders(db: Database) {
  const userById = new DataLoader<string, User | null>((ids) => usersByIds(db.sql, ids));
  return { userById };
}

export type UserLoaders = ReturnType<typeof createUserLoaders>;
