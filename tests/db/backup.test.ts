/**
 * `npm run db:backup` / `db:restore` (src/cli/backup.ts) as real processes, round trips on both databases: seeded rows
 * backed up (with --verify), changed, refused without --force, restored with it, compared; --keep; a damaged file
 * refused by its checksum; an embedded database refused while another live process holds it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrations.js';
import { syncBuiltInCatalogue } from '../../src/modules/blocks/block-sync.js';
import { createTestDatabase, testDatabaseKinds } from '../helpers/databases.js';
import { addSessionEvents, createGraph, createRun, createSession, createUser } from '../helpers/factories.js';
import { runCliScript, type CliResult } from '../helpers/cli.js';
import { parseBackupArgs } from '../../src/cli/backup.js';
import { describePostgres, libpqEnvironment } from '../../src/db/backup/postgres-backup.js';

const SEEDED_TABLES = ['users', 'api_keys', 'graphs', 'nodes', 'links', 'graph_executions', 'node_executions', 'sessions', 'session_events'];

/** Runs src/cli/backup.ts with exactly the database settings given (none inherited from this process). */
function runBackupCli(args: string[], settings: { DATABASE_URL?: string; PGLITE_DATA_DIR?: string; BACKUP_DIR: string }): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...settings };
  if (!settings.DATABASE_URL) delete env.DATABASE_URL;
  return runCliScript('backup.ts', args, env);
}

async function seed(db: Database): Promise<void> {
  const { user } = await createUser(db, { admin: true });
  const { user: other } = await createUser(db);
  const { graph } = await createGraph(db, user.id, { name: 'backed up' });
  for (let i = 0; i < 4; i++) await createRun(db, { graphId: graph.id, version: 1, userId: i % 2 ? other.id : user.id, status: 'COMPLETED', cost: i });
  const session = await createSession(db, { userId: user.id });
  await addSessionEvents(db, session.id, [1, 2, 3].map((n) => ({ author: 'agent', content: { text: `event ${n}` } })));
}

async function countSeeded(db: Database): Promise<Record<string, number>> {
  const columns = SEEDED_TABLES.map((table) => `(select count(*) from ${table})::int as ${table}`).join(', ');
  const rows = db.kind === 'pglite' ? (await db.pglite.query<Record<string, number>>(`select ${columns}`)).rows : (await db.pool.query(`select ${columns}`)).rows;
  return rows[0] as Record<string, number>;
}

/** The data files of the finished backups in `dir` (those with a manifest), oldest first. */
const backupsIn = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((name) => /^agentgraph-.*\.(dump|tar\.gz)$/.test(name) && fs.existsSync(path.join(dir, `${name}.json`)))
    .sort()
    .map((name) => path.join(dir, name));

function damagedCopy(backup: string, dir: string): string {
  const copy = path.join(dir, `damaged-${path.basename(backup)}`);
  fs.copyFileSync(backup, copy);
  fs.copyFileSync(`${backup}.json`, `${copy}.json`);
  const bytes = fs.readFileSync(copy);
  bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
  fs.writeFileSync(copy, bytes);
  return copy;
}

describe('the connection handed to pg_dump, pg_restore and psql', () => {
  it('is libpq environment variables, the password among them, never arguments; the source names no credentials', () => {
    const url = 'postgresql://app%40ops:s%3Acret@db.internal:6543/agent%20graph?sslmode=no-verify&schema=public&connection_limit=5&application_name=x';
    const env = libpqEnvironment(url, undefined, {});
    expect(env).toEqual({ PGHOST: 'db.internal', PGPORT: '6543', PGUSER: 'app@ops', PGPASSWORD: 's:cret', PGDATABASE: 'agent graph', PGSSLMODE: 'require', PGAPPNAME: 'x' });
    expect(libpqEnvironment(url, 'scratch', {}).PGDATABASE).toBe('scratch');
    expect(libpqEnvironment('postgresql://me@[::1]/db?host=/var/run/postgresql', undefined, { PGPASSWORD: 'from env' })).toMatchObject({ PGHOST: '/var/run/postgresql', PGPASSWORD: 'from env' });
    expect(describePostgres(url)).toBe('postgresql://db.internal:6543/agent%20graph');
  });
});

