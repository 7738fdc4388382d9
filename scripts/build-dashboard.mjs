#!/usr/bin/env node
// Bundles the dashboard page (served at /dashboard by src/http/playground.ts) from the repository's node_modules
// (React, react-dom, uPlot, graphql-ws: devDependencies, or the server's own) with esbuild, into
// src/generated/dashboard-bundle/ (not committed: `npm run generate` runs this):
//
//   dashboard-[hash].js    the page (one file: it is small, and its first paint should not wait for chunks)
//   dashboard-[hash].css   uPlot's CSS and src/http/dashboard/page.css
//   manifest.json          which file is which, read by the server
//
// Nothing in the output may load from another host (scripts/page-bundles.mjs checks).
// The GraphiQL playground is built apart, from playground/package.json, and committed: scripts/build-playground.mjs.
//
// Usage: node scripts/build-dashboard.mjs [--force]
// Skips the build when manifest.json is newer than every input.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commonOptions, completeBuild, cssFor, elapsed, outputFor, replaceDirectory, root, sizeSummary } from './page-bundles.mjs';

const dashboardDir = path.join(root, 'src/http/dashboard');
const entry = path.join(dashboardDir, 'client.jsx');
const outdir = path.join(root, 'src/generated/dashboard-bundle');
const manifestPath = path.join(outdir, 'manifest.json');

/** Newest mtime (ms) of the files whose change requires a rebuild. */
function newestInputMtime() {
  const inputs = [fileURLToPath(import.meta.url), path.join(root, 'scripts/page-bundles.mjs')];
  inputs.push(...readdirSync(dashboardDir).map((file) => path.join(dashboardDir, file)));
  // Shared with the playground: the graphql-ws connection.
  inputs.push(path.join(root, 'src/http/playground/live-client.js'));
  inputs.push(path.join(root, 'src/generated/dashboard/graphql.ts'));
  // Dependency upgrades: npm rewrites the hidden lockfile and the packages' package.json.
  inputs.push(path.join(root, 'node_modules/.package-lock.json'));
  for (const pkg of ['react', 'react-dom', 'graphql', 'graphql-ws', 'uplot', 'esbuild']) inputs.push(path.join(root, 'node_modules', pkg, 'package.json'));
  let newest = 0;
  for (const file of inputs) {
    try {
      newest = Math.max(newest, statSync(file).mtimeMs);
    } catch {
      // a missing optional input does not force a rebuild
    }
  }
  return newest;
}

if (!process.argv.includes('--force') && existsSync(manifestPath) && statSync(manifestPath).mtimeMs >= newestInputMtime()) {
  console.log(`build-dashboard: up to date (${path.relative(root, outdir)}), checked in ${elapsed()}`);
  process.exit(0);
}

const builddir = `${outdir}.tmp-${process.pid}`;
rmSync(builddir, { recursive: true, force: true });
mkdirSync(builddir, { recursive: true });
process.on('exit', () => rmSync(builddir, { recursive: true, force: true }));

const { metafile } = await build({
  ...commonOptions,
  entryPoints: { dashboard: entry },
  outdir: builddir,
  entryNames: '[name]-[hash]',
  jsx: 'automatic',
});
const manifest = { script: outputFor(metafile, entry, '.js', builddir), style: cssFor(metafile, entry, builddir) };
completeBuild({ label: 'build-dashboard', builddir, manifest });
replaceDirectory(builddir, outdir);
console.log(`build-dashboard: built ${path.relative(root, outdir)} in ${elapsed()} — ${sizeSummary(outdir, { script: manifest.script, css: manifest.style })}`);
