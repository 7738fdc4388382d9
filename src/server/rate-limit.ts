import type { ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import type { ErrorCode } from '../errors.js';

/**
 * Token buckets per client: `perMinute` tokens a minute on average, bursts up to `burst`. The buckets belong to one
 * server instance (created with it, not per module), and idle ones are forgotten.
 *
 * Several replicas: each process limits on its own, and the configured figures are the whole service's, divided by
 * `replicas` (RATE_LIMIT_REPLICAS). A shared store (a PostgreSQL row per client) would make every request a write on
 * the hottest path, and the limits exist to protect each process's event loop and pool, which a per-replica share
 * does exactly; a balancer spreading a client over the replicas gives it the whole limit, one pinning it to one
 * replica gives it that replica's share.
 */
export type BucketOptions = { perMinute: number; burst: number };

function rateLimited(message: string, retryAfterSeconds: number): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'RATE_LIMITED' satisfies ErrorCode, retryAfterSeconds, http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) } },
  });
}

function createTokenBuckets(options: BucketOptions, what: string) {
  const buckets = new Map<string, { tokens: number; updatedAt: number }>();
  const refillPerMs = options.perMinute / 60_000;
  let lastSweep = Date.now();
  const enabled = options.perMinute > 0;

  const refilled = (key: string, now: number) => {
    if (now - lastSweep > 60_000) {
      for (const [k, bucket] of buckets) if (now - bucket.updatedAt > 600_000) buckets.delete(k);
      lastSweep = now;
    }
    const bucket = buckets.get(key) ?? { tokens: options.burst, updatedAt: now };
    bucket.tokens = Math.min(options.burst, bucket.tokens + (now - bucket.updatedAt) * refillPerMs);
    bucket.updatedAt = now;
    buckets.set(key, bucket);
    return bucket;
  };
  const refusal = (tokens: number, amount: number) => {
    const retryAfterSeconds = Math.max(1, Math.ceil((Math.min(amount, options.burst) - tokens) / refillPerMs / 1000));
    return rateLimited(`Too many ${what}; retry in ${retryAfterSeconds} s.`, retryAfterSeconds);
  };

  return {
    /** Takes `amount` tokens for the client, or throws RATE_LIMITED (HTTP 429 with Retry-After) and takes none. */
    take(key: string, amount = 1, now = Date.now()): void {
      if (!enabled) return;
      const bucket = refilled(key, now);
      if (bucket.tokens < amount) throw refusal(bucket.tokens, amount);
      bucket.tokens -= amount;
    },
    /** Takes a token whatever is left (the bucket may go below zero): for what already happened, such as a failed login. */
    charge(key: string, amount = 1, now = Date.now()): void {
      if (!enabled) return;
      refilled(key, now).tokens -= amount;
    },
    /** Throws RATE_LIMITED when the client has no token left, without taking one. */
    check(key: string, now = Date.now()): void {
      if (!enabled) return;
      const bucket = refilled(key, now);
      if (bucket.tokens < 1) throw refusal(bucket.tokens, 1);
    },
  };
}


export type RateLimitOptions = {
  /** Operations per minute per API key (a batch of 10 is 10); 0 turns this limit off. */
  perMinute: number;
  burst: number;
  /** Estimated cost (limits.ts) per minute per API key; 0 turns it off. */
  costPerMinute?: number;
  costBurst?: number;
  /**
   * Refused operations (over-long, unparsable, invalid, too deep or too complex documents) per minute per API key, on
   * top of their cost; 0 or unset turns this limit off. A client sending several at once, as at an attacker's onset,
   * is slowed down after `refusalsBurst` of them rather than after the ten its cost burst would allow.
   */
  refusalsPerMinute?: number;
  refusalsBurst?: number;
  /** Failed or missing credentials per minute per client address, before it is refused without a database lookup. */
  authFailuresPerMinute?: number;
  authFailuresBurst?: number;
  /** Replicas sharing the figures above: each process enforces its share. */
  replicas?: number;
};

export function createRateLimiter(options: RateLimitOptions) {
  const share = (value: number) => value / Math.max(1, options.replicas ?? 1);
  const operations = createTokenBuckets({ perMinute: share(options.perMinute), burst: Math.max(1, share(options.burst)) }, 'operations for this API key');
  const cost = createTokenBuckets({ perMinute: share(options.costPerMinute ?? 0), burst: Math.max(1, share(options.costBurst ?? 0)) }, 'expensive operations for this API key');
  const refusals = createTokenBuckets(
    { perMinute: share(options.refusalsPerMinute ?? 0), burst: Math.max(1, share(options.refusalsBurst ?? 0)) },
    'refused operations for this API key',
  );
  const authFailures = createTokenBuckets(
    { perMinute: share(options.authFailuresPerMinute ?? 0), burst: Math.max(1, share(options.authFailuresBurst ?? 0)) },
    'requests without a valid API key from this address',
  );
  return {
    /** One operation of `estimatedCost` for the key; refused operations take an operation token, never cost. */
    takeOperation(apiKeyId: string, estimatedCost: number): void {
      operations.take(apiKeyId);
      cost.take(apiKeyId, estimatedCost);
    },
    /** A refused operation still takes an operation token, and `penalty` of cost: refusals cannot be hammered. */
    takeRefusedOperation(apiKeyId: string, penalty: number): void {
      operations.charge(apiKeyId);
      cost.charge(apiKeyId, penalty);
      refusals.charge(apiKeyId);
    },
    /** Work done for the key outside an operation's estimate (parsing a new document, rewriting a session's state). */
    chargeCost(apiKeyId: string, amount: number): void {
      cost.charge(apiKeyId, amount);
    },
    /** Before a request is parsed: a key with no operation or cost left is refused without any work. */
    checkKey(apiKeyId: string): void {
      operations.check(apiKeyId);
      cost.check(apiKeyId);
      refusals.check(apiKeyId);
    },
    /** Before credentials are looked up: an address that keeps failing is refused without touching the database. */
    checkAddress(address: string): void {
      authFailures.check(address);
    },
    authenticationFailed(address: string): void {
      authFailures.charge(address);
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/**
 * Answers of 429 go out after a pause (a tarpit): a client looping on refused requests, as a script does, then sends
 * one a second per connection instead of hundreds, and the event loop stays the other clients'. The pause holds no
 * CPU, only a timer and the socket; past `maxPending` paused answers, answers go out at once.
 */
export function createTarpit(options: { delayMs: number; maxPending: number }) {
  let pending = 0;
  return (send: () => void): void => {
    if (options.delayMs <= 0 || pending >= options.maxPending) return send();
    pending++;
    setTimeout(() => {
      pending--;
      send();
    }, options.delayMs).unref();
  };
}

/** Parks a 429's `send`; the response, when given, is one whose admission slot the pause should not hold. */
export type Tarpit = (send: () => void, res?: ServerResponse) => void;
