import type { Database } from '../db/database.js';
import { createApiKeyLoaders } from './auth/loaders.js';
import { createExecutionLoaders } from './executions/loaders.js';
import { createGraphLoaders } from './graphs/loaders.js';
import { createUserLoaders } from './users/loaders.js';
import { createSessionLoaders } from './sessions/loaders.js';
import { createStatsLoaders } from './stats/loaders.js';

/** The typed registry of every domain's DataLoaders, created afresh for each request. */
export function createLoaders(db: Database) {
  return {
    users: createUserLoaders(db),
    graphs: createGraphLoaders(db),
    executions: createExecutionLoaders(db),
    apiKeys: createApiKeyLoaders(db),
    sessions: createSessionLoaders(db),
    stats: createStatsLoaders(db),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
