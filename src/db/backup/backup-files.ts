/**
 * Backup files on disk. A backup is three files in the backup directory:
 *
 *   agentgraph-<kind>-<name>-<UTC time>.<dump|tar.gz>   the data (pg_dump custom format, or PGlite's data-directory tarball)
 *   … .sha256                                            its checksum, in `sha256sum -c` format
 *   … .json                                              the manifest: checksum, size, row counts, migration, source
 *
 * The data is written under a `.partial` name and renamed when complete; the manifest is written last, so a backup
 * without one is unfinished and ignored. Retention deletes only backups that have such a manifest.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DatabaseFacts } from './database-facts.js';

export type BackupKind = 'postgres' | 'pglite';

export const MANIFEST_FORMAT = 'agentgraph-backup/1';

export type BackupManifest = DatabaseFacts & {
  format: typeof MANIFEST_FORMAT;
  kind: BackupKind;
  /** Which database: `postgresql://host:port/name` (no user or password), or a PGlite data directory's absolute path. */
  source: string;
  /** The data file's name, in the manifest's directory. */
  file: string;
  createdAt: string;
  bytes: number;
  sha256: string;
  durationMs: number;
  /** What wrote the data file: `pg_dump (PostgreSQL) 15.x`, or PGlite's dumpDataDir. */
  tool: string;
};

export type BackupErrorCode =
  | 'UNSUPPORTED'
  | 'NO_DATABASE'
  | 'DATABASE_LOCKED'
  | 'NOT_EMPTY'
  | 'WRONG_KIND'
  | 'MANIFEST_MISSING'
  | 'CHECKSUM_MISMATCH'
  | 'COUNT_MISMATCH'
  | 'TOOL_MISSING'
  | 'TOOL_FAILED'
  | 'SCRATCH_UNAVAILABLE';

