// A real server process from its start to its exit, probed the way an orchestrator probes it: the answers of /live,
// /ready and /graphql while it migrates and seeds a new embedded database, once it is ready, and while it drains.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, sleep } from '../faults/helpers.js';

type Probe = { status: number; body: { status?: string; phase?: string } } | { refused: true };

const probe = async (url: string): Promise<Probe> => {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return { status: res.status, body: (await res.json()) as { status?: string; phase?: string } };
  } catch {
    return { refused: true };
  }
};
const answered = (p: Probe): p is Extract<Probe, { status: number }> => !('refused' in p);

describe('probes from start to exit (a server process on a new embedded database)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-lifecycle-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('answers /live 200 and /ready 503 starting while it migrates and seeds, then ready; on SIGTERM /ready 503 draining while it still serves, then exits 0', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: { ...process.env, NODE_ENV: 'development', DATABASE_URL: '', PGLITE_DATA_DIR: path.join(dir, 'pglite'), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_DELAY_MS: '1500' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // Starting: every answer is recorded until /ready says ready.
      const starting: Array<{ ready: Probe; live: Probe }> = [];
      let graphqlWhileStarting: Response | null = null;
      for (const deadline = Date.now() + 90_000; ; ) {
        const [ready, live] = await Promise.all([probe(`${url}/ready`), probe(`${url}/live`)]);
        starting.push({ ready, live });
        if (answered(ready) && ready.status === 200) break;
        // Early in the start (seconds before it is ready), so that the request cannot reach the whole server.
        if (answered(ready) && ['database', 'migrations'].includes(ready.body.phase ?? '') && !graphqlWhileStarting) {
          graphqlWhileStarting = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ viewer { id } }"}' });
        }
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not become ready: ${output}`);
        await sleep(25);
      }
      const whileStarting = starting.filter((s) => answered(s.ready) && s.ready.status === 503);
      expect(whileStarting.length).toBeGreaterThan(0);
      for (const { ready } of whileStarting) expect(ready).toMatchObject({ status: 503, body: { status: 'starting' } });
      // (A probe can time out while PGlite initializes a new database: WebAssembly holds the event loop for a while.)
      const liveAnswers = starting.slice(0, -1).map((s) => s.live).filter(answered);
      expect(liveAnswers.length).toBeGreaterThan(0);
      for (const live of liveAnswers) expect(live).toMatchObject({ status: 200, body: { status: 'ok' } });
      // Phases only move forward; opening a new embedded database takes seconds, so an early phase is seen.
      const order = ['database', 'migrations', 'demo data', 'server'];
      const phases = whileStarting.map((s) => order.indexOf(answered(s.ready) ? (s.ready.body.phase ?? '') : ''));
      expect(phases.every((phase, i) => phase >= 0 && phase >= (phases[i - 1] ?? 0))).toBe(true);
      expect(phases[0]).toBeLessThanOrEqual(order.indexOf('migrations'));
      expect(graphqlWhileStarting?.status).toBe(503);
      expect(graphqlWhileStarting?.headers.get('retry-after')).toBe('2');
      expect(await graphqlWhileStarting?.json()).toMatchObject({ errors: [{ extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
      expect(await probe(`${url}/ready`)).toMatchObject({ status: 200, body: { status: 'ready' } });

      // Draining: /ready says so at once, and the server still serves until SHUTDOWN_DELAY_MS has passed.
      child.kill('SIGTERM');
      await expect.poll(() => probe(`${url}/ready`), { interval: 20, timeout: 1_000 }).toMatchObject({ status: 503, body: { status: 'draining' } });
      expect(await probe(`${url}/live`)).toMatchObject({ status: 200 });
      const { key } = JSON.parse(fs.readFileSync(path.join(dir, 'pglite.demo-credentials.json'), 'utf8')) as { key: string };
      const query = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: '{"query":"{ viewer { email } }"}',
      });
      expect(await query.json()).toEqual({ data: { viewer: { email: 'admin@example.com' } } });
      expect(await exited).toBe(0);
      expect(await probe(`${url}/live`)).toEqual({ refused: true });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
