/**
 * A stand-in for Prisma's native `schema-engine` binary, for `PRISMA_SCHEMA_ENGINE_BINARY` (see bin/schema-engine.mjs):
 * the WebAssembly schema engine over `@prisma/adapter-pg`, speaking the native engine's protocol.
 *
 * - `schema-engine --version`
 * - `schema-engine --datasource <json> cli can-connect-to-database|create-database|drop-database`: exit 0 on success,
 *   else exit 1 with JSON log lines on stderr (the CLI reads the ERROR line of target `schema_engine::logger`);
 * - `schema-engine [--datamodels <path>]... [--datasource <json>]`: newline-delimited JSON-RPC 2.0 on stdin/stdout,
 *   JSON log lines on stderr, exits 0 when stdin closes.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import pg from 'pg';
import {
  createPgAdapterFactory,
  createPgliteAdapterFactory,
  createPostgresDatabase,
  describeDriverError,
  parsePgUrl,
  pgUrlWithDatabase,
  quoteIdent,
  type MigrationAdapterFactory,
} from './adapters.js';
import { openSchemaEngine, SchemaEngineError, type EngineHandle } from './engine.js';
import { loadSchemaEngine, schemaEngineVersion } from './load-wasm.js';

interface Datasource {
  url?: string;
  shadowDatabaseUrl?: string;
}

interface Args {
  datamodels: string[];
  datasource?: Datasource;
  cliCommand?: string;
  version: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { datamodels: [], version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case '--datamodels':
        // One path per flag, but accept several paths after one flag too.
        while (i + 1 < argv.length && !argv[i + 1]!.startsWith('--') && argv[i + 1] !== 'cli') args.datamodels.push(argv[++i]!);
        break;
      case '--datasource':
        args.datasource = JSON.parse(argv[++i] ?? '{}') as Datasource;
        break;
      case '--enabled-preview-features':
      case '--extension-types':
        i++;
        break;
      case '--version':
      case '-V':
        args.version = true;
        break;
      case 'cli':
        args.cliCommand = argv[++i];
        break;
      default:
        break;
    }
  }
  return args;
}

function logLine(level: 'INFO' | 'ERROR' | 'WARN', message: string, extra: Record<string, unknown> = {}, target = 'schema_engine::logger') {
  return JSON.stringify({ timestamp: new Date().toISOString(), level, fields: { message, ...extra }, target });
}

// ---------------------------------------------------------------------------------------------------------------
// Errors in the shape of the native engine's user-facing errors

interface UserFacingError {
  code?: string;
  message: string;
  meta?: Record<string, unknown>;
}

function pgConnectionError(error: unknown, url: string): UserFacingError {
  const e = error as { code?: string; message?: string };
  let host = 'localhost';
  let port = '5432';
  let database = 'postgres';
  let user = '';
  try {
    const parsed = new URL(url);
    host = parsed.hostname || host;
    port = parsed.port || port;
    database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || database;
    user = decodeURIComponent(parsed.username);
  } catch {
    // keep defaults
  }
  switch (e.code) {
    case '3D000':
      return {
        code: 'P1003',
        message: `Database \`${database}\` does not exist on the database server at \`${host}:${port}\`.`,
        meta: { database_name: database, database_host: host, database_port: port },
      };
    case '28P01':
    case '28000':
      return {
        code: 'P1000',
        message: `Authentication failed against database server, the provided database credentials for \`${user}\` are not valid.\n\nPlease make sure to provide valid database credentials for the database server at the configured address.`,
      };
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
      return {
        code: 'P1001',
        message: `Can't reach database server at \`${host}:${port}\`\n\nPlease make sure your database server is running at \`${host}:${port}\`.`,
      };
    default:
      return { message: describeDriverError(error) };
  }
}

function toUserFacing(error: unknown): UserFacingError {
  if (error instanceof SchemaEngineError) return { code: error.code, message: error.message.replace(/^P\d{4}: /, '') };
  if (error instanceof Error) return { message: describeDriverError(error) };
  return { message: String(error) };
}

// ---------------------------------------------------------------------------------------------------------------
// `cli` sub-mode

async function withClient<T>(connectionString: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function runCliCommand(command: string, datasource: Datasource | undefined): Promise<number> {
  process.stderr.write(logLine('INFO', `Starting schema engine CLI (wasm) command ${command}`) + '\n');
  const url = datasource?.url;
  const fail = (error: UserFacingError) => {
    process.stderr.write(
      logLine('ERROR', error.message, { is_panic: false, error_code: error.code ?? 'P1000' }) + '\n',
    );
    return 1;
  };
  if (!url) return fail({ code: 'P1012', message: 'The datasource url is missing (set DATABASE_URL).' });
  if (!/^postgres(ql)?:\/\//.test(url)) return fail({ message: `Only postgresql:// URLs are supported by this schema engine, got ${url.split(':')[0]}:` });
  const { connectionString, database } = parsePgUrl(url);
  const adminUrl = pgUrlWithDatabase(connectionString, database === 'postgres' ? 'template1' : 'postgres');
  try {
    switch (command) {
      case 'can-connect-to-database':
        await withClient(connectionString, async (client) => void (await client.query('select 1')));
        process.stdout.write('Connection successful\n');
        return 0;
      case 'create-database':
        await createPostgresDatabase(url);
        process.stdout.write(`Database '${database}' was successfully created.\n`);
        return 0;
      case 'drop-database':
        await withClient(adminUrl, async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`)));
        process.stdout.write(`The database was successfully dropped.\n`);
        return 0;
      default:
        return fail({ message: `Unknown cli command ${command}` });
    }
  } catch (error) {
    return fail(pgConnectionError(error, connectionString));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// JSON-RPC mode

/**
 * For when no datasource URL was given: the engine still connects when it starts, so give it an empty in-memory
 * PGlite. Operations that need no database (a diff between schemas or from empty) then work.
 */
