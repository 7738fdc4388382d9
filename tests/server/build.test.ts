import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config.js';
import { freePort } from '../faults/helpers.js';

/**
 * The deployable build: scripts/build.mjs (what `npm run build` runs after `npm run generate`) into a package copied
 * out of the repository (package.json, dist/, node_modules), started with `node dist/main.js` from yet another
 * directory, where its .env and its embedded database are.
 */
const run = promisify(execFile);

describe('npm run build', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-build-'));
  const deployed = path.join(base, 'app');
  const workDir = path.join(base, 'work');
  let server: ChildProcess | undefined;
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('makes a dist/ that runs with node dist/main.js from any directory, outside the repository', async () => {
    const buildStarted = Date.now();
    await run(process.execPath, [path.join(projectRoot, 'scripts', 'build.mjs'), '--out-dir', path.join(deployed, 'dist')], { cwd: base });
    const buildMs = Date.now() - buildStarted;
    fs.copyFileSync(path.join(projectRoot, 'package.json'), path.join(deployed, 'package.json'));
    fs.symlinkSync(path.join(projectRoot, 'node_modules'), path.join(deployed, 'node_modules'));
    // Nothing of the repository's sources goes along: the code and the files it reads are all in dist/.
    expect(fs.readdirSync(deployed).sort()).toEqual(['dist', 'node_modules', 'package.json']);

    fs.mkdirSync(workDir);
    const port = await freePort();
    // .env from the working directory; PORT set in the environment wins over the one in the file.
    fs.writeFileSync(path.join(workDir, '.env'), 'PORT=not-a-port\nPGLITE_DATA_DIR=data-from-dotenv\n');
    const bootStarted = Date.now();
    server = spawn(process.execPath, [path.join(deployed, 'dist', 'main.js')], {
      cwd: workDir,
      env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), PORT: String(port), LOG_LEVEL: 'warn' },
    });
    let output = '';
    server.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`the built server exited (${server.exitCode}):\n${output}`);
      if (Date.now() - bootStarted > 45_000) throw new Error(`the built server did not answer in 45 s:\n${output}`);
      const health = await fetch(`${url}/health`).catch(() => null);
      if (health?.ok) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const bootMs = Date.now() - bootStarted;
    expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ status: 'ok', database: { kind: 'pglite', reachable: true } });

    // The embedded database (and the demo key beside it) is in the working directory, not in the package.
    const credentials = JSON.parse(fs.readFileSync(path.join(workDir, 'data-from-dotenv.demo-credentials.json'), 'utf8')) as { email: string; key: string };
    const answer = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${credentials.key}` },
      body: JSON.stringify({ query: '{ viewer { id email } }' }),
    });
    expect(await answer.json()).toMatchObject({ data: { viewer: { id: expect.any(String), email: credentials.email } } });

    // The playground and the dashboard with their bundles.
    const page = await (await fetch(`${url}/graphiql`)).text();
    const script = /assets\/[^"]+\.js/.exec(page)?.[0];
    expect(script).toBeDefined();
    expect((await fetch(`${url}/graphiql/${script}`)).status).toBe(200);
    const dashboard = await (await fetch(`${url}/dashboard`)).text();
    const dashboardScript = /assets\/[^"]+\.js/.exec(dashboard)?.[0];
    expect(dashboardScript).toBeDefined();
    expect((await fetch(`${url}/dashboard/${dashboardScript}`)).status).toBe(200);
    console.log(`[build] scripts/build.mjs ${buildMs} ms; node dist/main.js to /health ${bootMs} ms (new embedded database: migrations and demo data)`);
  }, 120_000);
});
