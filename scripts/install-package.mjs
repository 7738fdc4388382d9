#!/usr/bin/env node
// Installs one of the repository's own packages that the project's `npm install` leaves out, into its folder's
// node_modules (`npm ci --prefix <folder>`, from its package-lock.json):
//
//   bench/       the comparison benchmark's packages (PostGraphile 5, autocannon, the results chart's vega and resvg),
//                before `npm run bench` and `npm run typecheck:bench`
//   playground/  the GraphiQL playground's build stack (graphiql, Monaco, esbuild), before `npm run playground:build`
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

/** Installs `<root>/<folder>/package.json` into `<folder>/node_modules` unless that install is up to date. */
export function installPackage(folder, { force = false } = {}) {
  const packageDir = path.join(root, folder);
  // npm writes node_modules/.package-lock.json (its record of the installed tree) at the end of every install.
  const installed = path.join(packageDir, 'node_modules', '.package-lock.json');
  const inputs = ['package.json', 'package-lock.json'].map((file) => path.join(packageDir, file));
  const mtime = (file) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0);
  const upToDate = fs.existsSync(installed) && inputs.every((input) => mtime(input) <= mtime(installed));
  if (upToDate && !force) return;

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
    process.exit(result.status ?? 1);
  }
  // npm ci may keep the old mtime of an unchanged hidden lockfile: mark this install as newer than its inputs.
  if (fs.existsSync(installed)) fs.utimesSync(installed, new Date(), new Date());
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const folder = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
  if (!folder || !fs.existsSync(path.join(root, folder, 'package-lock.json'))) {
    console.error('Usage: node scripts/install-package.mjs <folder with package.json and package-lock.json> [--force]');
    process.exit(2);
  }
  installPackage(folder, { force: process.argv.includes('--force') });
}
