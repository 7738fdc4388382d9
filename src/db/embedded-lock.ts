import fs from 'node:fs';
import path from 'node:path';

/**
 * One writer per embedded database. PGlite runs PostgreSQL inside the process and writes its data directory back on
 * its own schedule: two processes on one directory each see only their own writes, and whichever stops last
 * overwrites the other. So opening a data directory takes `<dataDir>.lock` (next to the directory, so that deleting
 * the directory in `db:reset` leaves it in place), created exclusively (O_EXCL). A lock whose process is gone is
 * taken over; the lock is removed on close and on process exit.
 */
export type EmbeddedLockHolder = {
  pid: number;
  startedAt: string;
  /** What holds it, for people: `agentgraph server`, `npm run cli -- user:create`, … */
  purpose: string;
  /** The holder's command line. */
  command: string;
  /** Where a server holding the lock listens, once it does. */
  url?: string;
  port?: number;
};

export type EmbeddedLock = {
  path: string;
  holder: EmbeddedLockHolder;
  /** Adds what others should know about the holder (a server's URL and port) to the lock file. */
  record(details: { url: string; port: number }): void;
  /** Removes the lock file if it is still this lock's. Idempotent. */
  release(): void;
};

/** A second process opening an embedded database that a live process holds. */
export class EmbeddedDatabaseLockedError extends Error {
  readonly code = 'EMBEDDED_DATABASE_LOCKED';
  constructor(
    readonly dataDir: string,
    readonly lockPath: string,
    readonly holder: EmbeddedLockHolder,
    sameProcess: boolean,
  ) {
    super(lockedMessage(dataDir, lockPath, holder, sameProcess));
    this.name = 'EmbeddedDatabaseLockedError';
  }
}

function lockedMessage(dataDir: string, lockPath: string, holder: EmbeddedLockHolder, sameProcess: boolean): string {
  const why = 'PGlite allows one process per data directory; a second one would lose its writes.';
  if (sameProcess) return `The embedded database at ${dataDir} is already open in this process (${holder.purpose}). ${why} Close it first.`;
  const where = holder.url ? `, listening on ${holder.url} (port ${holder.port})` : '';
  return (
    `The embedded database at ${dataDir} is in use by process ${holder.pid}: ${holder.purpose}${where}, started ${holder.startedAt}, ` +
    `command: ${holder.command}. ${why} ` +
    `Stop process ${holder.pid} (Ctrl+C in its terminal, or kill ${holder.pid}) and run this again, ` +
    'or use PostgreSQL for several processes on one database (DATABASE_URL=postgresql://…). ' +
    `If process ${holder.pid} is not agentgraph, delete ${lockPath}.`
  );
}

export const lockPathFor = (dataDir: string) => `${path.resolve(dataDir).replace(/\/+$/, '')}.lock`;

/** Lock files this process holds: its own pid in a lock file it does not hold is a previous life's (pid reused). */
const heldHere = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseHolder(text: string): EmbeddedLockHolder | null {
  try {
    const parsed = JSON.parse(text) as Partial<EmbeddedLockHolder>;
    return typeof parsed.pid === 'number' && Number.isInteger(parsed.pid) && parsed.pid > 0 ? (parsed as EmbeddedLockHolder) : null;
  } catch {
    return null;
  }
}

const readText = (file: string): string | null => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A lock file that does not parse is being written (the moment between O_EXCL create and write) or is garbage. */
const WRITE_GRACE_MS = 2_000;

/**
 * Moves a stale lock file aside and checks that what was moved is the one judged stale: another process may have
 * taken the lock over in between, and then its lock is put back.
 */
function removeStale(lockPath: string, staleText: string): void {
  const aside = `${lockPath}.stale-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (readText(aside) !== staleText) {
    try {
      fs.linkSync(aside, lockPath);
    } catch {
      // Yet another process took it meanwhile: that one holds it now.
    }
  }
  fs.rmSync(aside, { force: true });
}

function writeExclusive(lockPath: string, holder: EmbeddedLockHolder): boolean {
  let fd: number;
  try {
    fd = fs.openSync(lockPath, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    fs.writeSync(fd, JSON.stringify(holder));
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

function describeThisProcess(): string {
  return process.argv
    .slice(1)
    .map((arg) => (path.isAbsolute(arg) && arg.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), arg) : arg))
    .join(' ');
}

/** Takes the lock of a file-backed data directory, or throws EmbeddedDatabaseLockedError naming its live holder. */
export async function acquireEmbeddedLock(dataDir: string, purpose: string): Promise<EmbeddedLock> {
  const lockPath = lockPathFor(dataDir);
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  const holder: EmbeddedLockHolder = { pid: process.pid, startedAt: new Date().toISOString(), purpose, command: describeThisProcess() };
  const firstTry = Date.now();
  for (;;) {
    if (writeExclusive(lockPath, holder)) break;
    const text = readText(lockPath);
    if (text === null) continue; // released just now
    const current = parseHolder(text);
    if (current) {
      const ours = current.pid === process.pid;
      if (ours && heldHere.has(lockPath)) throw new EmbeddedDatabaseLockedError(dataDir, lockPath, current, true);
      if (!ours && isAlive(current.pid)) throw new EmbeddedDatabaseLockedError(dataDir, lockPath, current, false);
      removeStale(lockPath, text);
    } else if (Date.now() - firstTry > WRITE_GRACE_MS) {
      removeStale(lockPath, text);
    } else {
      await sleep(25);
    }
  }
  heldHere.add(lockPath);

  let released = false;
  const isStillOurs = () => {
    const current = parseHolder(readText(lockPath) ?? '');
    return current?.pid === holder.pid && current.startedAt === holder.startedAt;
  };
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    heldHere.delete(lockPath);
    if (isStillOurs()) fs.rmSync(lockPath, { force: true });
  };
  process.on('exit', release);
  return {
    path: lockPath,
    holder,
    record(details) {
      if (released) return;
      Object.assign(holder, details);
      // Replaced in one rename, so a reader never sees half a file.
      const next = `${lockPath}.${process.pid}.tmp`;
      fs.writeFileSync(next, JSON.stringify(holder), { mode: 0o600 });
      fs.renameSync(next, lockPath);
    },
    release,
  };
}
