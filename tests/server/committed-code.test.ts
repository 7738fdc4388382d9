import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config.js';

/**
 * Generated code that is committed, so that its build stack stays out of the install: the GraphiQL playground's bundle
 * (src/http/playground/bundle/README.md says why) and the Prisma client (src/generated/prisma/README.md). These compare
 * each with its sources through the digests it records, without installing anything; CI's `npm run playground:check`
 * and `npm run prisma:check` build them again and compare every byte.
 */
const run = promisify(execFile);
const bundleDir = path.join(projectRoot, 'src/http/playground/bundle');
const clientDir = path.join(projectRoot, 'src/generated/prisma');

/** Runs a build script's check of the recorded inputs alone; it answers `… unchanged` on stdout, else exits 1. */
const recordedInputsCheck = (script: string, ...flags: string[]) =>
  run(process.execPath, [path.join(projectRoot, 'scripts', script), '--check', ...flags], { cwd: projectRoot });

describe('the committed playground bundle', () => {
  it('was built from the current src/http/playground/ and playground/package-lock.json (else: npm run playground:build)', async () => {
    await expect(recordedInputsCheck('build-playground.mjs', '--sources-only')).resolves.toMatchObject({ stdout: expect.stringContaining('unchanged') });
  });

  it('holds every file its manifest names', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(bundleDir, 'manifest.json'), 'utf8')) as { script: string; style: string; workers: Record<string, string>; builtFrom: Record<string, string> };
    for (const file of [manifest.script, manifest.style, ...Object.values(manifest.workers)]) expect(fs.existsSync(path.join(bundleDir, file)), file).toBe(true);
    expect(Object.keys(manifest.builtFrom)).toContain('src/http/playground/client.jsx');
  });
});

describe('the committed Prisma client', () => {
  it('was generated from the current prisma/schema.prisma, by the CLI of the runtime’s version (else: npm run generate)', async () => {
    await expect(recordedInputsCheck('prisma-client.mjs', '--inputs-only')).resolves.toMatchObject({ stdout: expect.stringContaining('unchanged') });
  });

  it('holds the client and its record, with no path of the machine that generated it', () => {
    const files = fs.readdirSync(clientDir, { recursive: true, encoding: 'utf8' }).filter((file) => fs.statSync(path.join(clientDir, file)).isFile());
    expect(files).toEqual(expect.arrayContaining(['client.ts', 'enums.ts', 'generated-from.json', 'README.md']));
    for (const file of files) expect(fs.readFileSync(path.join(clientDir, file), 'utf8'), file).not.toContain(projectRoot);
  });
});
