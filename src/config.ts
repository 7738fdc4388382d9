import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RateLimitOptions } from './server/rate-limit.js';
import { DEFAULT_LIVE_LIMITS } from './live/live-hub.js';
import type { PersistedDocumentsMode } from './server/persisted-documents.js';

/** The project root, whichever file imports this (src/ under tsx, dist/src/ when built). */
export const projectRoot = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));

function findProjectRoot(start: string): string {
  let dir = start;
  while (path.basename(dir) === 'src' || path.basename(dir) === 'dist' || path.basename(dir) === 'config') {
    dir = path.dirname(dir);
  }
  return dir;
}

export interface DatabaseConfig {
  /** postgresql://… for PostgreSQL; absent means the embedded PGlite database. */
  url?: string;
  /** Where PGlite keeps its files; `memory://` keeps them in memory (tests). */
  pgliteDataDir: string;
  /** Connections in the PostgreSQL pool. */
  poolMax: number;
  /**
   * Connections each PostgreSQL pool opens at start and keeps while idle (the side pools in proportion, as for
   * `poolMax`). The server's default is `poolMax`: a fixed-size pool, so a burst of requests never waits for new
   * connections (each one is a backend to start, ~100 ms on a busy machine); unset (scripts, tests): 0.
   */
  poolMin?: number;
  /** Named prepared statements on PostgreSQL (default on); off for poolers that cannot carry them across clients. */
  preparedStatements?: boolean;
  /**
   * PostgreSQL: every statement is cancelled by the server after this long (statement_timeout), and the client gives up
   * on an answer a second later (a hung server never cancels anything); waiting for a pool connection is bounded by
   * `connectTimeoutMs`. The server's defaults: 5,000 and 3,000 ms; unset (scripts, bulk loads): no statement timeout.
   */
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export interface AppConfig {
  host: string;
  port: number;
  logLevel: string;
  database: DatabaseConfig;
  /** Apply pending migrations at boot. Always on for PGlite; PostgreSQL only when asked. */
  migrateOnStart: boolean;
  /** Seed demo data into an empty embedded database on first boot (not in production unless asked). */
  seedDemoData: boolean;
  /** NODE_ENV=production: nothing open by default (see `introspection`), and never a pre-filled demo key. */
  isProduction: boolean;
  /**
   * Schema introspection (with it, the "Did you mean …?" hints in error messages, which show the schema too) and the
   * /graphiql playground. On for the embedded demo; off in production and on PostgreSQL unless INTROSPECTION=1 /
   * PLAYGROUND=1.
   */
  introspection: boolean;
  playground: boolean;
  /** The /dashboard page: on where the playground is by default, switchable on its own (DASHBOARD=1/0). */
  dashboard: boolean;
  /** Origins allowed to call the API from a browser (CORS); `*` for any. */
  corsOrigins: string[];
  /** Operations and estimated cost per minute per API key, failed authentications per minute per address (0: off). */
  rateLimit: RateLimitOptions;
  /** How long a request may execute before it is answered DEADLINE_EXCEEDED. */
  requestTimeoutMs: number;
  /** GraphQL requests processed at once; more wait their client's turn (src/server/fair-admission.ts). 0: no limit. */
  maxConcurrentRequests: number;
  /** Executions of a query document on graphql-js before it is compiled with graphql-jit (0: at once; `off`: never). */
  compileAfterUses: number;
  /** Subscriptions (src/live): per-key limits per process, bounded queues, stalled connections, key checks. */
  live: LiveConfig;
  /**
   * Documents accepted by id (src/server/persisted-documents.ts): the manifests' files besides the dashboard's own
   * (always loaded), and the mode (`allow` by default; `only` refuses every document no manifest holds; `off`).
   */
  persistedDocuments: { mode: PersistedDocumentsMode; manifests: string[] };
}

export type LiveConfig = {
  maxSubscriptionsPerKey: number;
  maxConnectionsPerKey: number;
  maxQueuedEvents: number;
  stallMs: number;
  keyCheckMs: number;
};

function flag(value: string | undefined): boolean {
  return value === '1' || value === 'true' || value === 'yes';
}

/** An on/off switch: `1`/`true`/`yes` or `0`/`false`/`no`; unset or empty takes the default. */
function onOff(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value.trim() === '') return fallback;
  if (flag(value.trim())) return true;
  if (['0', 'false', 'no'].includes(value.trim())) return false;
  throw new Error(`${name} must be 1 or 0, got ${value}`);
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`${name} must be a whole number, got ${value}`);
  return number;
}

function compileAfterUses(value: string | undefined): number {
  if (value === undefined || value === '') return 2;
  if (value === 'off') return Number.POSITIVE_INFINITY;
  const uses = Number(value);
  if (!Number.isInteger(uses) || uses < 0) throw new Error(`GRAPHQL_COMPILE_AFTER must be a whole number or "off", got ${value}`);
  return uses;
}

