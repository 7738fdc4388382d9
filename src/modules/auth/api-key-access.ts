import type { Logger } from 'pino';
import type { SqlRunner } from '../../db/sql.js';
import { coalescing } from '../shared/coalesce.js';
import { apiKeysByPrefixes, recordApiKeyUses } from './api-key-store.js';

/**
 * The API-key reads and writes of authentication, shared by every request of a server: lookups of keys the cache does
 * not hold, and the `lastUsedAt` bookkeeping. Both coalesce (shared/coalesce.ts): a burst of new clients, or a flood
 * of random keys, is one statement at a time on one connection, not a connection per request. Measured with
 * bench:abuse: at the abuse's onset ~20 lookups and `lastUsedAt` writes at once held the pool's connections for
 * 40–70 ms each, and the dashboard waited behind them.
 */
export function createApiKeyAccess(sql: SqlRunner, log: Logger) {
  const find = coalescing((prefixes: string[]) => apiKeysByPrefixes(sql, prefixes));
  /** The latest use of each key not written yet. */
  const uses = new Map<string, Date>();
  const writeUses = coalescing(async (ids: string[]) => {
    const batch = new Map(ids.map((id) => [id, uses.get(id)!]));
    for (const id of ids) uses.delete(id);
    await recordApiKeyUses(sql, batch);
    return new Map<string, never>();
  });
  return {
    /** The key with this prefix and its owner, or null. */
    find: async (prefix: string) => (await find(prefix)) ?? null,
    /** Records a use of the key, later and in the background: bookkeeping never slows down or fails a request. */
    recordUse(id: string, at: Date): void {
      uses.set(id, at);
      writeUses(id).catch((err: unknown) => log.warn({ err, apiKeyId: id }, 'could not record API key use'));
    },
  };
}

export type ApiKeyAccess = ReturnType<typeof createApiKeyAccess>;
