/**
 * Backups of the configured database (DATABASE_URL: PostgreSQL, with pg_dump/pg_restore; without: the embedded
 * PGlite database at PGLITE_DATA_DIR, with its data-directory dump):
 *
 *   npm run db:backup [-- --dir DIR] [--keep N] [--verify]   back up; keep the newest N of this database; verify it
 *   npm run db:backup -- --list [--dir DIR]                   list the backups in DIR
 *   npm run db:restore -- FILE [--force]                      restore (checksum first; --force to replace a non-empty database)
 *   npm run db:restore -- FILE --verify                       only restore into a scratch database and compare row counts
 *
 * DIR defaults to BACKUP_DIR, else .data/backups. Exit codes: 0 done, 1 refused or failed, 2 bad arguments.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, projectRoot } from '../config.js';
import { BackupError, formatBytes, listBackups, openCheckedBackup, pruneBackups, type WrittenBackup } from '../db/backup/backup-files.js';
import { compareCounts, totalRows, type TableCounts } from '../db/backup/database-facts.js';
import { restoreIntoScratchPglite, backupPglite, restorePglite } from '../db/backup/pglite-backup.js';
import { backupPostgres, describePostgres, restoreIntoScratchPostgres, restorePostgres } from '../db/backup/postgres-backup.js';
import { listMigrationNames } from '../db/migrations.js';
import { parsedArguments, runIfEntryPoint } from './run-main.js';

const usage = `Usage: npm run db:backup [-- --dir DIR] [--keep N] [--verify]
       npm run db:backup -- --list [--dir DIR]
       npm run db:restore -- FILE [--force]
       npm run db:restore -- FILE --verify`;

type Options =
  | { command: 'backup'; dir: string; keep: number | null; verify: boolean; list: boolean }
  | { command: 'restore'; file: string; force: boolean; verify: boolean }
  | { command: 'help' };

class UsageError extends Error {}

export function parseBackupArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Options {
  const [command, ...rest] = argv;
  if (command !== 'backup' && command !== 'restore') throw new UsageError(`Unknown command ${command ?? '(none)'}.`);
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: command === 'restore',
    options: {
      dir: { type: 'string' },
      keep: { type: 'string' },
      verify: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      force: { type: 'boolean', short: 'f', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { command: 'help' };
  if (command === 'restore') {
    if (positionals.length !== 1) throw new UsageError('db:restore takes the path of one backup.');
    if (values.dir !== undefined || values.keep !== undefined || values.list) throw new UsageError('--dir, --keep and --list are db:backup options.');
    if (values.verify && values.force) throw new UsageError('--verify leaves the database alone; --force is for a restore into it.');
    return { command, file: positionals[0]!, force: values.force, verify: values.verify };
  }
  if (values.force) throw new UsageError('--force is a db:restore option.');
  let keep: number | null = null;
  if (values.keep !== undefined) {
    if (!/^\d+$/.test(values.keep) || Number(values.keep) < 1) throw new UsageError(`--keep takes a whole number of backups, 1 or more, not ${JSON.stringify(values.keep)}.`);
    keep = Number(values.keep);
  }
  const dir = path.resolve(values.dir ?? (env.BACKUP_DIR?.trim() || path.join(projectRoot, '.data', 'backups')));
  return { command, dir, keep, verify: values.verify, list: values.list };
}

type Target = { kind: 'postgres'; url: string; name: string } | { kind: 'pglite'; dataDir: string; name: string };

function configuredTarget(): Target {
  const { url, pgliteDataDir } = loadConfig().database;
  if (url) return { kind: 'postgres', url, name: `PostgreSQL database ${describePostgres(url)}` };
  return { kind: 'pglite', dataDir: pgliteDataDir, name: `embedded database at ${path.resolve(pgliteDataDir)}` };
}

const rowsOf = (counts: TableCounts) => `${Object.keys(counts).length} tables, ${totalRows(counts)} rows`;

/** Compares restored row counts with the manifest's, prints the verdict; true when they match. */
function reportCounts(backup: WrittenBackup, restored: TableCounts, what: string, ms: number): boolean {
  const mismatches = compareCounts(backup.manifest.tables, restored);
  if (mismatches.length === 0) {
    console.log(`${what} in ${ms} ms: row counts match the backup (${rowsOf(restored)}).`);
    return true;
  }
  console.error(`${what}, but row counts differ from the backup in ${mismatches.length} table(s):`);
  for (const m of mismatches) console.error(`  ${m.table}: ${m.actual ?? 'missing'} restored, ${m.expected ?? 'not in the backup'} backed up`);
  return false;
}

