import path from 'node:path';
import { fileURLToPath } from 'node:url';
import dotenv from 'dotenv';
import { ConfigError, EnvReader } from './config-reader.js';
import type { RateLimitOptions } from './server/rate-limit.js';
import { DEFAULT_LIVE_LIMITS } from './live/live-hub.js';
import type { PersistedDocumentsMode } from './server/persisted-documents.js';

export { ConfigError } from './config-reader.js';

/** Where the running code is: src/ under tsx, dist/ when built. */
const codeDir = path.dirname(fileURLToPath(import.meta.url));
const runningFromSources = import.meta.url.endsWith('.ts');

/** The package's directory: the repository, or wherever dist/ was deployed with package.json and node_modules. */
export const projectRoot = path.dirname(codeDir);

/**
 * A file the server reads at run time, named by its place in the repository (`schema.graphql`, `prisma/migrations`,
 * `src/http/playground/bundle`): there when run from the sources; when built, its copy in dist/ (scripts/build.mjs
 * copies each one, `src/` dropped), so that dist/ runs from any directory, wherever it is deployed.
 */
export function runtimeAsset(repositoryPath: string): string {
  if (runningFromSources) return path.join(projectRoot, repositoryPath);
  return path.join(codeDir, repositoryPath.replace(/^src\//, ''));
}

/**
 * Loads `.env` from the working directory into `process.env` (the server and the CLIs do, before `loadConfig`; tests
 * pass their environment to `loadConfig` instead). Variables already set win over the file. Under vitest (`VITEST`
 * set, inherited by the processes tests start) no file is read: a developer's `.env` must not change what tests see.
 * Returns the file and the variables it set, or null when there is none.
 */
export function loadEnvFile(cwd = process.cwd()): { file: string; applied: string[] } | null {
  if (process.env.VITEST) return null;
  const file = path.join(cwd, '.env');
  const before = new Set(Object.keys(process.env));
  const { error } = dotenv.config({ path: file, quiet: true, override: false });
  if (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError([`${file} must be a readable .env file, got ${(error as NodeJS.ErrnoException).code ?? error.message}`]);
  }
  return { file, applied: Object.keys(process.env).filter((name) => !before.has(name)) };
}

/**
 * Every variable the server's configuration reads (`.env.example` lists each with its default; a test keeps the two
 * the same). Tooling reads a few more, never the server: see `.env.example`'s last section.
 */
export const CONFIG_VARIABLES = [
  'HOST',
  'PORT',
  'LOG_LEVEL',
  'NODE_ENV',
  'DATABASE_URL',
  'PGLITE_DATA_DIR',
  'DB_POOL_MAX',
  'DB_POOL_MIN',
  'DB_PREPARED_STATEMENTS',
  'DB_STATEMENT_TIMEOUT_MS',
  'DB_CONNECT_TIMEOUT_MS',
  'MIGRATE_ON_START',
  'SEED_DEMO_DATA',
  'INTROSPECTION',
  'PLAYGROUND',
  'DASHBOARD',
  'CORS_ORIGINS',
  'RATE_LIMIT_PER_MINUTE',
  'RATE_LIMIT_BURST',
  'RATE_LIMIT_COST_PER_MINUTE',
  'RATE_LIMIT_COST_BURST',
  'RATE_LIMIT_REFUSALS_PER_MINUTE',
  'RATE_LIMIT_REFUSALS_BURST',
  'RATE_LIMIT_AUTH_FAILURES_PER_MINUTE',
  'RATE_LIMIT_AUTH_FAILURES_BURST',
  'RATE_LIMIT_REPLICAS',
  'REQUEST_TIMEOUT_MS',
  'SHUTDOWN_DELAY_MS',
  'MAX_CONCURRENT_REQUESTS',
  'GRAPHQL_COMPILE_AFTER',
  'PERSISTED_DOCUMENTS',
  'PERSISTED_DOCUMENTS_MANIFESTS',
  'LIVE_MAX_SUBSCRIPTIONS_PER_KEY',
  'LIVE_MAX_CONNECTIONS_PER_KEY',
  'LIVE_MAX_QUEUED_EVENTS',
  'LIVE_STALL_MS',
  'LIVE_KEY_CHECK_MS',
  'METRICS',
  'METRICS_PORT',
  'METRICS_HOST',
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_EXPORTER',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_SERVICE_NAME',
] as const;

export type ConfigVariable = (typeof CONFIG_VARIABLES)[number];

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
  /**
   * On SIGTERM, how long the server keeps serving with /ready answering 503 before it stops taking connections: the
   * time a load balancer needs to see it leave (Kubernetes: a few seconds). 0: stop at once.
   */
  shutdownDelayMs: number;
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
  /**
   * Prometheus metrics (src/server/telemetry/metrics.ts): off (null), at /metrics on the API's port (no `port`), or on
   * a listener of their own. On by default outside production; in production only when asked (METRICS=1 or a port).
   */
  metrics: { port?: number; host: string } | null;
  /**
   * OpenTelemetry traces (src/server/telemetry/tracing.ts), off unless the standard OTEL_* variables ask: the exporter
   * (OTLP over HTTP/JSON, which reads its endpoint, headers and timeouts from OTEL_* itself, or the console).
   */
  tracing: { exporter: 'otlp' | 'console'; serviceName: string } | null;
}

export type LiveConfig = {
  maxSubscriptionsPerKey: number;
  maxConnectionsPerKey: number;
  maxQueuedEvents: number;
  stallMs: number;
  keyCheckMs: number;
};

/** Executions of a document before it is compiled: a whole number, or `off` (never). */
function compileAfterUses(read: EnvReader<ConfigVariable>): number {
  const value = read.raw('GRAPHQL_COMPILE_AFTER');
  if (value === undefined) return 2;
  if (value === 'off') return Number.POSITIVE_INFINITY;
  if (/^\d+$/.test(value)) return Number(value);
  read.problem('GRAPHQL_COMPILE_AFTER', 'a whole number (0 or more) or "off"', value);
  return 2;
}

/** Tracing as the standard OpenTelemetry variables ask for it: an OTLP endpoint or OTEL_TRACES_EXPORTER. */
function tracingConfig(read: EnvReader<ConfigVariable>): AppConfig['tracing'] {
  const serviceName = read.text('OTEL_SERVICE_NAME', 'agentgraph');
  const disabled = read.raw('OTEL_SDK_DISABLED');
  if (disabled !== undefined && !['true', 'false'].includes(disabled.toLowerCase())) read.problem('OTEL_SDK_DISABLED', 'true or false', disabled);
  const exporters = (read.raw('OTEL_TRACES_EXPORTER') ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  for (const name of exporters) if (!['otlp', 'console', 'none'].includes(name)) read.problem('OTEL_TRACES_EXPORTER', 'otlp, console or none', name);
  const endpoint = read.raw('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? read.raw('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) read.problem(read.raw('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT', 'an http:// or https:// URL', endpoint);
  const protocolName = read.raw('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = read.raw(protocolName);
  if (disabled?.toLowerCase() === 'true' || exporters.includes('none')) return null;
  const exporter = exporters.includes('otlp') || (exporters.length === 0 && endpoint !== undefined) ? 'otlp' : exporters.includes('console') ? 'console' : null;
  if (exporter === 'otlp' && protocol !== undefined && protocol !== 'http/json') read.problem(protocolName, 'http/json (this server exports OTLP over HTTP as JSON)', protocol);
  return exporter ? { exporter, serviceName } : null;
}

/**
 * The server's configuration from `env` (the process's environment by default; tests pass their own), every variable
 * validated: all problems are reported together in one ConfigError, a line each naming the variable, the form it
 * must have and the value it has. Relative paths (PGLITE_DATA_DIR, manifests) are relative to `cwd`.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv, cwd = process.cwd()): AppConfig {
  const read = new EnvReader<ConfigVariable>(env);
  const url = read.postgresUrl('DATABASE_URL');
  const isProduction = read.raw('NODE_ENV') === 'production';
  // Only the embedded demo outside production is open by default: a server others reach shows no schema or playground.
  const openByDefault = !isProduction && !url;
  const poolMax = read.wholeNumber('DB_POOL_MAX', 10, { min: 1 });
  const poolMin = read.wholeNumber('DB_POOL_MIN', poolMax);
  if (poolMin > poolMax) read.problem('DB_POOL_MIN', `at most DB_POOL_MAX (${poolMax})`, String(poolMin));
  const pgliteDataDir = read.raw('PGLITE_DATA_DIR') ?? path.join('.data', 'pglite');
  // Read (and so validated) whichever database is configured.
  const seedDemoData = read.onOff('SEED_DEMO_DATA', !isProduction);
  const migrateOnStart = read.onOff('MIGRATE_ON_START', false);
  const config: AppConfig = {
    host: read.host('HOST', '127.0.0.1'),
    port: read.port('PORT', 4000),
    logLevel: read.logLevel('LOG_LEVEL', 'info'),
    database: {
      url,
      // The embedded database lives where the server is started (the package's directory under npm run), not where
      // the code is installed.
      pgliteDataDir: pgliteDataDir.startsWith('memory://') ? pgliteDataDir : path.resolve(cwd, pgliteDataDir),
      poolMax,
      poolMin,
      preparedStatements: read.onOff('DB_PREPARED_STATEMENTS', true),
      statementTimeoutMs: read.milliseconds('DB_STATEMENT_TIMEOUT_MS', 5_000),
      connectTimeoutMs: read.milliseconds('DB_CONNECT_TIMEOUT_MS', 3_000),
    },
    migrateOnStart: !url || migrateOnStart || argv.includes('--migrate'),
    seedDemoData: !url && seedDemoData,
    isProduction,
    introspection: read.onOff('INTROSPECTION', openByDefault),
    playground: read.onOff('PLAYGROUND', openByDefault),
    dashboard: read.onOff('DASHBOARD', openByDefault),
    corsOrigins: read.origins('CORS_ORIGINS'),
    rateLimit: {
      perMinute: read.wholeNumber('RATE_LIMIT_PER_MINUTE', 6_000),
      burst: read.wholeNumber('RATE_LIMIT_BURST', 1_000),
      costPerMinute: read.wholeNumber('RATE_LIMIT_COST_PER_MINUTE', 1_500_000),
      costBurst: read.wholeNumber('RATE_LIMIT_COST_BURST', 250_000),
      refusalsPerMinute: read.wholeNumber('RATE_LIMIT_REFUSALS_PER_MINUTE', 60),
      refusalsBurst: read.wholeNumber('RATE_LIMIT_REFUSALS_BURST', 3),
      authFailuresPerMinute: read.wholeNumber('RATE_LIMIT_AUTH_FAILURES_PER_MINUTE', 60),
      authFailuresBurst: read.wholeNumber('RATE_LIMIT_AUTH_FAILURES_BURST', 10),
      replicas: read.wholeNumber('RATE_LIMIT_REPLICAS', 1, { min: 1 }),
    },
    requestTimeoutMs: read.milliseconds('REQUEST_TIMEOUT_MS', 15_000, 1),
    shutdownDelayMs: read.milliseconds('SHUTDOWN_DELAY_MS', 0),
    // Twice the pool: enough to keep every connection busy while the next requests are parsed.
    maxConcurrentRequests: read.wholeNumber('MAX_CONCURRENT_REQUESTS', 2 * poolMax),
    compileAfterUses: compileAfterUses(read),
    persistedDocuments: {
      mode: read.oneOf<PersistedDocumentsMode>('PERSISTED_DOCUMENTS', ['off', 'allow', 'only'], 'allow'),
      manifests: read.readableFiles('PERSISTED_DOCUMENTS_MANIFESTS', cwd),
    },
    live: {
      maxSubscriptionsPerKey: read.wholeNumber('LIVE_MAX_SUBSCRIPTIONS_PER_KEY', DEFAULT_LIVE_LIMITS.maxSubscriptionsPerKey, { min: 1 }),
      maxConnectionsPerKey: read.wholeNumber('LIVE_MAX_CONNECTIONS_PER_KEY', DEFAULT_LIVE_LIMITS.maxConnectionsPerKey, { min: 1 }),
      maxQueuedEvents: read.wholeNumber('LIVE_MAX_QUEUED_EVENTS', DEFAULT_LIVE_LIMITS.maxQueuedEvents, { min: 1 }),
      stallMs: read.milliseconds('LIVE_STALL_MS', DEFAULT_LIVE_LIMITS.stallMs, 100),
      keyCheckMs: read.milliseconds('LIVE_KEY_CHECK_MS', 5_000, 100),
    },
    metrics: null,
    tracing: null,
  };
  const metricsPort = read.raw('METRICS_PORT') === undefined ? undefined : read.port('METRICS_PORT', 9464);
  const metricsOn = read.onOff('METRICS', !isProduction || metricsPort !== undefined);
  config.metrics = metricsOn ? { ...(metricsPort === undefined ? {} : { port: metricsPort }), host: read.host('METRICS_HOST', config.host) } : null;
  config.tracing = tracingConfig(read);
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}
