import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config.js';

/**
 * The real server (`src/main.ts`, under tsx) started with a bad configuration: each case stops quickly with a
 * non-zero code and one line on stderr naming the variable and what it must be. Started in a temp directory with a
 * clean environment, so neither a developer's .env nor their variables reach it.
 */
type Outcome = { code: number | null; stdout: string; stderr: string; ms: number };

const tsxLoader = pathToFileURL(path.join(projectRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const mainScript = path.join(projectRoot, 'src', 'main.ts');
const isRoot = process.getuid?.() === 0;
/** Longer means it hangs: the answer takes 1–3 s on an idle machine, mostly loading the code. */
const HANG_MS = 30_000;

const tempDirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-startup-'));
  fs.chmodSync(dir, 0o755);
  tempDirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function startServer(env: Record<string, string>, options: { cwd?: string; asUser?: string } = {}): Promise<Outcome> {
  const command = [process.execPath, '--import', tsxLoader, mainScript];
  const [bin, ...args] = options.asUser ? ['runuser', '-u', options.asUser, '--', ...command] : command;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bin!, args, { cwd: options.cwd ?? tempDir(), env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), PORT: '0', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const hang = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(hang);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** A port nothing listens on: connections to it are refused. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });

function expectRefusal(outcome: Outcome, line: RegExp, label: string): void {
  console.log(`[startup] ${label}: exit ${outcome.code} after ${outcome.ms} ms: ${outcome.stderr.trim()}`);
  expect(outcome.code).not.toBe(0);
  expect(outcome.code).not.toBeNull(); // null: killed as hung
  expect(outcome.stderr.trim().split('\n')).toEqual([expect.stringMatching(line)]);
  expect(outcome.stdout).not.toContain('database opened');
  expect(outcome.ms).toBeLessThan(15_000);
}

describe('a bad configuration stops the server at once, saying which variable and what it must be', () => {
  it('DATABASE_URL that is not a URL', async () => {
    const outcome = await startServer({ DATABASE_URL: 'not a url' });
    expectRefusal(outcome, /^agentgraph: DATABASE_URL must be a PostgreSQL URL like postgresql:\/\/user:password@host:5432\/database, got "not a url"$/, 'not a url');
  });

  it('DATABASE_URL of another database, its password not repeated', async () => {
    const outcome = await startServer({ DATABASE_URL: 'mysql://root:hunter2@127.0.0.1:3306/app' });
    expectRefusal(outcome, /^agentgraph: DATABASE_URL must be a PostgreSQL URL .*got "mysql:\/\/\*\*\*@127\.0\.0\.1:3306\/app" \(a mysql: URL/, 'mysql://');
    expect(outcome.stderr + outcome.stdout).not.toContain('hunter2');
  });

  it('PostgreSQL refusing connections: connection refused at host:port, and no "database opened" first', async () => {
    const port = await closedPort();
    const outcome = await startServer({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/agentgraph` });
    expectRefusal(outcome, new RegExp(`^agentgraph: DATABASE_URL: connection refused at 127\\.0\\.0\\.1:${port} `), 'refused');
  });

  it('a server that does not speak PostgreSQL', async () => {
    const impostor = net.createServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    const { port } = impostor.address() as net.AddressInfo;
    try {
      const outcome = await startServer({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/agentgraph` });
      expectRefusal(outcome, new RegExp(`^agentgraph: DATABASE_URL: the server at 127\\.0\\.0\\.1:${port} did not answer as PostgreSQL`), 'not PostgreSQL');
    } finally {
      impostor.close();
    }
  });

  it('PGLITE_DATA_DIR on /proc, without hanging', async () => {
    const outcome = await startServer({ PGLITE_DATA_DIR: '/proc/x' });
    expectRefusal(outcome, /^agentgraph: PGLITE_DATA_DIR must be a directory this process can create and write, got "\/proc\/x": \/proc is on procfs, a kernel file system$/, '/proc/x');
    expect(outcome.ms).toBeLessThan(10_000);
  });

  it('PGLITE_DATA_DIR that exists but cannot be written', async () => {
    const dataDir = path.join(tempDir(), 'pglite');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, 'PG_VERSION'), '17\n');
    // Root writes anywhere: the server runs as `nobody` then, as PrivatePostgres runs PostgreSQL as `postgres`.
    if (isRoot) fs.chmodSync(dataDir, 0o755);
    else fs.chmodSync(dataDir, 0o555);
    const outcome = await startServer({ PGLITE_DATA_DIR: dataDir }, isRoot ? { asUser: 'nobody', cwd: path.dirname(dataDir) } : {});
    fs.chmodSync(dataDir, 0o755);
    expectRefusal(outcome, new RegExp(`^agentgraph: PGLITE_DATA_DIR must be a directory this process can create and write, got "${dataDir}": cannot write in it \\(EACCES: permission denied\\)$`), 'unwritable');
  });

  it('several mistakes: all of them, one line each', async () => {
    const outcome = await startServer({ PORT: 'abc', DB_POOL_MAX: 'ten', PLAYGROUND: 'maybe' });
    console.log(`[startup] three mistakes: exit ${outcome.code} after ${outcome.ms} ms`);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.trim().split('\n').sort()).toEqual([
      'agentgraph: DB_POOL_MAX must be a whole number (1 or more), got "ten"',
      'agentgraph: PLAYGROUND must be 1 or 0 (or true/false, yes/no), got "maybe"',
      'agentgraph: PORT must be a port number (0–65535), got "abc"',
    ]);
  });
});

describe('.env', () => {
  it('is read from the working directory, and variables already set win over it', async () => {
    const cwd = tempDir();
    fs.writeFileSync(path.join(cwd, '.env'), 'PORT=not-a-port\nLOG_LEVEL=loud\n');
    const outcome = await startServer({ PORT: '0' }, { cwd });
    // LOG_LEVEL came from .env; PORT from the environment, so the .env's bad PORT is never seen.
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.trim().split('\n')).toEqual(['agentgraph: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"']);
  });
});
