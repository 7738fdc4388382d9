import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, projectRoot } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { EmbeddedDatabaseLockedError, lockPathFor, type EmbeddedLockHolder } from '../../src/db/embedded-lock.js';
import { boot } from '../../src/server/boot.js';
import { runOperatorCli } from '../helpers/cli.js';

/** One writer per embedded database: a second process on a PGlite data directory is refused, never silently lost. */
const log = pino({ level: 'silent' });
const tempDirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function newDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-lock-'));
  tempDirs.push(dir);
  return path.join(dir, 'pglite');
}

const embeddedEnv = (dataDir: string) => ({ ...process.env, PGLITE_DATA_DIR: dataDir, DATABASE_URL: '' });

const runCli = (dataDir: string, args: string[]) => runOperatorCli(args, embeddedEnv(dataDir));

/** Another process that opens the database and keeps it open until killed. */
function holdInAnotherProcess(dataDir: string): Promise<ChildProcess> {
  const script = `const { openDatabase } = await import('./src/db/database.ts');
await openDatabase({ pgliteDataDir: process.env.PGLITE_DATA_DIR, poolMax: 1 }, { purpose: 'a test holder' });
process.stdout.write('open\\n');
setInterval(() => {}, 60_000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: projectRoot, env: embeddedEnv(dataDir), stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('open') && resolve(child));
    child.on('exit', (code) => reject(new Error(`the holder exited early (${code})`)));
  });
}

const readLock = (dataDir: string) => JSON.parse(fs.readFileSync(lockPathFor(dataDir), 'utf8')) as EmbeddedLockHolder;

describe('one writer per embedded database', () => {
  it('refuses user:create while a server holds the data directory (naming its pid and URL), and accepts it once the server stops', async () => {
    const dataDir = newDataDir();
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', PGLITE_DATA_DIR: dataDir, SEED_DEMO_DATA: '0' }, ['node', 'main']);
    const server = await boot(config, log);
    let refusedEmail = 'refused@example.com';
    try {
      expect(readLock(dataDir)).toMatchObject({ pid: process.pid, purpose: 'agentgraph server', url: server.url, port: Number(new URL(server.url).port) });

      const refused = await runCli(dataDir, ['user:create', '--email', refusedEmail]);
      expect(refused.code).not.toBe(0);
      expect(refused.stdout).not.toMatch(/agk_/);
      expect(refused.stderr).toContain(`in use by process ${process.pid}`);
      expect(refused.stderr).toContain('agentgraph server');
      expect(refused.stderr).toContain(server.url);
      expect(refused.stderr).toContain('DATABASE_URL');
      expect(await server.db.prisma.user.count({ where: { email: refusedEmail } })).toBe(0);

      // A second server in this process is refused too (it would be a second PGlite on the same files).
      await expect(boot(config, log)).rejects.toThrow(/already open in this process/);
    } finally {
      await server.shutdown();
    }
    expect(fs.existsSync(lockPathFor(dataDir))).toBe(false);

    refusedEmail = 'accepted@example.com';
    const accepted = await runCli(dataDir, ['user:create', '--email', refusedEmail]);
    expect(accepted.code, accepted.stderr).toBe(0);
    const { apiKey } = JSON.parse(accepted.stdout) as { apiKey: string };

    // The write survived the CLI: the next server sees the user and accepts the key.
    const next = await boot(config, log);
    try {
      const res = await fetch(`${next.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ query: '{ viewer { email } }' }),
      });
      expect(await res.json()).toEqual({ data: { viewer: { email: refusedEmail } } });
    } finally {
      await next.shutdown();
    }
  }, 180_000);

  it('refuses while another live process holds it, and takes over the lock it leaves behind when killed', async () => {
    const dataDir = newDataDir();
    const holder = await holdInAnotherProcess(dataDir);
    const refusal = await openDatabase({ pgliteDataDir: dataDir, poolMax: 1 }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(EmbeddedDatabaseLockedError);
    expect((refusal as EmbeddedDatabaseLockedError).holder).toMatchObject({ pid: holder.pid, purpose: 'a test holder' });
    expect((refusal as Error).message).toContain(`in use by process ${holder.pid}: a test holder`);

    // SIGKILL runs no exit handler: the lock file stays, naming a dead process.
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    holder.kill('SIGKILL');
    await exited;
    expect(readLock(dataDir).pid).toBe(holder.pid);

    const db = await openDatabase({ pgliteDataDir: dataDir, poolMax: 1 }, { purpose: 'the test' });
    try {
      expect(readLock(dataDir)).toMatchObject({ pid: process.pid, purpose: 'the test' });
      await db.ping();
    } finally {
      await db.close();
    }
    expect(fs.existsSync(lockPathFor(dataDir))).toBe(false);

    // A lock naming this very pid that this process does not hold is a previous life's (pid reused after a restart).
    fs.writeFileSync(lockPathFor(dataDir), JSON.stringify({ pid: process.pid, startedAt: '2020-01-01T00:00:00.000Z', purpose: 'old', command: 'old' }));
    const reopened = await openDatabase({ pgliteDataDir: dataDir, poolMax: 1 });
    expect(readLock(dataDir).startedAt).not.toBe('2020-01-01T00:00:00.000Z');
    await reopened.close();
    expect(fs.existsSync(lockPathFor(dataDir))).toBe(false);
  }, 120_000);

  it('takes no lock for memory databases', async () => {
    const db = await openDatabase({ pgliteDataDir: 'memory://', poolMax: 1 });
    expect(db.kind === 'pglite' && db.lock).toBeNull();
    await db.close();
  });
});
