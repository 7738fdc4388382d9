import type { Database } from '../db/database.js';
import { createApiKeyLoaders } from './auth/loaders.js';
import { createBlockLoaders } from './blocks/loaders.js';
import { createExecutionLoaders } from './executions/loaders.js';
import { createGraphLoaders } from './graphs/loaders.js';
import { createUserLoaders } from './users/loaders.js';
import { createSessionLoaders } from './sessions/loaders.js';
import { createStatsLoaders } from './stats/loaders.js';

/**
 * The typed registry of every domain's DataLoaders, created afresh for each request. A domain's loaders are made
 * on first use: most requests touch one or two domains, and a few dozen unused DataLoaders per request are
 * measurable garbage at thousands of requests per second.
 */
export function createLoaders(db: Database) {
  let users: ReturnType<typeof createUserLoaders> | undefined;
  let graphs: ReturnType<typeof createGraphLoaders> | undefined;
  let blocks: ReturnType<typeof createBlockLoaders> | undefined;
  let executions: ReturnType<typeof createExecutionLoaders> | undefined;
  let apiKeys: ReturnType<typeof createApiKeyLoaders> | undefined;
  let sessions: ReturnType<typeof createSessionLoaders> | undefined;
  let stats: ReturnType<typeof createStatsLoaders> | undefined;
  return {
    get users() {
      return (users ??= createUserLoaders(db));
    },
    get graphs() {
      return (graphs ??= createGraphLoaders(db));
    },
    get blocks() {
      return (blocks ??= createBlockLoaders(db));
    },
    get executions() {
      return (executions ??= createExecutionLoaders(db));
    },
    get apiKeys() {
      return (apiKeys ??= createApiKeyLoaders(db));
    },
    get sessions() {
      return (sessions ??= createSessionLoaders(db));
    },
    get stats() {
      return (stats ??= createStatsLoaders(db));
    },
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
