/**
 * Backups of the embedded database: PGlite's own dump of its data directory (a tar.gz of the cluster's files).
 *
 * A copy is consistent only when no other process has the directory open: PGlite keeps its cluster in the process
 * and writes the files on its own schedule. So backup and restore take the directory's lock (embedded-lock.ts) like
 * any process opening it, and refuse, naming the holder, while a server has it. While the lock is held here nothing
 * else writes; a CHECKPOINT before the dump puts every change in the data files.
 *
 * A restore is loaded into a directory beside the target and its row counts compared with the manifest; only then
 * does it replace the data directory, in two renames.
 */
import { PGlite } from '@electric-sql/pglite';
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../database.js';
import { acquireEmbeddedLock, EmbeddedDatabaseLockedError } from '../embedded-lock.js';
import { BackupError, backupFileName, writeBackup, type WrittenBackup } from './backup-files.js';
import { compareCounts, countRows, readDatabaseFacts, totalRows, type RunQuery, type TableCounts } from './database-facts.js';

const queryOn = (pglite: PGlite): RunQuery => async <Row>(sql: string) => (await pglite.query<Row>(sql)).rows;

const hasCluster = (dataDir: string) => fs.existsSync(path.join(dataDir, 'PG_VERSION'));

function fileBacked(dataDir: string, command: string): string {
  if (dataDir.startsWith('memory://')) {
    throw new BackupError('UNSUPPORTED', `PGLITE_DATA_DIR is ${dataDir}, which lives in one process's memory: ${command} works on a data directory on disk.`);
  }
  return path.resolve(dataDir);
}

/** The lock's refusal, told for a backup or a restore: who holds the database and what to do. */
function lockedError(error: EmbeddedDatabaseLockedError, doing: 'back up' | 'restore into'): BackupError {
  const { holder } = error;
  const where = holder.url ? `, listening on ${holder.url}` : '';
  const command = doing === 'back up' ? 'npm run db:backup' : 'npm run db:restore';
  const risk = doing === 'back up' ? 'a copy taken beside it could be inconsistent' : 'it would overwrite a restore with its own files';
  return new BackupError(
    'DATABASE_LOCKED',
    `Cannot ${doing} the embedded database at ${error.dataDir}: process ${holder.pid} (${holder.purpose}${where}, started ${holder.startedAt}) has it open, ` +
      `and PGlite allows one process per data directory (${risk}). ` +
      `Stop process ${holder.pid} (Ctrl+C in its terminal, or kill ${holder.pid}), run ${command} again, then start it again` +
      `; or run on PostgreSQL (DATABASE_URL), which is backed up while servers run. If process ${holder.pid} is not agentgraph, delete ${error.lockPath}.`,
  );
}

async function withLockedDirectory<T>(doing: 'back up' | 'restore into', work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof EmbeddedDatabaseLockedError) throw lockedError(error, doing);
    throw error;
  }
}

export async function backupPglite(dataDirSetting: string, dir: string): Promise<WrittenBackup> {
  const dataDir = fileBacked(dataDirSetting, 'npm run db:backup');
  if (!hasCluster(dataDir)) {
    throw new BackupError('NO_DATABASE', `There is no embedded database at ${dataDir} to back up (no PG_VERSION there): check PGLITE_DATA_DIR.`);
  }
  const startedAt = new Date();
  const db = await withLockedDirectory('back up', () => openDatabase({ pgliteDataDir: dataDir, poolMax: 1 }, { purpose: 'npm run db:backup' }));
  try {
    if (db.kind !== 'pglite') throw new Error('Expected the embedded database.');
    await db.pglite.exec('CHECKPOINT');
    const facts = await readDatabaseFacts(queryOn(db.pglite));
    const dump = await db.pglite.dumpDataDir('gzip');
    const produce = async (partial: string) => fs.writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    const name = backupFileName('pglite', path.basename(dataDir), startedAt);
    return await writeBackup(dir, name, produce, { kind: 'pglite', source: dataDir, tool: 'PGlite dumpDataDir (tar.gz)', ...facts, startedAt });
  } finally {
    await db.close();
  }
}

const loadDump = (backup: WrittenBackup) => new Blob([fs.readFileSync(backup.dataPath)]);

/** Loads a backup into a PGlite (in memory, or into `dataDir`), reads its row counts, closes it. */
async function loadAndCount(backup: WrittenBackup, dataDir?: string): Promise<TableCounts> {
  const pglite = await PGlite.create({ ...(dataDir ? { dataDir } : {}), loadDataDir: loadDump(backup) });
  try {
    return await countRows(queryOn(pglite));
  } finally {
    await pglite.close();
  }
}

/** Loads a backup into a scratch PGlite in memory and reads its row counts. */
export const restoreIntoScratchPglite = (backup: WrittenBackup): Promise<TableCounts> => loadAndCount(backup);

/**
 * Restores a PGlite backup into the data directory `dataDirSetting` (refusing one that holds tables unless
 * `force`); returns the row counts of the database now there.
 */
export async function restorePglite(dataDirSetting: string, backup: WrittenBackup, options: { force: boolean }): Promise<TableCounts> {
  const dataDir = fileBacked(dataDirSetting, 'npm run db:restore');
  const lock = await withLockedDirectory('restore into', () => acquireEmbeddedLock(dataDir, 'npm run db:restore'));
  const staging = `${dataDir}.restoring-${process.pid}`;
  const replaced = `${dataDir}.replaced-${process.pid}`;
  try {
    if (!options.force && hasCluster(dataDir)) {
      const current = await PGlite.create(dataDir);
      let counts: TableCounts;
      try {
        counts = Object.fromEntries(Object.entries(await countRows(queryOn(current))).filter(([table]) => table.startsWith('public.')));
      } finally {
        await current.close();
      }
      const tables = Object.keys(counts).length;
      if (tables > 0) {
        throw new BackupError(
          'NOT_EMPTY',
          `The embedded database at ${dataDir} is not empty (${tables} tables, ${totalRows(counts)} rows): a restore replaces it. ` +
            'Pass --force to replace it, or set PGLITE_DATA_DIR to a new directory to restore into.',
        );
      }
    }
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    const restored = await loadAndCount(backup, staging);
    const mismatches = compareCounts(backup.manifest.tables, restored);
    if (mismatches.length > 0) {
      const first = mismatches[0]!;
      throw new BackupError(
        'COUNT_MISMATCH',
        `The restored database differs from the backup (${first.table}: ${first.actual ?? 'missing'} rows, the backup had ${first.expected ?? 'none'}); ${dataDir} was left as it was.`,
      );
    }
    // The database in place moves aside only once the restored one is complete; a crash between the two renames
    // leaves it at <dataDir>.replaced-<pid>.
    if (fs.existsSync(dataDir)) fs.renameSync(dataDir, replaced);
    fs.renameSync(staging, dataDir);
    fs.rmSync(replaced, { recursive: true, force: true });
    return restored;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    lock.release();
  }
}
