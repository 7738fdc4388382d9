#!/usr/bin/env node
// Installs one of the repository's own packages that the project's `npm install` leaves out, into its folder's
// node_modules (`npm ci --prefix <folder>`, from its package-lock.json):
//
//   bench/         the comparison benchmark's packages (PostGraphile 5, autocannon, the results chart's vega and
//                  resvg), before `npm run bench` and `npm run typecheck:bench`
//   playground/    the GraphiQL playground's build stack (graphiql, Monaco, esbuild), before `npm run playground:build`
//   tools/prisma/  the Prisma CLI, before `npm run prisma -- <args>` (scripts/prisma.mjs) and before the committed
//                  Prisma client is generated again (scripts/prisma-client.mjs: `npm run generate` when the schema
//                  changed, `npm run prisma:check`)
//
// It does nothing when <folder>/node_modules is newer than the folder's package-lock.json and package.json.
// Modules under such a folder resolve its node_modules first, then the repository's.
//
// Usage: node scripts/install-package.mjs <folder> [--force]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Runs `install` while holding `<packageDir>/.install.lock`, so that processes needing one package at once (test
 * files run in parallel, each starting the Prisma CLI) install it once: the others wait, then find it installed. A
 * lock whose process is gone is taken over.
 */
function whileLocked(packageDir, install) {
  const lock = path.join(packageDir, '.install.lock');
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const holder = Number(fs.readFileSync(lock, 'utf8')) || 0;
      let alive = holder > 0;
      try {
        if (alive) process.kill(holder, 0);
      } catch (probe) {
        alive = probe.code === 'EPERM';
      }
      if (alive) sleep(500);
      else fs.rmSync(lock, { force: true });
    }
  }
  try {
    install();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** Installs `<root>/<folder>/package.json` into `<folder>/node_modules` unless that install is up to date. */
export function installPackage(folder, { force = false } = {}) {
  const packageDir = path.join(root, folder);
  // npm writes node_modules/.package-lock.json (its record of the installed tree) at the end of every install.
  const installed = path.join(packageDir, 'node_modules', '.package-lock.json');
  const inputs = ['package.json', 'package-lock.json'].map((file) => path.join(packageDir, file));
  const mtime = (file) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0);
  const upToDate = () => fs.existsSync(installed) && inputs.every((input) => mtime(input) <= mtime(installed));
  if (upToDate() && !force) return;
  let status = 0;
  whileLocked(packageDir, () => {
    // Looked at again once the lock is held: another process may have installed it meanwhile.
    if (force || !upToDate()) status = runInstall(folder, packageDir, installed);
  });
  if (status !== 0) process.exit(status);
}

/** `npm ci` in the package's folder; returns its exit status. */
function runInstall(folder, packageDir, installed) {
  console.error(`${folder}: installing ${folder}/package.json into ${folder}/node_modules`);
  // --loglevel=error: npm's EBADENGINE warnings are expected for bench/ (PostGraphile 5 declares Node >= 22 and runs on
  // bench/.runtime's Node 22, bench/compare/servers.ts); deprecation notices are not ours to act on either.
  const result = spawnSync('npm', ['ci', '--prefix', packageDir, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) {
    console.error(`${folder}: \`npm ci --prefix ${folder}\` failed`);
    return result.status ?? 1;
  }
  // npm ci may keep the old mtime of an unchanged hidden lockfile: mark this install as newer than its inputs.
  if (fs.existsSync(installed)) fs.utimesSync(installed, new Date(), new Date());
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const folder = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
  if (!folder || !fs.existsSync(path.join(root, folder, 'package-lock.json'))) {
    console.error('Usage: node scripts/install-package.mjs <folder with package.json and package-lock.json> [--force]');
    process.exit(2);
  }
  installPackage(folder, { force: process.argv.includes('--force') });
}
