/**
 * PostgreSQL backups with the client tools: `pg_dump --format=custom` to back up, `pg_restore` piped into `psql` to
 * restore.
 *
 * - Consistent while servers run: the row counts of the manifest are read in a REPEATABLE READ transaction whose
 *   snapshot pg_dump imports (`--snapshot`), so they describe exactly the rows dumped.
 * - The connection goes to the tools as libpq environment variables (PGHOST, PGPASSWORD, …), never on the command
 *   line, where `ps` shows it to every user of the machine.
 * - A restore is one transaction: it empties schema public (keeping the schema, its owner and grants), replays the
 *   dump, and checks each table's rows against the manifest before COMMIT; any error or difference rolls it all back.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { BackupError, backupFileName, writeBackup, type WrittenBackup } from './backup-files.js';
import { countRows, quoteLiteral, quoteQualified, readDatabaseFacts, totalRows, type RunQuery, type TableCounts } from './database-facts.js';

/** libpq's names for the URL query parameters it understands; others (Prisma's `schema`, `connection_limit`) are not its. */
const LIBPQ_PARAMETERS: Record<string, string> = {
  host: 'PGHOST',
  port: 'PGPORT',
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  application_name: 'PGAPPNAME',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  options: 'PGOPTIONS',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
};

/**
 * The environment that points libpq at the database of `url`. What the URL leaves out keeps the PG* variables of
 * this process, as node-postgres does.
 */
export function libpqEnvironment(url: string, database?: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const parsed = new URL(url);
  const env: NodeJS.ProcessEnv = { ...base };
  if (parsed.hostname) env.PGHOST = decodeURIComponent(parsed.hostname).replace(/^\[(.*)\]$/, '$1');
  if (parsed.port) env.PGPORT = parsed.port;
  if (parsed.username) env.PGUSER = decodeURIComponent(parsed.username);
  if (parsed.password) env.PGPASSWORD = decodeURIComponent(parsed.password);
  const name = database ?? decodeURIComponent(parsed.pathname.slice(1));
  if (name) env.PGDATABASE = name;
  for (const [key, value] of parsed.searchParams) {
    const variable = LIBPQ_PARAMETERS[key];
    // node-postgres's `no-verify` is libpq's `require`: encrypted, the certificate not checked.
    if (variable) env[variable] = key === 'sslmode' && value === 'no-verify' ? 'require' : value;
  }
  return env;
}

/** `postgresql://host:port/name`: which database, without who connects or how. */
export function describePostgres(url: string): string {
  const parsed = new URL(url);
  return `postgresql://${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname}`;
}

const databaseName = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres';

/** PG_BIN_DIR picks the client tools' directory (e.g. /usr/lib/postgresql/17/bin when the server is newer). */
const toolPath = (tool: string) => (process.env.PG_BIN_DIR ? path.join(process.env.PG_BIN_DIR, tool) : tool);

function missingTool(tool: string): BackupError {
  return new BackupError(
    'TOOL_MISSING',
    `${toolPath(tool)} was not found: install the PostgreSQL client tools (postgresql-client, the server's major version or newer), or set PG_BIN_DIR to the directory that holds them.`,
  );
}

/** The lines a PostgreSQL tool printed that say what went wrong (its errors, or its last words). */
function toolError(tool: string, stderr: string, code: number | null): BackupError {
  const lines = stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  const errors = lines.filter((line) => /error|fatal|failed/i.test(line));
  const said = (errors.length ? errors : lines.slice(-3)).slice(0, 3).join(' / ');
  return new BackupError('TOOL_FAILED', `${tool} failed (exit code ${code})${said ? `: ${said}` : ''}.`);
}

type Finished = { code: number | null; stderr: string };

function waitFor(child: ReturnType<typeof spawn>, tool: string): Promise<Finished> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 64_000) stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? missingTool(tool) : error));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

async function runTool(tool: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const { code, stderr } = await waitFor(spawn(toolPath(tool), args, { env, stdio: ['ignore', 'pipe', 'pipe'] }), tool);
  if (code !== 0) throw toolError(tool, stderr, code);
  return stderr;
}

