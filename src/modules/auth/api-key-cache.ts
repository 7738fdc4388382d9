import type { ApiKey, User } from '../../generated/prisma/client.js';

type CachedKey = ApiKey & { user: User };

/**
 * Recently verified API keys, for a few seconds, so a burst of requests with one key reads it once. It belongs
 * to one server instance; revoking a key through this instance forgets it at once, and another instance
 * notices within `ttlMs`.
 */
export function createApiKeyCache(options: { ttlMs: number; maxEntries: number }) {
  const entries = new Map<string, { key: CachedKey; expiresAt: number }>();
  return {
    get(prefix: string, now = Date.now()): CachedKey | null {
      const entry = entries.get(prefix);
      if (!entry) return null;
      if (entry.expiresAt <= now) {
        entries.delete(prefix);
        return null;
      }
      return entry.key;
    },
    set(key: CachedKey, now = Date.now()): void {
      if (options.ttlMs <= 0) return;
      if (entries.size >= options.maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key.prefix, { key, expiresAt: now + options.ttlMs });
    },
    forget(apiKeyId: string): void {
      for (const [prefix, entry] of entries) if (entry.key.id === apiKeyId) entries.delete(prefix);
    },
  };
}

export type ApiKeyCache = ReturnType<typeof createApiKeyCache>;