function persistedDocuments(env: NodeJS.ProcessEnv): AppConfig['persistedDocuments'] {
  const manifests = (env.PERSISTED_DOCUMENTS_MANIFESTS ?? '').split(',').map((file) => file.trim()).filter(Boolean);
  const mode = (env.PERSISTED_DOCUMENTS?.trim() || 'allow') as PersistedDocumentsMode;
  if (!['off', 'allow', 'only'].includes(mode)) throw new Error(`PERSISTED_DOCUMENTS must be off, allow or only, got ${mode}`);
  return { mode, manifests };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv): AppConfig {
  const url = env.DATABASE_URL?.trim() || undefined;
  const isProduction = env.NODE_ENV === 'production';
  // Only the embedded demo outside production is open by default: a server others reach shows no schema or playground.
  const openByDefault = !isProduction && !url;
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${env.PORT}`);
  const poolMax = Number(env.DB_POOL_MAX ?? 10);
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    logLevel: env.LOG_LEVEL ?? 'info',
    database: {
      url,
      pgliteDataDir: env.PGLITE_DATA_DIR ?? path.join(projectRoot, '.data', 'pglite'),
      poolMax,
      poolMin: Math.min(poolMax, wholeNumber(env, 'DB_POOL_MIN', poolMax)),
      preparedStatements: env.DB_PREPARED_STATEMENTS !== '0',
      statementTimeoutMs: wholeNumber(env, 'DB_STATEMENT_TIMEOUT_MS', 5_000),
      connectTimeoutMs: wholeNumber(env, 'DB_CONNECT_TIMEOUT_MS', 3_000),
    },
    migrateOnStart: !url || flag(env.MIGRATE_ON_START) || argv.includes('--migrate'),
    seedDemoData: !url && onOff('SEED_DEMO_DATA', env.SEED_DEMO_DATA, !isProduction),
    isProduction,
    introspection: onOff('INTROSPECTION', env.INTROSPECTION, openByDefault),
    playground: onOff('PLAYGROUND', env.PLAYGROUND, openByDefault),
    dashboard: onOff('DASHBOARD', env.DASHBOARD, openByDefault),
    corsOrigins: (env.CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    rateLimit: {
      perMinute: wholeNumber(env, 'RATE_LIMIT_PER_MINUTE', 6_000),
      burst: wholeNumber(env, 'RATE_LIMIT_BURST', 1_000),
      costPerMinute: wholeNumber(env, 'RATE_LIMIT_COST_PER_MINUTE', 1_500_000),
      costBurst: wholeNumber(env, 'RATE_LIMIT_COST_BURST', 250_000),
      refusalsPerMinute: wholeNumber(env, 'RATE_LIMIT_REFUSALS_PER_MINUTE', 60),
      refusalsBurst: wholeNumber(env, 'RATE_LIMIT_REFUSALS_BURST', 3),
      authFailuresPerMinute: wholeNumber(env, 'RATE_LIMIT_AUTH_FAILURES_PER_MINUTE', 60),
      authFailuresBurst: wholeNumber(env, 'RATE_LIMIT_AUTH_FAILURES_BURST', 10),
      replicas: Math.max(1, wholeNumber(env, 'RATE_LIMIT_REPLICAS', 1)),
    },
    requestTimeoutMs: wholeNumber(env, 'REQUEST_TIMEOUT_MS', 15_000),
    // Twice the pool: enough to keep every connection busy while the next requests are parsed.
    maxConcurrentRequests: wholeNumber(env, 'MAX_CONCURRENT_REQUESTS', 2 * poolMax),
    compileAfterUses: compileAfterUses(env.GRAPHQL_COMPILE_AFTER),
    persistedDocuments: persistedDocuments(env),
    live: {
      maxSubscriptionsPerKey: Math.max(1, wholeNumber(env, 'LIVE_MAX_SUBSCRIPTIONS_PER_KEY', DEFAULT_LIVE_LIMITS.maxSubscriptionsPerKey)),
      maxConnectionsPerKey: Math.max(1, wholeNumber(env, 'LIVE_MAX_CONNECTIONS_PER_KEY', DEFAULT_LIVE_LIMITS.maxConnectionsPerKey)),
      maxQueuedEvents: Math.max(1, wholeNumber(env, 'LIVE_MAX_QUEUED_EVENTS', DEFAULT_LIVE_LIMITS.maxQueuedEvents)),
      stallMs: Math.max(100, wholeNumber(env, 'LIVE_STALL_MS', DEFAULT_LIVE_LIMITS.stallMs)),
      keyCheckMs: Math.max(100, wholeNumber(env, 'LIVE_KEY_CHECK_MS', 5_000)),
    },
  };
}
