import type { Logger } from 'pino';
import type { Database } from './db/database.js';
import type { ApiKeyCache } from './modules/auth/api-key-cache.js';
import type { Viewer } from './modules/auth/viewer.js';
import type { Loaders } from './modules/loaders.js';
import type { LiveHub } from './live/live-hub.js';
import type { RequestRecord } from './server/telemetry/request-record.js';

/**
 * What one HTTP request has spent and until when it may run; the operations of a batch share it (Apollo copies the
 * context per operation, this object by reference).
 */
export type RequestBudget = {
  spentCost: number;
  deadline: number;
  /**
   * Work measured while executing that no estimate could know in advance (a session state rewritten: its size is in
   * the database), in cost units: taken from the key's cost rate after the fact, so the key's next request is refused
   * once it has run out.
   */
  chargeWork(cost: number): void;
};

/** Built once per request in Apollo's `context` function; nothing here outlives the request. */
export type GraphQLContext = {
  viewer: Viewer | null;
  loaders: Loaders;
  db: Database;
  log: Logger;
  /** The server's cache of verified API keys: a revocation must drop the key from it. */
  apiKeyCache?: ApiKeyCache;
  /** Absent for contexts made outside an HTTP request (scripts, tests of services). */
  budget?: RequestBudget;
  /** The HTTP request's record (id, operations, statements) for logs, metrics and traces; absent outside one. */
  request?: RequestRecord;
  /** This process's live subscribers (src/live); absent outside the server. */
  live?: LiveHub;
  /**
   * A subscription's context lives as long as it does, and each event it delivers is one execution: this gives the
   * context fresh loaders (no row cached from an earlier event) and a fresh deadline. Absent for queries and mutations.
   */
  renewForEvent?(): void;
  /** A subscription's transport: closes the connection of a subscriber that fell too far behind. */
  onSlowConsumer?(): void;
};