/** A backup or restore that cannot go on; the message says what is wrong and what to do. */
export class BackupError extends Error {
  constructor(
    readonly code: BackupErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

const DATA_FILE = /^agentgraph-(postgres|pglite)-[A-Za-z0-9_.-]+-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.(dump|tar\.gz)$/;

export const extensionFor = (kind: BackupKind) => (kind === 'postgres' ? 'dump' : 'tar.gz');

/** `agentgraph-postgres-agentgraph-2026-05-01T12-00-00.123Z.dump`: sorts by time within one database. */
export function backupFileName(kind: BackupKind, databaseName: string, at: Date): string {
  const name = databaseName.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 60) || 'db';
  return `agentgraph-${kind}-${name}-${at.toISOString().replace(/:/g, '-')}.${extensionFor(kind)}`;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

function writeFileAtomically(file: string, text: string): void {
  const partial = `${file}.partial`;
  fs.writeFileSync(partial, text);
  fs.renameSync(partial, file);
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export type WrittenBackup = { dataPath: string; manifestPath: string; manifest: BackupManifest };

/**
 * Writes a backup: `produce` writes the data to the path it is given; then the checksum, the rename into place, the
 * sidecar and the manifest. A failure leaves no file behind.
 */
export async function writeBackup(
  dir: string,
  fileName: string,
  produce: (partialPath: string) => Promise<void>,
  describe: Omit<BackupManifest, 'format' | 'file' | 'bytes' | 'sha256' | 'durationMs' | 'createdAt'> & { startedAt: Date },
): Promise<WrittenBackup> {
  fs.mkdirSync(dir, { recursive: true });
  const dataPath = path.join(dir, fileName);
  const partial = `${dataPath}.partial`;
  try {
    await produce(partial);
    fsyncFile(partial);
    const sha256 = await sha256File(partial);
    const bytes = fs.statSync(partial).size;
    if (fs.existsSync(dataPath)) throw new BackupError('UNSUPPORTED', `${dataPath} exists already; not overwriting it.`);
    fs.renameSync(partial, dataPath);
    const { startedAt, ...facts } = describe;
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      ...facts,
      file: fileName,
      createdAt: startedAt.toISOString(),
      bytes,
      sha256,
      durationMs: Date.now() - startedAt.getTime(),
    };
    writeFileAtomically(`${dataPath}.sha256`, `${sha256}  ${fileName}\n`);
    const manifestPath = `${dataPath}.json`;
    writeFileAtomically(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    return { dataPath, manifestPath, manifest };
  } finally {
    fs.rmSync(partial, { force: true });
  }
}

function parseManifest(manifestPath: string): BackupManifest | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Partial<BackupManifest>;
    const valid =
      parsed.format === MANIFEST_FORMAT &&
      (parsed.kind === 'postgres' || parsed.kind === 'pglite') &&
      typeof parsed.file === 'string' &&
      DATA_FILE.test(parsed.file) &&
      typeof parsed.sha256 === 'string' &&
      typeof parsed.bytes === 'number' &&
      typeof parsed.tables === 'object' &&
      parsed.tables !== null;
    return valid ? (parsed as BackupManifest) : null;
  } catch {
    return null;
  }
}

/**
 * The backup a path names (its data file or its manifest), its checksum checked against the manifest and the
 * sidecar. Throws BackupError when the manifest is missing or the file differs from what was written.
 */
export async function openCheckedBackup(file: string): Promise<WrittenBackup> {
  const given = path.resolve(file);
  const manifestPath = given.endsWith('.json') ? given : `${given}.json`;
  if (!fs.existsSync(manifestPath)) {
    const what = fs.existsSync(given) ? `${given} has no manifest ${path.basename(manifestPath)} next to it` : `${given} does not exist`;
    throw new BackupError('MANIFEST_MISSING', `${what}: give the path of a backup written by npm run db:backup (list them with npm run db:backup -- --list).`);
  }
  const manifest = parseManifest(manifestPath);
  if (!manifest) throw new BackupError('MANIFEST_MISSING', `${manifestPath} is not a backup manifest of agentgraph (format ${MANIFEST_FORMAT}).`);
  const dataPath = given.endsWith('.json') ? path.join(path.dirname(given), manifest.file) : given;
  if (!fs.existsSync(dataPath)) throw new BackupError('MANIFEST_MISSING', `The manifest ${manifestPath} names ${dataPath}, which does not exist.`);

  const damaged = (detail: string) =>
    new BackupError('CHECKSUM_MISMATCH', `${dataPath} is damaged or was changed since it was written (${detail}): do not restore it; use another backup (npm run db:backup -- --list shows them).`);
  const bytes = fs.statSync(dataPath).size;
  if (bytes !== manifest.bytes) throw damaged(`${bytes} bytes, the manifest says ${manifest.bytes}`);
  const sha256 = await sha256File(dataPath);
  if (sha256 !== manifest.sha256) throw damaged(`sha256 ${sha256}, the manifest says ${manifest.sha256}`);
  const sidecar = `${dataPath}.sha256`;
  if (fs.existsSync(sidecar)) {
    const recorded = fs.readFileSync(sidecar, 'utf8').trim().split(/\s+/)[0];
    if (recorded !== sha256) throw damaged(`sha256 ${sha256}, ${path.basename(sidecar)} says ${recorded}`);
  }
  return { dataPath, manifestPath, manifest };
}

/** The finished backups in a directory (those with a manifest of this format), newest first. */
export function listBackups(dir: string): WrittenBackup[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const backups: WrittenBackup[] = [];
  for (const name of names) {
    if (!name.endsWith('.json') || !DATA_FILE.test(name.slice(0, -'.json'.length))) continue;
    const manifestPath = path.join(dir, name);
    const manifest = parseManifest(manifestPath);
    if (manifest && `${manifest.file}.json` === name) backups.push({ dataPath: path.join(dir, manifest.file), manifestPath, manifest });
  }
  return backups.sort((a, b) => b.manifest.createdAt.localeCompare(a.manifest.createdAt) || b.manifest.file.localeCompare(a.manifest.file));
}

/**
 * Keeps the newest `keep` backups of one database (same kind and source) in `dir` and deletes the older ones: the
 * manifest first, so that a deletion cut short leaves no backup that looks whole. Returns the data files deleted.
 */
export function pruneBackups(dir: string, kind: BackupKind, source: string, keep: number): string[] {
  const older = listBackups(dir)
    .filter((backup) => backup.manifest.kind === kind && backup.manifest.source === source)
    .slice(keep);
  for (const backup of older) {
    fs.rmSync(backup.manifestPath, { force: true });
    fs.rmSync(`${backup.dataPath}.sha256`, { force: true });
    fs.rmSync(backup.dataPath, { force: true });
  }
  return older.map((backup) => backup.dataPath);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
