import type { ApiKey, User } from '../../generated/prisma/client.js';

type CachedKey = ApiKey & { user: User };

const VERIFIED_PREFIX_TTL_MS = 3_600_000;

/**
 * Recently verified API keys, for a few seconds, so a burst of requests with one key reads it once. It belongs
 * to one server instance; a key revoked or changed through any instance is forgotten at once (the change's
 * notification, src/modules/auth/api-key-live.ts), and within `ttlMs` should that notification be lost.
 */
export function createApiKeyCache(options: { ttlMs: number; maxEntries: number; unknownTtlMs?: number }) {
  const entries = new Map<string, { key: CachedKey; expiresAt: number }>();
  // Prefixes that named no key when read: a stream of made-up keys costs one lookup per prefix, not one per request.
  // A key's prefix is random, so a prefix probed before its key exists is (practically) never one that will.
  const unknown = new Map<string, number>();
  const unknownTtlMs = options.unknownTtlMs ?? 60_000;
  // Prefixes of keys verified in the last hour: not trusted for anything, only to let their lookups through while
  // the client's address is refused for failed attempts (another client behind the same proxy or NAT).
  const verified = new Map<string, number>();
  return {
    recentlyVerified(prefix: string, now = Date.now()): boolean {
      return (verified.get(prefix) ?? 0) > now;
    },
    rememberVerified(prefix: string, now = Date.now()): void {
      if (verified.size >= options.maxEntries) verified.delete(verified.keys().next().value!);
      verified.delete(prefix);
      verified.set(prefix, now + VERIFIED_PREFIX_TTL_MS);
    },
    isUnknown(prefix: string, now = Date.now()): boolean {
      const expiresAt = unknown.get(prefix);
      if (expiresAt === undefined) return false;
      if (expiresAt > now) return true;
      unknown.delete(prefix);
      return false;
    },
    rememberUnknown(prefix: string, now = Date.now()): void {
      if (unknownTtlMs <= 0) return;
      if (unknown.size >= options.maxEntries) unknown.delete(unknown.keys().next().value!);
      unknown.set(prefix, now + unknownTtlMs);
    },
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
    /** Forgets every verified key (notifications of revocations may have been lost). */
    clear(): void {
      entries.clear();
    },
    forget(apiKeyId: string): void {
      for (const [prefix, entry] of entries) if (entry.key.id === apiKeyId) entries.delete(prefix);
    },
  };
}

export type ApiKeyCache = ReturnType<typeof createApiKeyCache>;
