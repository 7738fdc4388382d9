import { unauthenticated } from '../../errors.js';
import type { ApiKeyAccess } from './api-key-access.js';
import { apiKeyMatchesHash, apiKeyPrefix } from './api-key-secret.js';
import type { ApiKeyCache } from './api-key-cache.js';
import { makeViewer, type Viewer } from './viewer.js';

/** `lastUsedAt` is written at most this often per key, so reads do not turn into a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** The token of an `Authorization: Bearer <token>` header, or null for any other shape. */
export const bearerToken = (authorization: string | undefined): string | null => /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1] ?? null;

/**
 * Resolves the `Authorization` header to a viewer: null without one (the server refuses such a request as it refuses a
 * bad key); a header with a wrong, unknown or revoked key is refused outright.
 */
export async function authenticate(
  keys: ApiKeyAccess,
  authorization: string | undefined,
  cache?: ApiKeyCache,
  /** Called before a key not verified lately is read from the database: may refuse by throwing. */
  beforeLookup?: () => void,
): Promise<Viewer | null> {
  if (!authorization) return null;
  const key = bearerToken(authorization);
  const prefix = key ? apiKeyPrefix(key) : null;
  if (!key || !prefix) throw unauthenticated('The Authorization header must be `Bearer <api key>`.', 401);

  if (cache?.isUnknown(prefix)) throw unauthenticated('The API key is not valid.', 401);
  const cached = cache?.get(prefix);
  if (!cached && !cache?.recentlyVerified(prefix)) beforeLookup?.();
  const apiKey = cached ?? (await keys.find(prefix));
  if (!apiKey) cache?.rememberUnknown(prefix);
  if (!apiKey || !apiKeyMatchesHash(key, apiKey.secretHash)) throw unauthenticated('The API key is not valid.', 401);
  if (apiKey.status !== 'ACTIVE') throw unauthenticated('The API key has been revoked.', 401);
  // Cached only when read: a hit must not extend the entry, or a key in constant use would never be read again and
  // a revocation made through another server instance would never be seen here.
  if (!cached) {
    cache?.set(apiKey);
    cache?.rememberVerified(prefix);
  }

  const now = new Date();
  if (!apiKey.lastUsedAt || now.getTime() - apiKey.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    apiKey.lastUsedAt = now;
    keys.recordUse(apiKey.id, now);
  }
  return makeViewer(apiKey.user, apiKey.id, apiKey.permissions);
}
