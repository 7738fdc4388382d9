import type { Database } from '../db/database.js';
import { createGraphLoaders } from './graphs/loaders.js';
import { createUserLoaders } from './users/loaders.js';

/** The typed registry of every domain's DataLoaders, created afresh for each request. */
export function createLoaders(db: Database) {
  return {
    users: createUserLoaders(db),
    graphs: createGraphLoaders(db),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