async function noDatabaseFactory(): Promise<MigrationAdapterFactory> {
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create('memory://');
  const adapter = createPgliteAdapterFactory(pglite);
  return {
    ...adapter,
    async close() {
      await adapter.close();
      await pglite.close();
    },
  };
}

type Request = { jsonrpc?: string; id?: number | string; method?: string; params?: unknown; result?: unknown; error?: unknown };

const methodMap: Record<string, string> = {
  getDatabaseVersion: 'version',
  diff: 'diff',
};

async function runRpcServer(args: Args): Promise<number> {
  const datamodels: [string, string][] = args.datamodels.map((file) => [file, fs.readFileSync(file, 'utf8')]);
  const url = args.datasource?.url;
  const out = (message: unknown) => process.stdout.write(JSON.stringify(message) + '\n');
  const log = (line: string) => process.stderr.write(line.endsWith('\n') ? line : line + '\n');

  let handle: EngineHandle | undefined;
  let opening: Promise<EngineHandle> | undefined;
  const engine = () => {
    opening ??= (async () => {
      const adapter =
        url && /^postgres(ql)?:\/\//.test(url)
          ? createPgAdapterFactory({ url, shadowDatabaseUrl: args.datasource?.shadowDatabaseUrl })
          : await noDatabaseFactory();
      handle = await openSchemaEngine({ adapter, datamodels, onLog: log });
      return handle;
    })();
    return opening;
  };
  // Warm up the Wasm module while the CLI prepares its first request.
  void loadSchemaEngine().catch(() => {});

  let printId = 1_000_000;
  let lastMethod: string | undefined;
  const handleRequest = async (request: Request) => {
    const { id, method, params } = request;
    const previousMethod = lastMethod;
    lastMethod = method;
    try {
      let result: unknown;
      switch (method) {
        case 'createDatabase': {
          const code = await runCliCommandSilently('create-database', args.datasource);
          if (code.error) throw code.error;
          result = { databaseName: url ? parsePgUrl(url).database : '' };
          break;
        }
        case 'getDatabaseDescription':
          throw Object.assign(new Error('getDatabaseDescription is not supported by the Wasm schema engine'), {});
        case 'diff': {
          const h = await engine();
          const diff = (await h.call('diff', params as never)) as { exitCode: number; stdout: string | null };
          if (diff.stdout) {
            // The native engine prints through a `print` request; the CLI writes the content plus a newline.
            out({ jsonrpc: '2.0', id: printId++, method: 'print', params: { content: diff.stdout.replace(/\n$/, '') } });
          }
          result = { exitCode: diff.exitCode, stdout: null };
          break;
        }
        default: {
          const h = await engine();
          const name = methodMap[method ?? ''] ?? method;
          if (!name || typeof (h.engine as unknown as Record<string, unknown>)[name] !== 'function') {
            out({ jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${method}` } });
            return;
          }
          if (name === 'evaluateDataLoss' && previousMethod === 'applyMigrations') {
            // After `applyMigrations`, the Wasm engine's next `evaluateDataLoss` (what `migrate dev` sends on a
            // database it has just brought up to date) fails with "PostgreSQL shadow DB must be provided through an
            // external factory"; a `devDiagnostic` first sets the shadow database up again, as in the flow that works.
            const { migrationsList, filters } = params as { migrationsList: unknown; filters: unknown };
            await h.call('devDiagnostic' as never, { migrationsList, filters } as never);
          }
          result = await h.call(name as never, params as never);
          if (result === undefined) result = {};
        }
      }
      out({ jsonrpc: '2.0', id, result });
    } catch (error) {
      const userFacing = toUserFacing(error);
      log(logLine('ERROR', userFacing.message, userFacing.code ? { error_code: userFacing.code } : {}));
      out({
        jsonrpc: '2.0',
        id,
        error: {
          code: 4466,
          message: 'An error happened. Check the data field for details.',
          data: { is_panic: false, message: userFacing.message, meta: userFacing.meta ?? null, error_code: userFacing.code ?? null },
        },
      });
    }
  };

  // Requests run one at a time, in order, like the native engine.
  let queue = Promise.resolve();
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    let request: Request;
    try {
      request = JSON.parse(line) as Request;
    } catch {
      out({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      return;
    }
    if (!request.method) return; // a response to our `print` request
    queue = queue.then(() => handleRequest(request));
  });
  await new Promise<void>((resolve) => rl.on('close', resolve));
  await queue;
  if (opening) await (await opening.catch(() => undefined))?.close();
  return 0;
}

async function runCliCommandSilently(command: string, datasource: Datasource | undefined): Promise<{ error?: Error }> {
  const url = datasource?.url;
  if (!url) return { error: new Error('The datasource url is missing.') };
  try {
    if (command === 'create-database') await createPostgresDatabase(url);
    return {};
  } catch (error) {
    return { error: error as Error };
  }
}

/** Entry point of bin/schema-engine.mjs; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.version) {
    const version = await schemaEngineVersion().catch(() => 'unknown');
    process.stdout.write(`schema-engine-cli ${version} (wasm)\n`);
    return 0;
  }
  if (args.cliCommand) return runCliCommand(args.cliCommand, args.datasource);
  return runRpcServer(args);
}
