import type { Logger } from 'pino';
import type { Database } from './db/database.js';
import type { Viewer } from './modules/auth/viewer.js';
import type { Loaders } from './modules/loaders.js';

/** Built once per request in Apollo's `context` function; nothing here outlives the request. */
export type GraphQLContext = {
  viewer: Viewer | null;
  loaders: Loaders;
  db: Database;
  log: Logger;
};
