import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
  /** Named prepared statements on PostgreSQL (default on); off for poolers that cannot carry them across clients. */
  preparedStatements?: boolean;
}

export interface AppConfig {
  host: string;
  port: number;
  logLevel: string;
  database: DatabaseConfig;
  /** Apply pending migrations at boot. Always on for PGlite; PostgreSQL only when asked. */
  migrateOnStart: boolean;
  /** Seed demo data into an empty embedded database on first boot. */
  seedDemoData: boolean;
  isProduction: boolean;
  /** Schema introspection and the /graphiql playground; both can be turned off for production. */
  introspection: boolean;
  playground: boolean;
  /** Origins allowed to call the API from a browser (CORS); `*` for any. */
  corsOrigins: string[];
  /** Requests per minute per API key (0 turns limiting off), and the burst allowed above that rate. */
  rateLimit: { perMinute: number; burst: number };
  /** Executions of a query document on graphql-js before it is compiled with graphql-jit (0: at once; `off`: never). */
  compileAfterUses: number;
}

function flag(value: string | undefined): boolean {
  return value === '1' || value === 'true' || value === 'yes';
}

function compileAfterUses(value: string | undefined): number {
  if (value === undefined || value === '') return 2;
  if (value === 'off') return Number.POSITIVE_INFINITY;
  const uses = Number(value);
  if (!Number.isInteger(uses) || uses < 0) throw new Error(`GRAPHQL_COMPILE_AFTER must be a whole number or "off", got ${value}`);
  return uses;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv): AppConfig {
  const url = env.DATABASE_URL?.trim() || undefined;
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${env.PORT}`);
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    logLevel: env.LOG_LEVEL ?? 'info',
    database: {
      url,
      pgliteDataDir: env.PGLITE_DATA_DIR ?? path.join(projectRoot, '.data', 'pglite'),
      poolMax: Number(env.DB_POOL_MAX ?? 10),
      preparedStatements: env.DB_PREPARED_STATEMENTS !== '0',
    },
    migrateOnStart: !url || flag(env.MIGRATE_ON_START) || argv.includes('--migrate'),
    seedDemoData: !url && env.SEED_DEMO_DATA !== '0',
    isProduction: env.NODE_ENV === 'production',
    introspection: env.INTROSPECTION !== '0',
    playground: env.PLAYGROUND !== '0',
    corsOrigins: (env.CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    rateLimit: { perMinute: Number(env.RATE_LIMIT_PER_MINUTE ?? 6000), burst: Number(env.RATE_LIMIT_BURST ?? 1000) },
    compileAfterUses: compileAfterUses(env.GRAPHQL_COMPILE_AFTER),
  };
}
