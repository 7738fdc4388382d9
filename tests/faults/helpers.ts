import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { projectRoot } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { createUser } from '../helpers/factories.js';

/** Shared by the fault tests and the soak benchmark: a private PostgreSQL, the real server as a child process, load. */

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function postgresBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const candidate = path.join(root, version, 'bin', name);
    if (fs.existsSync(candidate)) return candidate;
  }
  return name; // on PATH
}

/**
 * A PostgreSQL instance of our own (initdb into a temp dir), so the test may stop and start it without touching the
 * machine's shared cluster. As root, it runs as the `postgres` user (PostgreSQL refuses to run as root).
 */
export class PrivatePostgres {
  readonly dir: string;
  readonly port: number;
  private readonly asUser: string[];

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
    this.asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  }

  static async create(): Promise<PrivatePostgres> {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-pg-'));
    const pg = new PrivatePostgres(path.join(base, 'data'), await freePort());
    if (pg.asUser.length) {
      fs.chmodSync(base, 0o777);
      execFileSync('chown', ['postgres', base]);
    }
    pg.run(postgresBin('initdb'), ['-D', pg.dir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    fs.appendFileSync(path.join(pg.dir, 'postgresql.conf'), `\nfsync = off\nmax_connections = 60\nshared_buffers = 32MB\n`);
    await pg.start();
    return pg;
  }

  private run(bin: string, args: string[]): string {
    const [cmd, ...rest] = this.asUser.length ? [...this.asUser, bin, ...args] : [bin, ...args];
    return execFileSync(cmd!, rest, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  urlFor(database: string): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    this.run(postgresBin('pg_ctl'), ['-D', this.dir, '-o', `-p ${this.port} -k /tmp -c listen_addresses=127.0.0.1`, '-l', path.join(path.dirname(this.dir), 'log'), '-w', 'start']);
  }

  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    this.run(postgresBin('pg_ctl'), ['-D', this.dir, '-m', mode, '-w', 'stop']);
  }

  /** Pids SIGSTOPped by `freeze` and not yet continued. */
  private readonly frozen = new Set<number>();

  /** The instance's processes: the postmaster (first line of the data dir's postmaster.pid) and its children. */
  pids(): number[] {
    let postmaster: number;
    try {
      postmaster = Number(fs.readFileSync(path.join(this.dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return []; // not running
    }
    if (!Number.isInteger(postmaster) || postmaster <= 0) return [];
    const children: number[] = [];
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // /proc/<pid>/stat: `pid (comm) state ppid …`; comm may hold spaces and parentheses, so read after the last `)`.
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === postmaster) children.push(Number(entry));
      } catch {
        // the process ended meanwhile
      }
    }
    return [postmaster, ...children];
  }

  /**
   * SIGSTOPs every process of the instance, the postmaster first (so it forks no new backend), then its children
   * until none is left running: a hung database that still accepts TCP connections (the kernel completes the
   * handshake) but never answers. `thaw` (also called by `destroy`, and at process exit) continues them.
   */
  freeze(): number[] {
    if (this.frozen.size === 0) process.once('exit', this.thawOnExit);
    for (let round = 0; round < 5; round++) {
      const fresh = this.pids().filter((pid) => !this.frozen.has(pid));
      if (fresh.length === 0) break;
      for (const pid of fresh) {
        try {
          process.kill(pid, 'SIGSTOP');
          this.frozen.add(pid);
        } catch {
          // ended meanwhile
        }
      }
    }
    return [...this.frozen];
  }

  /** SIGCONTs every process `freeze` stopped and every current process of the instance; safe to call any time. */
  thaw(): void {
    const pids = new Set([...this.frozen, ...this.pids()]);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    this.frozen.clear();
    process.removeListener('exit', this.thawOnExit);
  }

  private readonly thawOnExit = () => this.thaw();

  async destroy(): Promise<void> {
    // A stopped postmaster would never act on pg_ctl's signal.
    this.thaw();
    try {
      await this.stop('immediate');
    } catch {
      // already stopped
    }
    fs.rmSync(path.dirname(this.dir), { recursive: true, force: true });
  }
}

/** `exited` resolves to the exit code, or `signal:<name>` when a signal killed the process. */
export type ServerProcess = { url: string; child: ChildProcess; pid: number; output: () => string; exited: Promise<number | string> };

/**
 * The real server (`node --import tsx src/main.ts`) on a free port, resolved once /health answers. A variable given
 * as `undefined` is removed from the child's environment (e.g. `RATE_LIMIT_PER_MINUTE: undefined` keeps the
 * server's own rate limit). SERVER_NODE_ARGS adds Node options for the child (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`
 * to profile the server of a benchmark; NODE_OPTIONS refuses --cpu-prof).
 */
export async function spawnServer(env: Record<string, string | undefined>): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(process.env.SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', 'src/main.ts'], {
    cwd: projectRoot,
    // NODE_ENV as in production: vitest sets it to `test`, which changes Apollo's signal handling.
    // The per-key rate limit is off: these tests drive one key far past it on purpose.
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1', RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_COST_PER_MINUTE: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? `signal:${signal}`)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${output}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server did not come up: ${output}`);
    await sleep(200);
  }
  return { url, child, pid: child.pid!, output: () => output, exited };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response data is read ad hoc by each scenario
export type Outcome = { op: string; started: number; ms: number; status: number; code?: string; ok: boolean; networkError?: string; data?: any };

/** One GraphQL request, classified: ok (200, data, no errors), a GraphQL error code, an HTTP status, or a network error. */
export async function request(url: string, key: string, op: string, query: string, variables: unknown, timeoutMs = 10_000): Promise<Outcome> {
  const started = Date.now();
  try {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let body: { data?: any; errors?: Array<{ extensions?: { code?: string } }> } = {};
    try {
      body = JSON.parse(text);
    } catch {
      // non-JSON answer: classified by status
    }
    const code = body.errors?.[0]?.extensions?.code;
    return { op, started, ms: Date.now() - started, status: res.status, code, ok: res.status === 200 && !body.errors && body.data != null, data: body.data };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return { op, started, ms: Date.now() - started, status: 0, ok: false, networkError: cause?.code ?? (err as Error).name };
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function rssMb(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return Math.round(kb / 102.4) / 10;
  } catch {
    return 0;
  }
}

/**
 * The fault tests' world: a private PostgreSQL with a database `name`, the real server on it (pool of 8), a user's API
 * key and a three-node graph of theirs.
 */
export async function serverOnPrivatePostgres(name: string): Promise<{ postgres: PrivatePostgres; server: ServerProcess; url: string; key: string; graphId: string }> {
  const postgres = await PrivatePostgres.create();
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = postgres.urlFor(name);
  const server = await spawnServer({ DATABASE_URL: url, MIGRATE_ON_START: '1', DB_POOL_MAX: '8' });
  const db = await openDatabase({ url, pgliteDataDir: '', poolMax: 1 });
  const key = (await createUser(db)).apiKey;
  await db.close();
  const created = await request(
    server.url,
    key,
    'createGraph',
    `mutation { createGraph(input: { name: "${name}", nodes: [{ key: "a", blockId: "in" }, { key: "b", blockId: "llm" }, { key: "c", blockId: "out" }], links: [{ source: "a", sink: "b", sourceName: "o", sinkName: "i" }, { source: "b", sink: "c", sourceName: "o", sinkName: "i" }] }) { graph { id } } }`,
    {},
  );
  if (!created.ok) throw new Error(`createGraph failed: ${JSON.stringify(created)}`);
  return { postgres, server, url, key, graphId: created.data.createGraph.graph.id };
}
