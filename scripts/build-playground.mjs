#!/usr/bin/env node
// Bundles the self-hosted GraphiQL 5 playground (served at /graphiql by src/http/playground.ts) with esbuild into
// src/http/playground/bundle/, which is committed (its README.md says why):
//
//   playground-[hash].js        the page's entry (React + GraphiQL + bootstrap), ESM, code-split
//   playground-[hash].css       graphiql/style.css (GraphiQL, plugins, Monaco, fonts inlined)
//   chunks/*-[hash].js          lazily imported chunks (monaco-editor, monaco-graphql, prettier)
//   workers/*-[hash].js         Monaco web workers (editor, json, graphql), self-contained ESM
//   manifest.json               which file is which, read by the server, and the digests of the sources it was built from
//
// The build stack (graphiql, Monaco, React, esbuild: ~200 MB) is not the project's: playground/package.json pins it,
// and it is installed into playground/node_modules (scripts/install-package.mjs) only when the bundle is built or
// checked. Every module comes from there or from src/http/playground/: a build that reads anything else fails, so the
// repository's node_modules cannot change the output. The same sources and lock build byte-identical files.
// Nothing in the output may load from another host (scripts/page-bundles.mjs checks).
//
// Usage:
//   node scripts/build-playground.mjs            npm run playground:build: install if needed, build, replace bundle/
//   node scripts/build-playground.mjs --check    npm run playground:check: fail, naming the files, if bundle/ is not
//                                                what the sources build (rebuilt into a temporary directory)
//   … --check --sources-only                     only compare the sources with the digests in bundle/manifest.json
//                                                (no install; `npm test` does this)
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { installPackage } from './install-package.mjs';
import { commonOptions, completeBuild, cssFor, directoryDifferences, elapsed, listFiles, outputFor, replaceDirectory, root, sizeSummary } from './page-bundles.mjs';

const packageDir = path.join(root, 'playground');
const packageModules = path.join(packageDir, 'node_modules');
const clientDir = path.join(root, 'src/http/playground');
const clientEntry = path.join(clientDir, 'client.jsx');
const bundleDir = path.join(clientDir, 'bundle');
/** Files of bundle/ that the build does not write. */
const KEPT = ['README.md'];
const check = process.argv.includes('--check');
const repoPath = (file) => path.relative(root, file).split(path.sep).join('/');

const sha256 = (file) => createHash('sha256').update(readFileSync(path.join(root, file))).digest('hex');

/** The inputs recorded in `manifest.builtFrom` that are missing or differ now. */
function changedSources() {
  const manifestPath = path.join(bundleDir, 'manifest.json');
  if (!existsSync(manifestPath)) return [`${repoPath(manifestPath)} (missing)`];
  const { builtFrom = {} } = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const changed = Object.entries(builtFrom).filter(([file, digest]) => !existsSync(path.join(root, file)) || sha256(file) !== digest);
  return changed.map(([file]) => file);
}

if (check) {
  const changed = changedSources();
  if (changed.length > 0) {
    console.error(`playground:check: src/http/playground/bundle/ was built from other sources; changed since: ${changed.join(', ')}`);
    console.error('Run `npm run playground:build` and commit src/http/playground/bundle/.');
    process.exit(1);
  }
  if (process.argv.includes('--sources-only')) {
    console.log(`playground:check: the bundle's recorded sources are unchanged (${elapsed()})`);
    process.exit(0);
  }
}

installPackage('playground');
const requireFromPackage = createRequire(path.join(packageDir, 'package.json'));
const { build } = await import(pathToFileURL(requireFromPackage.resolve('esbuild')).href);

// Bare imports of src/http/playground/ (graphiql, react, graphql, graphql-ws …) resolve in playground/node_modules,
// not in the repository's node_modules, which the client's directory would find first.
const redirected = Symbol('resolved from playground/');
const resolveFromPackage = {
  name: 'resolve-from-playground-package',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.pluginData === redirected || args.importer.startsWith(packageModules + path.sep)) return undefined;
      return b.resolve(args.path, { kind: args.kind, resolveDir: packageDir, importer: args.importer, pluginData: redirected });
    });
  },
};

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

