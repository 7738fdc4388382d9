import DataLoader from 'dataloader';
import type { Database } from '../../db/database.js';
import type { Block } from '../../generated/prisma/client.js';
import { blocksByIds } from './block-store.js';

export function createBlockLoaders(db: Database) {
  // Node.block for every node of a graph: one statement, whatever the number of nodes.
  const byId = new DataLoader<string, Block | null>((ids) => blocksByIds(db.sql, ids));
  return { byId };
}

export type BlockLoaders = ReturnType<typeof createBlockLoaders>;
