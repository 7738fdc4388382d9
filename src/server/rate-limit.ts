import { GraphQLError } from 'graphql';

/**
 * Per-API-key token buckets: `perMinute` requests a minute on average, bursts up to `burst`. The buckets belong
 * to one server instance (created with it, not per module), and idle ones are forgotten.
 */
export function createRateLimiter(options: { perMinute: number; burst: number }) {
  const buckets = new Map<string, { tokens: number; updatedAt: number }>();
  const refillPerMs = options.perMinute / 60_000;
  let lastSweep = Date.now();

  return {
    /** Takes one token for the key, or throws RATE_LIMITED (HTTP 429 with Retry-After). */
    take(key: string, now = Date.now()): void {
      if (options.perMinute <= 0) return;
      if (now - lastSweep > 60_000) {
        for (const [k, bucket] of buckets) if (now - bucket.updatedAt > 600_000) buckets.delete(k);
        lastSweep = now;
      }
      const bucket = buckets.get(key) ?? { tokens: options.burst, updatedAt: now };
      bucket.tokens = Math.min(options.burst, bucket.tokens + (now - bucket.updatedAt) * refillPerMs);
      bucket.updatedAt = now;
      buckets.set(key, bucket);
      if (bucket.tokens < 1) {
        const retryAfterSeconds = Math.ceil((1 - bucket.tokens) / refillPerMs / 1000);
        throw new GraphQLError(`Too many requests for this API key; retry in ${retryAfterSeconds} s.`, {
          extensions: { code: 'RATE_LIMITED', retryAfterSeconds, http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) } },
        });
      }
      bucket.tokens -= 1;
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
