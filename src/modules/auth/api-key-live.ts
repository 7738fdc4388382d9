import type { SqlRunner } from '../../db/sql.js';
import { forbidden, unauthenticated } from '../../errors.js';
import type { LiveHub } from '../../live/live-hub.js';
import type { ApiKeyCache } from './api-key-cache.js';
import { apiKeyStandings } from './api-key-store.js';

/**
 * A key changed (revoked, permissions changed, deleted) through some server process: this process forgets it (its
 * next request reads it again) and, when it is no longer what its live connections were authorized with, ends them.
 * Also run every few seconds over every key with live connections here, for changes whose notification was lost.
 */
export async function recheckApiKeys(sql: SqlRunner, hub: LiveHub | null, cache: ApiKeyCache | null, apiKeyIds: readonly string[]): Promise<void> {
  for (const id of apiKeyIds) cache?.forget(id);
  const open = new Set(hub?.liveKeys());
  const live = apiKeyIds.filter((id) => open.has(id));
  if (!hub || live.length === 0) return;
  const standings = await apiKeyStandings(sql, live);
  for (const id of live) {
    const key = standings.get(id);
    if (!key || key.status !== 'ACTIVE') hub.keyChanged(id, null, unauthenticated('The API key has been revoked.'));
    else hub.keyChanged(id, key.permissions, forbidden("The API key's permissions changed; subscribe again."));
  }
}