describe.runIf(testDatabaseKinds.includes('postgres'))('db:backup and db:restore on PostgreSQL', () => {
  let db: Database & { kind: 'postgres' };
  let settings: { DATABASE_URL: string; BACKUP_DIR: string };
  let seeded: Record<string, number>;
  beforeAll(async () => {
    db = (await createTestDatabase('postgres')) as Database & { kind: 'postgres' };
    await seed(db);
    seeded = await countSeeded(db);
    settings = { DATABASE_URL: db.url, BACKUP_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-backup-pg-')) };
  });
  afterAll(async () => {
    await db?.close();
    if (settings) fs.rmSync(settings.BACKUP_DIR, { recursive: true, force: true });
  });

  it('backs up and verifies in a scratch database; restores over changed rows only with --force', async () => {
    const backedUp = await runBackupCli(['backup', '--verify'], settings);
    expect(backedUp.stderr).toBe('');
    expect(backedUp.stdout).toMatch(/Backed up the PostgreSQL database postgresql:\/\/127\.0\.0\.1:5432\/agentgraph_test_\w+ in \d+ ms/);
    expect(backedUp.stdout).toMatch(/Verified: restored into a scratch database \(created and dropped\) in \d+ ms: row counts match the backup/);
    expect(backedUp.code).toBe(0);
    const [backup] = backupsIn(settings.BACKUP_DIR);
    const manifest = JSON.parse(fs.readFileSync(`${backup}.json`, 'utf8'));
    expect(manifest).toMatchObject({ kind: 'postgres', tables: { 'public.users': 2, 'public.session_events': 3, 'public.graph_executions': 4 } });
    expect(manifest.migration.latest).toMatch(/^\d{14}_/);
    expect(fs.readFileSync(`${backup}.sha256`, 'utf8')).toBe(`${manifest.sha256}  ${path.basename(backup!)}\n`);
    const scratch = await db.pool.query(`select count(*)::int as n from pg_database where datname like 'agentgraph_verify_%'`);
    expect(scratch.rows[0].n).toBe(0);

    await db.pool.query('delete from session_events; delete from graph_executions; create table stray (id int)');
    const refused = await runBackupCli(['restore', backup!], settings);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is not empty \(\d+ tables, \d+ rows\).*Pass --force/);

    const restored = await runBackupCli(['restore', backup!, '--force'], settings);
    expect(restored.stdout, restored.stderr).toMatch(/Checksum matches/);
    expect(restored.stdout).toMatch(/Restored into the PostgreSQL database .* row counts match the backup/);
    expect(restored.code).toBe(0);
    expect(await countSeeded(db)).toEqual(seeded);
    expect((await db.pool.query(`select to_regclass('public.stray') as stray`)).rows[0].stray).toBeNull();
  });

  it('--keep N deletes the older backups of this database only', async () => {
    const [older] = backupsIn(settings.BACKUP_DIR);
    // Another database's backup, and a file without a manifest: neither is this database's to delete.
    const otherDatabase = path.join(settings.BACKUP_DIR, 'agentgraph-postgres-other-2001-01-01T00-00-00.000Z.dump');
    fs.copyFileSync(older!, otherDatabase);
    const manifest = JSON.parse(fs.readFileSync(`${older}.json`, 'utf8'));
    fs.writeFileSync(`${otherDatabase}.json`, JSON.stringify({ ...manifest, file: path.basename(otherDatabase), source: 'postgresql://elsewhere:5432/other' }));
    const unfinished = path.join(settings.BACKUP_DIR, 'agentgraph-postgres-unfinished-2001-01-01T00-00-00.000Z.dump');
    fs.writeFileSync(unfinished, 'no manifest');

    const kept = await runBackupCli(['backup', '--keep', '1'], settings);
    expect(kept.stdout, kept.stderr).toMatch(/Kept the newest 1 backup\(s\) of this database; deleted 1\n {2}- agentgraph-postgres-agentgraph_test/);
    expect(kept.code).toBe(0);
    const ours = backupsIn(settings.BACKUP_DIR).filter((file) => path.basename(file).startsWith(`agentgraph-postgres-${new URL(db.url).pathname.slice(1)}-`));
    expect(ours).toHaveLength(1);
    expect(ours[0]).not.toBe(older);
    for (const file of [older!, `${older}.json`, `${older}.sha256`]) expect(fs.existsSync(file)).toBe(false);
    for (const file of [otherDatabase, `${otherDatabase}.json`, unfinished]) expect(fs.existsSync(file)).toBe(true);
    fs.rmSync(otherDatabase);
    fs.rmSync(`${otherDatabase}.json`);
    expect(() => parseBackupArgs(['backup', '--keep', '0'])).toThrow(/--keep takes a whole number of backups, 1 or more/);
  });

  it('refuses a damaged file by its checksum and leaves the database as it was; --verify alone passes on a good one', async () => {
    const [backup] = backupsIn(settings.BACKUP_DIR);
    const damaged = damagedCopy(backup!, settings.BACKUP_DIR);
    await db.pool.query('delete from session_events');
    const refused = await runBackupCli(['restore', damaged, '--force'], settings);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is damaged or was changed since it was written \(sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}\): do not restore it/);
    expect((await countSeeded(db)).session_events).toBe(0);

    const verified = await runBackupCli(['restore', backup!, '--verify'], settings);
    expect(verified.stdout, verified.stderr).toMatch(/Verified: .* row counts match the backup/);
    expect(verified.code).toBe(0);
    expect((await countSeeded(db)).session_events).toBe(0);
  });
});

