/**
 * Why the configured database cannot be opened, said in terms of the variable that configures it: what the driver
 * reports (`getaddrinfo ENOTFOUND`, `unexpected copyData message`, PGlite's errno) means little to someone starting the
 * server, and a process that stops at boot should say what to change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { redactCredentials } from '../config-reader.js';

type DatabaseVariable = 'DATABASE_URL' | 'PGLITE_DATA_DIR';

/** The configured database cannot be opened; the message names the variable and what is wrong with it. */
export class DatabaseOpenError extends Error {
  constructor(
    readonly variable: DatabaseVariable,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'DatabaseOpenError';
  }
}

/** `host:port` of a connection string, as pg reads it (5432 when no port is given). */
function serverOf(url: string): string {
  try {
    const parsed = new URL(url);
    const socketHost = parsed.searchParams.get('host');
    return `${parsed.hostname || socketHost || 'localhost'}:${parsed.port || '5432'}`;
  } catch {
    return redactCredentials(url);
  }
}

/** Refusals PostgreSQL answers with a SQLSTATE, for the ones a configuration causes. */
const POSTGRES_REFUSALS: Record<string, (server: string, url: URL | null) => string> = {
  '3D000': (server, url) => `database "${url?.pathname.slice(1) || '(default)'}" does not exist on ${server} (create it, or name another one)`,
  '28P01': (server, url) => `PostgreSQL at ${server} refused user "${url?.username || '(default)'}": wrong password`,
  '28000': (server, url) => `PostgreSQL at ${server} refused user "${url?.username || '(default)'}" (pg_hba.conf or an unknown role)`,
  '53300': (server) => `PostgreSQL at ${server} has no connection slot left (max_connections)`,
  '57P03': (server) => `PostgreSQL at ${server} is not accepting connections yet (starting up or shutting down)`,
};

/** A first connection to PostgreSQL failed: what it means for DATABASE_URL. */
export function postgresOpenError(error: unknown, url: string, connectTimeoutMs: number): DatabaseOpenError {
  const server = serverOf(url);
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  let parsedUrl: URL | null = null;
  try {
    parsedUrl = new URL(url);
  } catch {
    // reported by server name only
  }
  let why: string;
  if (code === 'ECONNREFUSED') why = `connection refused at ${server} (is PostgreSQL running and listening there?)`;
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') why = `host "${parsedUrl?.hostname ?? server}" not found (DNS)`;
  else if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') why = `${server} is unreachable (${code})`;
  else if (/timeout/i.test(message)) why = `no answer from ${server} within ${connectTimeoutMs} ms (DB_CONNECT_TIMEOUT_MS)`;
  else if (typeof code === 'string' && POSTGRES_REFUSALS[code]) why = POSTGRES_REFUSALS[code](server, parsedUrl);
  else if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) why = `PostgreSQL at ${server} refused the connection: ${message} (SQLSTATE ${code})`;
  else if (typeof code === 'string' && code.startsWith('E')) why = `cannot connect to ${server}: ${message}`;
  // No errno and no SQLSTATE: pg could not make sense of what the other end sent.
  else why = `the server at ${server} did not answer as PostgreSQL (${message})`;
  return new DatabaseOpenError('DATABASE_URL', `DATABASE_URL: ${why}`, { cause: error });
}

/**
 * Kernel file systems (Linux statfs magic numbers) that take mkdir and writes without holding files, or hang on them:
 * PGlite there spun at 100 % CPU without a word.
 */
const KERNEL_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, 'procfs'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0xcafe4a11, 'bpf'],
  [0x6e736673, 'nsfs'],
  [0x42494e4d, 'binfmt_misc'],
  [0xde5e81e4, 'efivarfs'],
  [0x62656570, 'configfs'],
  [0x65735543, 'fusectl'],
  [0x6165676c, 'pstore'],
  [0x19800202, 'mqueue'],
]);

const errnoText = (error: unknown) => {
  const { code, message } = error as NodeJS.ErrnoException;
  return code ? `${code}: ${message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')}` : String(message ?? error);
};

/**
 * Before PGlite sees the data directory: it must be on an ordinary file system, and this process must be able to
 * create it and write in it (a file is written and removed). Each failure is one line naming PGLITE_DATA_DIR.
 */
export function checkPgliteDataDir(dataDir: string): void {
  const dir = path.resolve(dataDir);
  const fail = (why: string, cause?: unknown) =>
    new DatabaseOpenError('PGLITE_DATA_DIR', `PGLITE_DATA_DIR must be a directory this process can create and write, got "${dataDir}": ${why}`, { cause });
  let existing = dir;
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  if (process.platform === 'linux') {
    const kind = KERNEL_FILE_SYSTEMS.get(Number(fs.statfsSync(existing).type));
    if (kind) throw fail(`${existing} is on ${kind}, a kernel file system`);
  }
  if (existing === dir && !fs.statSync(dir).isDirectory()) throw fail('it is a file, not a directory');
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw fail(`cannot create it (${errnoText(error)})`, error);
  }
  const probe = path.join(dir, `.agentgraph-write-check-${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (error) {
    throw fail(`cannot write in it (${errnoText(error)})`, error);
  }
}

/** The lock file beside the data directory could not be made (the directory holding the data directory is read-only). */
export function pgliteLockError(dataDir: string, lockPath: string, error: unknown): DatabaseOpenError {
  return new DatabaseOpenError(
    'PGLITE_DATA_DIR',
    `PGLITE_DATA_DIR must be in a directory this process can write (for its lock file ${lockPath}), got "${dataDir}": ${errnoText(error)}`,
    { cause: error },
  );
}

/** PGlite failed on a directory that passed the checks (a damaged or foreign data directory, most likely). */
export function pgliteOpenError(dataDir: string, error: unknown): DatabaseOpenError {
  const { message, name, errno } = error as { message?: string; name?: string; errno?: number };
  const what = `${message || name || String(error)}${errno !== undefined && !message ? ` (errno ${errno})` : ''}`;
  return new DatabaseOpenError('PGLITE_DATA_DIR', `PGLITE_DATA_DIR: PGlite could not open the database in "${dataDir}": ${what}`, { cause: error });
}