async function verify(target: Target, backup: WrittenBackup): Promise<boolean> {
  const started = Date.now();
  if (backup.manifest.kind === 'pglite') {
    const restored = await restoreIntoScratchPglite(backup);
    return reportCounts(backup, restored, 'Verified: restored into a scratch PGlite database in memory', Date.now() - started);
  }
  if (target.kind !== 'postgres') {
    throw new BackupError('UNSUPPORTED', 'Verifying a PostgreSQL backup restores it into a scratch database on a PostgreSQL server: set DATABASE_URL to one (the backup is all that is read).');
  }
  const restored = await restoreIntoScratchPostgres(target.url, backup);
  return reportCounts(backup, restored, 'Verified: restored into a scratch database (created and dropped)', Date.now() - started);
}

function describeBackup({ dataPath, manifest }: WrittenBackup): string {
  const migration = manifest.migration.latest ? `migration ${manifest.migration.latest}` : 'no migrations';
  return `${dataPath}\n  ${formatBytes(manifest.bytes)}, ${rowsOf(manifest.tables)}, ${migration}, sha256 ${manifest.sha256}`;
}

async function backup(options: Extract<Options, { command: 'backup' }>): Promise<number> {
  if (options.list) {
    const backups = listBackups(options.dir);
    if (backups.length === 0) console.log(`No backups in ${options.dir}.`);
    for (const { manifest, dataPath } of backups) {
      console.log(`${manifest.createdAt}  ${manifest.kind.padEnd(8)} ${formatBytes(manifest.bytes).padStart(10)}  ${rowsOf(manifest.tables).padEnd(24)} ${manifest.source}\n  ${dataPath}`);
    }
    return 0;
  }
  const target = configuredTarget();
  const written = target.kind === 'postgres' ? await backupPostgres(target.url, options.dir) : await backupPglite(target.dataDir, options.dir);
  console.log(`Backed up the ${target.name} in ${written.manifest.durationMs} ms:\n  ${describeBackup(written)}`);
  if (options.verify && !(await verify(target, written))) {
    console.error('Older backups were kept; investigate before relying on this one.');
    return 1;
  }
  if (options.keep !== null) {
    const deleted = pruneBackups(options.dir, written.manifest.kind, written.manifest.source, options.keep);
    console.log(`Kept the newest ${options.keep} backup(s) of this database; deleted ${deleted.length}${deleted.map((file) => `\n  - ${path.basename(file)}`).join('')}`);
  }
  return 0;
}

/** What to do after restoring a backup taken at another migration than this code's latest. */
function migrationAdvice(latestInBackup: string | null): string | null {
  const known = listMigrationNames();
  if (!latestInBackup) return null;
  if (!known.includes(latestInBackup)) return `The backup was taken at migration ${latestInBackup}, which this code does not know: it is from a newer version of agentgraph.`;
  const pending = known.filter((name) => name > latestInBackup);
  return pending.length ? `The backup predates ${pending.length} migration(s) of this code: run npm run db:migrate (a PGlite server applies them when it starts).` : null;
}

async function restore(options: Extract<Options, { command: 'restore' }>): Promise<number> {
  const checked = await openCheckedBackup(options.file);
  const { manifest } = checked;
  console.log(`Checksum matches: ${describeBackup(checked)}\n  backed up from ${manifest.source} at ${manifest.createdAt}`);
  const target = configuredTarget();
  if (options.verify) return (await verify(target, checked)) ? 0 : 1;
  if (manifest.kind !== target.kind) {
    const how = manifest.kind === 'postgres' ? 'set DATABASE_URL to the PostgreSQL database to restore into' : 'unset DATABASE_URL and set PGLITE_DATA_DIR';
    throw new BackupError('WRONG_KIND', `This is a ${manifest.kind === 'postgres' ? 'PostgreSQL' : 'PGlite'} backup and the configured database is the ${target.name}: ${how}.`);
  }
  const started = Date.now();
  let restored: TableCounts;
  if (target.kind === 'postgres') {
    const result = await restorePostgres(target.url, checked, { force: options.force });
    if (result.otherSessions > 0) console.log(`Note: ${result.otherSessions} other session(s) were connected; restart servers so that they start afresh.`);
    restored = result.tables;
  } else {
    restored = await restorePglite(target.dataDir, checked, { force: options.force });
  }
  if (!reportCounts(checked, restored, `Restored into the ${target.name}`, Date.now() - started)) return 1;
  const advice = migrationAdvice(manifest.migration.latest);
  if (advice) console.log(advice);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const options = parsedArguments(parseBackupArgs, argv, usage);
  if (!options) return 2;
  if (options.command === 'help') {
    console.log(usage);
    return 0;
  }
  try {
    return options.command === 'backup' ? await backup(options) : await restore(options);
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    console.error(`db:${options.command}: ${error.message}`);
    return 1;
  }
}

runIfEntryPoint(import.meta.url, main);
