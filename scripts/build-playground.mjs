#!/usr/bin/env node
// Bundles the self-hosted GraphiQL 5 playground (served at /graphiql by src/http/playground.ts)
// from node_modules only, with esbuild, into src/generated/playground/:
//
//   playground-[hash].js        the page's entry (React + GraphiQL + bootstrap), ESM, code-split
//   playground-[hash].css       graphiql/style.css (GraphiQL, plugins, Monaco, fonts inlined)
//   chunks/*-[hash].js          lazily imported chunks (monaco-editor, monaco-graphql, prettier)
//   workers/*-[hash].js         Monaco web workers (editor, json, graphql), self-contained ESM
//   manifest.json               which file is which, read by the server
//
// Nothing in the output may load from another host: the check at the end fails the build
// if a CDN URL shows up in an import/URL position.
//
// Usage: node scripts/build-playground.mjs [--force]
// Skips the build when manifest.json is newer than every input.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const started = performance.now();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const clientDir = path.join(root, 'src/http/playground');
// The dashboard (/dashboard) is bundled here too: the same React, the same checks, one manifest.
const dashboardDir = path.join(root, 'src/http/dashboard');
const outdir = path.join(root, 'src/generated/playground');
const manifestPath = path.join(outdir, 'manifest.json');
const force = process.argv.includes('--force');
const require = createRequire(path.join(root, 'package.json'));

const elapsed = () => `${Math.round(performance.now() - started)} ms`;

/** Newest mtime (ms) of the files whose change requires a rebuild. */
function newestInputMtime() {
  const inputs = [fileURLToPath(import.meta.url)];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else inputs.push(full);
    }
  };
  walk(clientDir);
  walk(dashboardDir);
  inputs.push(path.join(root, 'src/generated/dashboard/graphql.ts'));
  // Dependency upgrades: npm rewrites the hidden lockfile and the packages' package.json.
  inputs.push(path.join(root, 'node_modules/.package-lock.json'));
  for (const pkg of ['graphiql', '@graphiql/react', 'monaco-editor', 'monaco-graphql', 'react', 'react-dom', 'graphql', 'graphql-ws', 'uplot', 'esbuild']) {
    inputs.push(path.join(root, 'node_modules', pkg, 'package.json'));
  }
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

if (!force && existsSync(manifestPath)) {
  const manifestMtime = statSync(manifestPath).mtimeMs;
  if (manifestMtime >= newestInputMtime()) {
    console.log(`build-playground: up to date (${path.relative(root, outdir)}), checked in ${elapsed()}`);
    process.exit(0);
  }
}

// Monaco's ESM sources import their own .css files; graphiql/style.css already contains all of
// Monaco's CSS, and CSS imported from lazily loaded chunks would not be loaded by the page anyway.
const ignoreMonacoCss = {
  name: 'ignore-monaco-css',
  setup(b) {
    b.onResolve({ filter: /\.css$/ }, (args) =>
      /[\\/]node_modules[\\/]monaco-editor[\\/]/.test(args.importer) ? { path: args.path, namespace: 'ignored-css' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'ignored-css' }, () => ({ contents: '', loader: 'js' }));
  },
};

/** @type {import('esbuild').BuildOptions} */
const common = {
  absWorkingDir: root,
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome111', 'firefox115', 'safari16.4'],
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
  // Fonts/images referenced by CSS become files next to the CSS (today graphiql inlines its fonts).
  loader: { '.woff2': 'file', '.woff': 'file', '.ttf': 'file', '.svg': 'file', '.png': 'file' },
  assetNames: 'assets/[name]-[hash]',
  plugins: [ignoreMonacoCss],
};

// Build into a sibling directory and swap it in at the end, so that a failed build (or a server
// running meanwhile) never sees a half-written bundle.
const builddir = `${outdir}.tmp-${process.pid}`;
rmSync(builddir, { recursive: true, force: true });
mkdirSync(builddir, { recursive: true });
process.on('exit', () => rmSync(builddir, { recursive: true, force: true }));

const workerEntries = {
  editor: require.resolve('monaco-editor/esm/vs/editor/editor.worker.js'),
  json: require.resolve('monaco-editor/esm/vs/language/json/json.worker.js'),
  graphql: require.resolve('monaco-graphql/esm/graphql.worker.js'),
};

const [client, workers, dashboard] = await Promise.all([
  build({
    ...common,
    entryPoints: { playground: path.join(clientDir, 'client.jsx') },
    outdir: builddir,
    splitting: true,
    entryNames: '[name]-[hash]',
    chunkNames: 'chunks/[name]-[hash]',
    jsx: 'automatic',
  }),
  // Workers are self-contained (no splitting): each one is a module worker script.
  build({
    ...common,
    entryPoints: Object.fromEntries(Object.entries(workerEntries).map(([label, file]) => [`${label}.worker`, file])),
    outdir: path.join(builddir, 'workers'),
    entryNames: '[name]-[hash]',
  }),
  // One file: the page is small, and its first paint should not wait for chunks.
  build({
    ...common,
    entryPoints: { dashboard: path.join(dashboardDir, 'client.jsx') },
    outdir: path.join(builddir, 'dashboard'),
    entryNames: '[name]-[hash]',
    jsx: 'automatic',
  }),
]);

