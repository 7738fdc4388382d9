import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig, projectRoot } from '../../src/config.js';

/** Variables read under src/ that are not the server's configuration: the Prisma CLI's, its schema engine's, the backup CLI's. */
const TOOLING_VARIABLES = ['SHADOW_DATABASE_URL', 'PRISMA_SCHEMA_ENGINE_BINARY', 'PRISMA_MIGRATION_ENGINE_BINARY', 'BACKUP_DIR', 'PG_BIN_DIR'];

const exampleFile = fs.readFileSync(path.join(projectRoot, '.env.example'), 'utf8');
const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env, [], '/srv/agentgraph');
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
};

describe('loadConfig: every variable validated', () => {
  it('names the variable, the form it must have and the value it has', () => {
    expect(problemsOf({ PORT: 'abc' })).toEqual(['PORT must be a port number (0–65535), got "abc"']);
    expect(problemsOf({ PORT: '70000' })).toEqual(['PORT must be a port number (0–65535), got "70000"']);
    expect(problemsOf({ DB_POOL_MAX: '0' })).toEqual(['DB_POOL_MAX must be a whole number (1 or more), got "0"']);
    expect(problemsOf({ DB_POOL_MAX: '4', DB_POOL_MIN: '5' })).toEqual(['DB_POOL_MIN must be at most DB_POOL_MAX (4), got "5"']);
    expect(problemsOf({ REQUEST_TIMEOUT_MS: '1e3' })).toEqual(['REQUEST_TIMEOUT_MS must be a whole number of milliseconds (1–2147483647), got "1e3"']);
    expect(problemsOf({ LIVE_STALL_MS: '5' })).toEqual(['LIVE_STALL_MS must be a whole number of milliseconds (100–2147483647), got "5"']);
    expect(problemsOf({ RATE_LIMIT_BURST: '-1' })).toEqual(['RATE_LIMIT_BURST must be a whole number (0 or more), got "-1"']);
    expect(problemsOf({ GRAPHQL_COMPILE_AFTER: 'never' })).toEqual(['GRAPHQL_COMPILE_AFTER must be a whole number (0 or more) or "off", got "never"']);
    expect(problemsOf({ MIGRATE_ON_START: 'please' })).toEqual(['MIGRATE_ON_START must be 1 or 0 (or true/false, yes/no), got "please"']);
    expect(problemsOf({ PERSISTED_DOCUMENTS: 'strict' })).toEqual(['PERSISTED_DOCUMENTS must be one of off, allow, only, got "strict"']);
    expect(problemsOf({ LOG_LEVEL: 'verbose' })).toEqual(['LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"']);
    expect(problemsOf({ HOST: 'http://0.0.0.0' })).toEqual(['HOST must be a host name or IP address to listen on (e.g. 127.0.0.1, 0.0.0.0, ::), got "http://0.0.0.0"']);
    expect(problemsOf({ CORS_ORIGINS: 'https://app.example.com, https://b.example.com/' })).toEqual([
      'CORS_ORIGINS must be * or comma-separated origins like https://app.example.com (scheme://host[:port], no path), got "https://b.example.com/"',
    ]);
    expect(problemsOf({ PERSISTED_DOCUMENTS_MANIFESTS: 'missing.json' })).toEqual(['PERSISTED_DOCUMENTS_MANIFESTS must be comma-separated files this process can read, got "/srv/agentgraph/missing.json: ENOENT"']);
  });

  it('refuses a DATABASE_URL that is not PostgreSQL, without repeating its password', () => {
    expect(problemsOf({ DATABASE_URL: 'not a url' })).toEqual(['DATABASE_URL must be a PostgreSQL URL like postgresql://user:password@host:5432/database, got "not a url"']);
    const [mysql] = problemsOf({ DATABASE_URL: 'mysql://root:hunter2@db:3306/app' });
    expect(mysql).toBe(
      'DATABASE_URL must be a PostgreSQL URL like postgresql://user:password@host:5432/database, got "mysql://***@db:3306/app" (a mysql: URL: agentgraph runs on PostgreSQL, or on the embedded PGlite with DATABASE_URL unset)',
    );
    expect(problemsOf({ DATABASE_URL: 'postgres://u:p@h:5432/db' })).toEqual([]);
  });

  it('reports every problem at once', () => {
    const error = (() => {
      try {
        loadConfig({ PORT: 'abc', DB_POOL_MAX: 'ten', PLAYGROUND: 'maybe' }, []);
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('accepted');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems.map((problem) => problem.split(' ')[0]).sort()).toEqual(['DB_POOL_MAX', 'PLAYGROUND', 'PORT']);
    expect(error.message.split('\n')).toHaveLength(3);
  });

  it('takes unset and empty alike as the default, and keeps the documented defaults', () => {
    const defaults = loadConfig({}, [], '/srv/agentgraph');
    expect(loadConfig({ PORT: '', HOST: ' ', DB_POOL_MAX: '' }, [], '/srv/agentgraph')).toEqual(defaults);
    expect(defaults).toMatchObject({ host: '127.0.0.1', port: 4000, logLevel: 'info', requestTimeoutMs: 15_000, maxConcurrentRequests: 20 });
    expect(defaults.database).toMatchObject({ pgliteDataDir: '/srv/agentgraph/.data/pglite', poolMax: 10, poolMin: 10, statementTimeoutMs: 5_000, connectTimeoutMs: 3_000 });
    // The embedded database is where the server is started from, not where its code is installed.
    expect(loadConfig({ PGLITE_DATA_DIR: 'db' }, [], '/srv/agentgraph').database.pgliteDataDir).toBe('/srv/agentgraph/db');
    expect(loadConfig({ PGLITE_DATA_DIR: 'memory://' }, []).database.pgliteDataDir).toBe('memory://');
  });

  it('reads no file: a .env in the working directory changes nothing (only main and the CLIs load it)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-config-'));
    try {
      fs.writeFileSync(path.join(dir, '.env'), 'PORT=5999\n');
      expect(loadConfig({}, [], dir).port).toBe(4000);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('.env.example', () => {
  const listed = [...exampleFile.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]);

  it('lists exactly the variables loadConfig knows, each once', () => {
    expect([...listed].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('lists what loadConfig reads, no more and no less', () => {
    const read = new Set<string>();
    const env = new Proxy({} as NodeJS.ProcessEnv, {
      get: (_target, name) => {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    });
    loadConfig(env, []);
    expect([...read].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('copied to .env as it is, changes nothing: its values are the defaults', () => {
    expect(loadConfig(dotenv.parse(exampleFile), [], '/srv/agentgraph')).toEqual(loadConfig({}, [], '/srv/agentgraph'));
  });

  it('names the tooling variables, and the code under src/ reads no other variable', () => {
    const commented = [...exampleFile.matchAll(/^# ([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]);
    expect(commented.sort()).toEqual([...TOOLING_VARIABLES].sort());
    const readInSrc = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory() && entry.name !== 'generated') walk(file);
        else if (entry.name.endsWith('.ts')) {
          for (const match of fs.readFileSync(file, 'utf8').matchAll(/\benv\??\.([A-Z][A-Z0-9_]*)\b(?!\s*=[^=])|\benv\[['"]([A-Z][A-Z0-9_]*)['"]\](?!\s*=[^=])/g)) readInSrc.add(match[1] ?? match[2]!);
        }
      }
    };
    walk(path.join(projectRoot, 'src'));
    // `VITEST`: loadEnvFile's switch for tests, not configuration.
    const known = new Set([...CONFIG_VARIABLES, ...TOOLING_VARIABLES, 'VITEST']);
    expect([...readInSrc].filter((name) => !known.has(name))).toEqual([]);
  });
});

describe('metrics and traces', () => {
  const config = (env: Record<string, string>) => loadConfig(env, [], '/srv/agentgraph');

  it('metrics: on the API port outside production, off in production unless asked, on a port of their own when given', () => {
    expect(config({}).metrics).toEqual({ host: '127.0.0.1' });
    expect(config({ NODE_ENV: 'production' }).metrics).toBeNull();
    expect(config({ NODE_ENV: 'production', METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(config({ METRICS: '0' }).metrics).toBeNull();
    expect(problemsOf({ METRICS_PORT: 'nine' })).toEqual([expect.stringContaining('METRICS_PORT')]);
  });

  it('traces: off unless an OTLP endpoint or an exporter is named, and refused in a form this server cannot send', () => {
    expect(config({}).tracing).toBeNull();
    expect(config({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).tracing).toEqual({ exporter: 'otlp', serviceName: 'agentgraph' });
    expect(config({ OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'api-eu' }).tracing).toEqual({ exporter: 'console', serviceName: 'api-eu' });
    expect(config({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }).tracing).toBeNull();
    expect(problemsOf({ OTEL_TRACES_EXPORTER: 'jaeger' })).toEqual([expect.stringContaining('OTEL_TRACES_EXPORTER')]);
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual([expect.stringContaining('OTEL_EXPORTER_OTLP_PROTOCOL')]);
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toEqual([expect.stringContaining('OTEL_EXPORTER_OTLP_ENDPOINT')]);
  });
});
