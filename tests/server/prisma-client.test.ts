import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config.js';

/**
 * The Prisma client is committed (src/generated/prisma/README.md says why). These compare it with its inputs through
 * the record it keeps, without installing the Prisma CLI; CI's `npm run prisma:check` regenerates it and compares
 * every byte.
 */
const run = promisify(execFile);
const clientDir = path.join(projectRoot, 'src/generated/prisma');

describe('the committed Prisma client', () => {
  it('was generated from the current prisma/schema.prisma, by the CLI of the runtime’s version (else: npm run generate)', async () => {
    const check = run(process.execPath, [path.join(projectRoot, 'scripts/prisma-client.mjs'), '--check', '--inputs-only'], { cwd: projectRoot });
    await expect(check).resolves.toMatchObject({ stdout: expect.stringContaining('unchanged') });
  });

  it('holds the client and its record, with no path of the machine that generated it', () => {
    const files = fs.readdirSync(clientDir, { recursive: true, encoding: 'utf8' }).filter((file) => fs.statSync(path.join(clientDir, file)).isFile());
    expect(files).toEqual(expect.arrayContaining(['client.ts', 'enums.ts', 'generated-from.json', 'README.md']));
    for (const file of files) expect(fs.readFileSync(path.join(clientDir, file), 'utf8'), file).not.toContain(projectRoot);
  });
});