const rel = (file) => path.relative(builddir, path.resolve(root, file)).split(path.sep).join('/');

/** The output generated for an entry point (matching its source file). */
function outputFor(metafile, entrySource, ext) {
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (output.entryPoint && path.resolve(root, output.entryPoint) === entrySource && file.endsWith(ext)) return rel(file);
  }
  throw new Error(`build-playground: no ${ext} output for ${entrySource}`);
}
function cssFor(metafile, entrySource) {
  for (const output of Object.values(metafile.outputs)) {
    if (output.entryPoint && path.resolve(root, output.entryPoint) === entrySource && output.cssBundle) return rel(output.cssBundle);
  }
  throw new Error(`build-playground: no CSS bundle for ${entrySource}`);
}

const clientEntry = path.join(clientDir, 'client.jsx');
const manifest = {
  script: outputFor(client.metafile, clientEntry, '.js'),
  style: cssFor(client.metafile, clientEntry),
  workers: Object.fromEntries(Object.entries(workerEntries).map(([label, file]) => [label, outputFor(workers.metafile, file, '.js')])),
  dashboard: {
    script: outputFor(dashboard.metafile, path.join(dashboardDir, 'client.jsx'), '.js'),
    style: cssFor(dashboard.metafile, path.join(dashboardDir, 'client.jsx')),
  },
};

// --- No outside hosts in import/URL position --------------------------------------------------
const cdnHosts = [
  'esm.sh',
  'unpkg.com',
  'cdn.jsdelivr.net',
  'cdnjs.cloudflare.com',
  'fonts.googleapis.com',
  'fonts.gstatic.com',
  'cdn.skypack.dev',
  'ga.jspm.io',
  'jspm.dev',
  'esm.run',
];
const hostPattern = cdnHosts.map((h) => h.replace(/\./g, '\\.')).join('|');
// import "…", import("…"), from "…", new URL("…"), new Worker("…"), importScripts("…"), fetch("…"),
// url(…), @import …, src=/href=, and any string literal that starts with such a URL.
const urlPositions = new RegExp(
  String.raw`(?:\bimport\s*\(?\s*|\bfrom\s*|\bnew\s+(?:URL|Worker|SharedWorker)\s*\(\s*|\b(?:importScripts|fetch)\s*\(\s*|\burl\(\s*|@import\s+(?:url\(\s*)?|\b(?:src|href)\s*=\s*|(?=["'\x60]))["'\x60]?(?:https?:)?//(?:[a-z0-9-]+\.)*(?:${hostPattern})\b`,
  'gi',
);
const offenders = [];
let totalBytes = 0;
const sizes = [];
const walkOut = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      walkOut(full);
      continue;
    }
    const bytes = statSync(full).size;
    totalBytes += bytes;
    sizes.push([rel(full), bytes]);
    if (!/\.(?:js|css|html|json)$/.test(entry.name)) continue;
    const text = readFileSync(full, 'utf8');
    for (const match of text.matchAll(urlPositions)) {
      offenders.push(`${rel(full)}: …${text.slice(Math.max(0, match.index - 40), match.index + match[0].length + 40)}…`);
    }
  }
};
walkOut(builddir);
if (offenders.length > 0) {
  // The previous bundle (if any) stays; this one is discarded on exit.
  console.error('build-playground: the bundle references outside hosts (must be self-hosted):');
  for (const offender of offenders) console.error(`  ${offender}`);
  process.exit(1);
}

// Written last: its mtime marks a complete, checked build. Then swap the directories.
writeFileSync(path.join(builddir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
rmSync(outdir, { recursive: true, force: true });
renameSync(builddir, outdir);

const kb = (bytes) => `${(bytes / 1024).toFixed(0)} kB`;
const pick = (file) => sizes.find(([name]) => name === file)?.[1] ?? 0;
console.log(
  `build-playground: built ${path.relative(root, outdir)} in ${elapsed()} — ` +
    `entry ${kb(pick(manifest.script))}, css ${kb(pick(manifest.style))}, ` +
    `workers ${Object.entries(manifest.workers)
      .map(([label, file]) => `${label} ${kb(pick(file))}`)
      .join(', ')}; dashboard ${kb(pick(manifest.dashboard.script))} + css ${kb(pick(manifest.dashboard.style))}; total ${kb(totalBytes)} in ${sizes.length} files`,
);
