#!/usr/bin/env node
// The Prisma client, src/generated/prisma/, is what `prisma generate` writes from prisma/schema.prisma, and it is
// committed (its README.md says why): the Prisma CLI is not installed with the project but on demand, from
// tools/prisma (scripts/prisma.mjs). Its generated-from.json records what it was generated from: the digest of
// prisma/schema.prisma and the versions of the CLI that generated it and of the runtime it is for (@prisma/client),
// both read from the lock files, which must name the same version.
//
// Usage:
//   node scripts/prisma-client.mjs            regenerate when what it was generated from changed (npm run generate
//                                             does this; the CLI is installed then)
//   … --force                                 regenerate anyway
//   … --check                                 npm run prisma:check: fail, naming the files, if src/generated/prisma/
//                                             is not what the CLI generates (regenerated into a temporary directory)
//   … --check --inputs-only                   only compare generated-from.json with the inputs (no install; npm test)
//
// Generation is reproducible: the generator's options are stated in the schema (not inferred from a tsconfig), and the
// output holds no paths or dates, so the same inputs give the same bytes wherever it runs.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { directoryDifferences, elapsed, replaceDirectory, root } from './page-bundles.mjs';
import { prismaPackage, spawnPrisma } from './prisma.mjs';

const clientDir = path.join(root, 'src/generated/prisma');
const schemaFile = 'prisma/schema.prisma';
const recordFile = 'generated-from.json';
/** Files of src/generated/prisma/ that `prisma generate` does not write. */
const KEPT = ['README.md'];

const lockedVersion = (lockFile, name) => JSON.parse(fs.readFileSync(path.join(root, lockFile), 'utf8')).packages?.[`node_modules/${name}`]?.version ?? null;

/** What the client is generated from, now: recorded in generated-from.json as it is. */
export function currentInputs() {
  return {
    [schemaFile]: createHash('sha256').update(fs.readFileSync(path.join(root, schemaFile))).digest('hex'),
    prisma: lockedVersion(`${prismaPackage}/package-lock.json`, 'prisma'),
    '@prisma/client': lockedVersion('package-lock.json', '@prisma/client'),
  };
}

/** The inputs whose recorded value differs from the current one (all of them when nothing is recorded). */
export function changedInputs() {
  const current = currentInputs();
  let recorded = {};
  try {
    recorded = JSON.parse(fs.readFileSync(path.join(clientDir, recordFile), 'utf8'));
  } catch {
    // not generated yet
  }
  return Object.keys(current).filter((input) => recorded[input] !== current[input]);
}

/** Why the CLI and the runtime do not go together, or null: the client is generated for its runtime's version. */
function versionMismatch({ prisma, '@prisma/client': runtime }) {
  if (prisma && prisma === runtime) return null;
  return (
    `${prismaPackage}/package-lock.json has prisma ${prisma}, package-lock.json has @prisma/client ${runtime}: the ` +
    `generated client is for the runtime of its own version. Pin the same version in ${prismaPackage}/package.json and package.json.`
  );
}

function fail(message) {
  console.error(message);
  process.exit(1);
}

/** `prisma generate` of a copy of the schema into a new temporary directory; returns the directory of the client. */
async function generateIntoTemporaryDirectory() {
  const inputs = currentInputs();
  const mismatch = versionMismatch(inputs);
  if (mismatch) fail(`prisma client: ${mismatch}`);
  // The schema's `output` is relative to the schema: a copy in <temp>/prisma/ writes the client below <temp>.
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-prisma-client-'));
  process.on('exit', () => fs.rmSync(workDir, { recursive: true, force: true }));
  const schemaCopy = path.join(workDir, schemaFile);
  fs.mkdirSync(path.dirname(schemaCopy));
  fs.copyFileSync(path.join(root, schemaFile), schemaCopy);
  const outputSetting = /^\s*output\s*=\s*"([^"]+)"/m.exec(fs.readFileSync(schemaCopy, 'utf8'))?.[1];
  const outDir = outputSetting && path.resolve(path.dirname(schemaCopy), outputSetting);
  if (!outDir || path.relative(workDir, outDir).startsWith('..')) fail(`prisma client: ${schemaFile} must set the generator's output to ../src/generated/prisma`);

  // Offline and quiet: no version check or telemetry request.
  const env = { ...process.env, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' };
  const child = spawnPrisma(['generate', '--schema', schemaCopy], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (chunk) => (log += chunk));
  child.stderr.on('data', (chunk) => (log += chunk));
  const code = await new Promise((resolve, reject) => child.on('error', reject).on('exit', (status) => resolve(status ?? 1)));
  if (code !== 0) fail(`${log}\nprisma client: prisma generate failed (exit ${code})`);
  fs.writeFileSync(path.join(outDir, recordFile), `${JSON.stringify(inputs, null, 2)}\n`);
  return outDir;
}

/** Regenerates src/generated/prisma/ in place (its README stays). */
export async function generatePrismaClient() {
  const outDir = await generateIntoTemporaryDirectory();
  // Copied beside the client first, then swapped in at once: a server or watcher never sees half a client.
  const staging = `${clientDir}.tmp-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.cpSync(outDir, staging, { recursive: true });
  replaceDirectory(staging, clientDir, { keep: KEPT });
}

/** Regenerates the client when what it was generated from changed; returns the inputs that changed (empty: nothing done). */
export async function refreshPrismaClient({ force = false } = {}) {
  const changed = changedInputs();
  if (changed.length > 0 || force) await generatePrismaClient();
  return changed;
}

async function check({ inputsOnly }) {
  const changed = changedInputs();
  if (changed.length > 0) {
    console.error(`prisma:check: src/generated/prisma/ was generated from other inputs; changed since: ${changed.join(', ')}`);
    fail('Run `npm run generate` and commit src/generated/prisma/.');
  }
  const mismatch = versionMismatch(currentInputs());
  if (mismatch) fail(`prisma:check: ${mismatch}`);
  if (inputsOnly) {
    console.log(`prisma:check: the client's recorded inputs are unchanged (${elapsed()})`);
    return;
  }

  const differences = directoryDifferences(await generateIntoTemporaryDirectory(), clientDir, { kept: KEPT });
  if (differences.length > 0) {
    console.error(`prisma:check: src/generated/prisma/ is not what prisma generate writes:\n  ${differences.join('\n  ')}`);
    fail('Run `node scripts/prisma-client.mjs --force` and commit src/generated/prisma/.');
  }
  console.log(`prisma:check: src/generated/prisma/ is what prisma generate writes (${elapsed()})`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--check')) {
    await check({ inputsOnly: process.argv.includes('--inputs-only') });
  } else {
    const changed = await refreshPrismaClient({ force: process.argv.includes('--force') });
    console.error(changed.length > 0 || process.argv.includes('--force') ? `prisma client: generated (${elapsed()})` : 'prisma client: up to date');
  }
}