const options = { ...commonOptions, plugins: [resolveFromPackage, ignoreMonacoCss] };

// Built beside bundle/ and swapped in at the end; for --check, in a temporary directory that is compared instead.
const builddir = check ? mkdtempSync(path.join(os.tmpdir(), 'agentgraph-playground-check-')) : `${bundleDir}.tmp-${process.pid}`;
rmSync(builddir, { recursive: true, force: true });
mkdirSync(builddir, { recursive: true });
process.on('exit', () => rmSync(builddir, { recursive: true, force: true }));

const workerEntries = {
  editor: requireFromPackage.resolve('monaco-editor/esm/vs/editor/editor.worker.js'),
  json: requireFromPackage.resolve('monaco-editor/esm/vs/language/json/json.worker.js'),
  graphql: requireFromPackage.resolve('monaco-graphql/esm/graphql.worker.js'),
};

const [client, workers] = await Promise.all([
  build({
    ...options,
    entryPoints: { playground: clientEntry },
    outdir: builddir,
    splitting: true,
    entryNames: '[name]-[hash]',
    chunkNames: 'chunks/[name]-[hash]',
    jsx: 'automatic',
  }),
  // Workers are self-contained (no splitting): each one is a module worker script.
  build({
    ...options,
    entryPoints: Object.fromEntries(Object.entries(workerEntries).map(([label, file]) => [`${label}.worker`, file])),
    outdir: path.join(builddir, 'workers'),
    entryNames: '[name]-[hash]',
  }),
]);

// What went in: the playground package's modules, and the client's own sources (digested into the manifest).
const inputs = [...new Set([...Object.keys(client.metafile.inputs), ...Object.keys(workers.metafile.inputs)])].filter((input) => !/^[\w-]+:/.test(input));
const outside = inputs.filter((input) => !input.startsWith('playground/node_modules/') && !input.startsWith('src/http/playground/'));
if (outside.length > 0) {
  console.error(`build-playground: read files from outside playground/node_modules and src/http/playground/:\n  ${outside.join('\n  ')}`);
  process.exit(1);
}
const sources = [...inputs.filter((input) => input.startsWith('src/http/playground/')), 'playground/package.json', 'playground/package-lock.json'].sort();

const manifest = {
  script: outputFor(client.metafile, clientEntry, '.js', builddir),
  style: cssFor(client.metafile, clientEntry, builddir),
  workers: Object.fromEntries(Object.entries(workerEntries).map(([label, file]) => [label, outputFor(workers.metafile, file, '.js', builddir)])),
  builtFrom: Object.fromEntries(sources.map((file) => [file, sha256(file)])),
};
completeBuild({ label: 'build-playground', builddir, manifest });

if (check) {
  const differences = directoryDifferences(builddir, bundleDir, { kept: KEPT });
  const committed = listFiles(bundleDir).filter(({ file }) => !KEPT.includes(file));
  if (differences.length > 0) {
    console.error(`playground:check: src/http/playground/bundle/ is not what the sources build:\n  ${differences.join('\n  ')}`);
    console.error('Run `npm run playground:build` and commit src/http/playground/bundle/.');
    process.exit(1);
  }
  console.log(`playground:check: src/http/playground/bundle/ is what the sources build (${committed.length} files, ${elapsed()})`);
} else {
  replaceDirectory(builddir, bundleDir, { keep: KEPT });
  const parts = { entry: manifest.script, css: manifest.style, ...Object.fromEntries(Object.entries(manifest.workers).map(([label, file]) => [`${label} worker`, file])) };
  console.log(`build-playground: built ${repoPath(bundleDir)} in ${elapsed()} — ${sizeSummary(bundleDir, parts)}`);
}
