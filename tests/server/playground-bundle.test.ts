import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config.js';

/**
 * The GraphiQL playground's bundle is committed (src/http/playground/bundle/README.md says why). These compare it with
 * its sources through the digests its manifest records, without installing its build stack; CI's
 * `npm run playground:check` rebuilds it and compares every byte.
 */
const run = promisify(execFile);
const bundleDir = path.join(projectRoot, 'src/http/playground/bundle');

describe('the committed playground bundle', () => {
  it('was built from the current src/http/playground/ and playground/package-lock.json (else: npm run playground:build)', async () => {
    const check = run(process.execPath, [path.join(projectRoot, 'scripts/build-playground.mjs'), '--check', '--sources-only'], { cwd: projectRoot });
    await expect(check).resolves.toMatchObject({ stdout: expect.stringContaining('unchanged') });
  });

  it('holds every file its manifest names', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(bundleDir, 'manifest.json'), 'utf8')) as { script: string; style: string; workers: Record<string, string>; builtFrom: Record<string, string> };
    for (const file of [manifest.script, manifest.style, ...Object.values(manifest.workers)]) expect(fs.existsSync(path.join(bundleDir, file)), file).toBe(true);
    expect(Object.keys(manifest.builtFrom)).toContain('src/http/playground/client.jsx');
  });
});