async function toolVersion(tool: string): Promise<string> {
  const child = spawn(toolPath(tool), ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const { code, stderr } = await waitFor(child, tool);
  if (code !== 0) throw toolError(tool, stderr, code);
  return stdout.trim();
}

async function withClient<T>(url: string, work: (client: pg.Client, query: RunQuery) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {}); // a dropped connection fails the statement in flight, which is reported
  await client.connect();
  const query: RunQuery = async <Row>(sql: string) => (await client.query(sql)).rows as Row[];
  try {
    return await work(client, query);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function backupPostgres(url: string, dir: string): Promise<WrittenBackup> {
  const startedAt = new Date();
  const tool = await toolVersion('pg_dump');
  return withClient(url, async (client, query) => {
    // The snapshot must stay open until pg_dump has imported it: this transaction lasts until the dump is written.
    await client.query('begin isolation level repeatable read, read only');
    try {
      await client.query('set local idle_in_transaction_session_timeout = 0');
      const [{ snapshot }] = (await client.query<{ snapshot: string }>('select pg_export_snapshot() as snapshot')).rows as [{ snapshot: string }];
      const facts = await readDatabaseFacts(query);
      const name = backupFileName('postgres', databaseName(url), startedAt);
      const produce = async (partial: string) => {
        await runTool('pg_dump', ['--format=custom', '--no-password', `--snapshot=${snapshot}`, `--file=${partial}`], libpqEnvironment(url));
      };
      return await writeBackup(dir, name, produce, { kind: 'postgres', source: describePostgres(url), tool, ...facts, startedAt });
    } finally {
      await client.query('rollback').catch(() => {});
    }
  });
}

/**
 * Empties schema public without dropping it (its owner and grants stay): tables and views, then routines, then
 * types, leaving extensions' objects to their extensions.
 */
const EMPTY_PUBLIC_SCHEMA = `
DO $empty$
DECLARE statement text;
BEGIN
  FOR statement IN
    SELECT format('DROP %s IF EXISTS public.%I CASCADE',
                  CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                                 WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, c.relname)
      FROM pg_class c
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND NOT c.relispartition
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  LOOP EXECUTE statement; END LOOP;
  FOR statement IN
    SELECT format('DROP %s IF EXISTS public.%I(%s) CASCADE', CASE p.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END,
                  p.proname, pg_get_function_identity_arguments(p.oid))
      FROM pg_proc p
     WHERE p.pronamespace = 'public'::regnamespace
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP EXECUTE statement; END LOOP;
  FOR statement IN
    SELECT format('DROP TYPE IF EXISTS public.%I CASCADE', t.typname)
      FROM pg_type t
     WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'r', 'm', 'c')
       AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
  LOOP EXECUTE statement; END LOOP;
END $empty$;
`;

/** Fails the restore's transaction when a table's rows differ from the manifest's. */
function rowCountGuard(tables: TableCounts): string {
  const checks = Object.entries(tables).map(
    ([table, rows]) =>
      `  SELECT count(*) INTO found FROM ${quoteQualified(table)};\n` +
      `  IF found <> ${rows} THEN RAISE EXCEPTION 'row counts differ from the backup: % has % rows, the backup had %', ${quoteLiteral(table)}, found, ${rows}; END IF;`,
  );
  return `DO $guard$\nDECLARE found bigint;\nBEGIN\n${checks.join('\n')}\nEND $guard$;\n`;
}

/** Replaces schema public of the database `env` points at with the backup's, in one transaction. */
async function replayDump(backup: WrittenBackup, env: NodeJS.ProcessEnv): Promise<void> {
  // Objects become the restoring user's and grants to roles of the source server are left out: the roles of
  // the server restored into are not those of the one dumped.
  const restore = spawn(toolPath('pg_restore'), ['--no-owner', '--no-privileges', '--file=-', backup.dataPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const psql = spawn(toolPath('psql'), ['--no-psqlrc', '--quiet', '--no-password', '--set=ON_ERROR_STOP=1'], { env, stdio: ['pipe', 'ignore', 'pipe'] });
  const restored = waitFor(restore, 'pg_restore');
  const replayed = waitFor(psql, 'psql');
  psql.stdin.on('error', () => {}); // psql stopped at an error: what it said is reported below
  psql.stdin.write(`BEGIN;\nSET client_min_messages = warning;\n${EMPTY_PUBLIC_SCHEMA}\n`);
  restore.stdout.pipe(psql.stdin, { end: false });
  // Without COMMIT (pg_restore failed), psql rolls back at the end of its input.
  const dumped = await restored.catch((error: unknown) => {
    psql.stdin.end();
    throw error;
  });
  psql.stdin.end(dumped.code === 0 ? `${rowCountGuard(backup.manifest.tables)}COMMIT;\n` : '');
  const applied = await replayed;
  if (dumped.code !== 0) throw toolError('pg_restore', dumped.stderr, dumped.code);
  if (applied.code !== 0) throw toolError('psql', applied.stderr, applied.code);
}

/** Tables in schema public and their rows: what a restore would replace. */
async function describeContents(query: RunQuery): Promise<{ tables: number; rows: number }> {
  const counts = Object.fromEntries(Object.entries(await countRows(query)).filter(([table]) => table.startsWith('public.')));
  return { tables: Object.keys(counts).length, rows: totalRows(counts) };
}

export type PostgresRestore = { tables: TableCounts; otherSessions: number };

/** Restores a PostgreSQL backup into the database at `url`; refuses one with tables in schema public unless `force`. */
export async function restorePostgres(url: string, backup: WrittenBackup, options: { force: boolean }): Promise<PostgresRestore> {
  const target = describePostgres(url);
  const otherSessions = await withClient(url, async (client, query) => {
    const contents = await describeContents(query);
    if (contents.tables > 0 && !options.force) {
      throw new BackupError(
        'NOT_EMPTY',
        `The database ${target} is not empty (${contents.tables} tables, ${contents.rows} rows): a restore replaces everything in its schema public. ` +
          'Pass --force to replace it, or restore into a new empty database (createdb, then DATABASE_URL pointing at it).',
      );
    }
    const { rows } = await client.query<{ sessions: string }>(
      'select count(*)::text as sessions from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
    );
    return Number(rows[0]?.sessions ?? 0);
  });
  try {
    await replayDump(backup, libpqEnvironment(url));
  } catch (error) {
    if (error instanceof BackupError && error.code === 'TOOL_FAILED') {
      throw new BackupError(error.code, `${error.message} The restore was rolled back: ${target} is as it was.`);
    }
    throw error;
  }
  const tables = await withClient(url, (_client, query) => countRows(query));
  return { tables, otherSessions };
}

/**
 * Restores a backup into a scratch database created next to the one at `url` (same server), reads its row counts,
 * and drops it again.
 */
export async function restoreIntoScratchPostgres(url: string, backup: WrittenBackup): Promise<TableCounts> {
  const scratch = `agentgraph_verify_${randomBytes(6).toString('hex')}`;
  await withClient(url, async (client) => {
    try {
      await client.query(`create database ${scratch}`);
    } catch (error) {
      if ((error as { code?: string }).code !== '42501') throw error;
      const user = new URL(url).username || 'this user';
      throw new BackupError(
        'SCRATCH_UNAVAILABLE',
        `--verify restores into a scratch database, and ${decodeURIComponent(user)} may not create one on ${describePostgres(url)}: ` +
          `grant it (ALTER ROLE … CREATEDB), or run the verification with DATABASE_URL pointing at a server where it may.`,
      );
    }
  });
  const scratchUrl = new URL(url);
  scratchUrl.pathname = `/${scratch}`;
  try {
    await replayDump(backup, libpqEnvironment(url, scratch));
    return await withClient(scratchUrl.toString(), (_client, query) => countRows(query));
  } finally {
    await withClient(url, (client) => client.query(`drop database if exists ${scratch} with (force)`));
  }
}