describe.runIf(testDatabaseKinds.includes('pglite'))('db:backup and db:restore on PGlite', () => {
  let root: string;
  let settings: { PGLITE_DATA_DIR: string; BACKUP_DIR: string };
  let seeded: Record<string, number>;
  const open = () => openDatabase({ pgliteDataDir: settings.PGLITE_DATA_DIR, poolMax: 1 }, { purpose: 'agentgraph server' });
  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-backup-pglite-'));
    settings = { PGLITE_DATA_DIR: path.join(root, 'data'), BACKUP_DIR: path.join(root, 'backups') };
    const db = await open();
    try {
      await applyMigrations(db);
      await syncBuiltInCatalogue(db.prisma);
      await seed(db);
      seeded = await countSeeded(db);
    } finally {
      await db.close();
    }
  });
  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('backs up and verifies in memory', async () => {
    const backedUp = await runBackupCli(['backup', '--verify', '--keep', '1'], settings);
    expect(backedUp.stdout, backedUp.stderr).toMatch(/Backed up the embedded database at .*\/data in \d+ ms/);
    expect(backedUp.stdout).toMatch(/Verified: restored into a scratch PGlite database in memory in \d+ ms: row counts match the backup/);
    expect(backedUp.code).toBe(0);
    const [backup] = backupsIn(settings.BACKUP_DIR);
    expect(backup).toMatch(/agentgraph-pglite-data-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.tar\.gz$/);
  });

  it('refuses to back up or restore while another live process holds the database (which changes rows meanwhile), naming it', async () => {
    const [backup] = backupsIn(settings.BACKUP_DIR);
    const server = await open();
    try {
      if (server.kind !== 'pglite') throw new Error('expected PGlite');
      server.lock?.record({ url: 'http://127.0.0.1:4999', port: 4999 });
      await server.pglite.exec('delete from session_events; delete from graph_executions');
      for (const args of [['backup'], ['restore', backup!, '--force']]) {
        const refused = await runBackupCli(args, settings);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(`process ${process.pid} (agentgraph server, listening on http://127.0.0.1:4999`);
        expect(refused.stderr).toMatch(/Stop process \d+ .* again/);
      }
      expect(backupsIn(settings.BACKUP_DIR)).toEqual([backup]);
    } finally {
      await server.close();
    }
  });

  it('restores over the changed rows only with --force, and leaves no staging directory', async () => {
    const [backup] = backupsIn(settings.BACKUP_DIR);
    const refused = await runBackupCli(['restore', backup!], settings);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/The embedded database at .* is not empty .* Pass --force/);

    const restored = await runBackupCli(['restore', backup!, '--force'], settings);
    expect(restored.stdout, restored.stderr).toMatch(/Restored into the embedded database at .* row counts match the backup/);
    expect(restored.code).toBe(0);
    const after = await open();
    try {
      expect(await countSeeded(after)).toEqual(seeded);
      expect(seeded.session_events).toBe(3); // deleted by the 'server' above, back now
    } finally {
      await after.close();
    }
    expect(fs.readdirSync(root).sort()).toEqual(['backups', 'data']); // no staging or replaced directory left
  });

  it('refuses a damaged file by its checksum', async () => {
    const [backup] = backupsIn(settings.BACKUP_DIR);
    const refused = await runBackupCli(['restore', damagedCopy(backup!, root), '--force'], settings);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is damaged or was changed since it was written .*: do not restore it/);
  });
});
