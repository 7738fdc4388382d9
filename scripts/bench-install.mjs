#!/usr/bin/env node
// Installs the comparison benchmark's own packages (bench/package.json: PostGraphile 5, autocannon, the results
// chart's vega and resvg) into bench/node_modules, which the project's `npm install` leaves out. `npm run bench`
// runs this first; it does nothing when bench/node_modules is newer than bench/package-lock.json (and package.json).
// Modules under bench/ resolve bench/node_modules first, then the repository's node_modules (tsx, pino, src/'s deps).
//
// Usage: node scripts/bench-install.mjs [--force]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = path.join(root, 'bench');
// npm writes node_modules/.package-lock.json (its record of the installed tree) at the end of every install.
const installed = path.join(benchDir, 'node_modules', '.package-lock.json');
const inputs = ['package.json', 'package-lock.json'].map((file) => path.join(benchDir, file));

const mtime = (file) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0);
const upToDate = fs.existsSync(installed) && inputs.every((input) => mtime(input) <= mtime(installed));

if (!upToDate || process.argv.includes('--force')) {
  console.error('bench: installing bench/package.json (PostGraphile, autocannon, vega) into bench/node_modules');
  // PostGraphile 5 declares Node >= 22: it runs on bench/.runtime's Node 22 (bench/compare/servers.ts), so npm's
  // EBADENGINE warnings on an older Node are expected; --loglevel=error keeps them (and deprecation notices) out.
  const result = spawnSync('npm', ['ci', '--prefix', benchDir, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) {
    console.error('bench: `npm ci --prefix bench` failed');
    process.exit(result.status ?? 1);
  }
  // npm ci may keep the old mtime of an unchanged hidden lockfile: mark this install as newer than its inputs.
  if (fs.existsSync(installed)) fs.utimesSync(installed, new Date(), new Date());
}
