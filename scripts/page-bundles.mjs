// What the two browser pages' builds share (scripts/build-playground.mjs: the GraphiQL playground, committed;
// scripts/build-dashboard.mjs: the dashboard, generated): esbuild's options, finding an entry's outputs in the
// metafile, the check that nothing loads from another host, and swapping a finished build into place or comparing it
// with the committed one (these two serve scripts/prisma-client.mjs as well).
import { copyFileSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const started = performance.now();
/** Time since the build script started (this module loads with it), for its log lines: `1234 ms`. */
export const elapsed = () => `${Math.round(performance.now() - started)} ms`;

/** @type {import('esbuild').BuildOptions} */
export const commonOptions = {
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
};

/** The output of `metafile` generated for the entry point `entrySource` (absolute), relative to `outdir`, `/`-separated. */
export function outputFor(metafile, entrySource, ext, outdir) {
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (output.entryPoint && path.resolve(root, output.entryPoint) === entrySource && file.endsWith(ext)) return relativeTo(outdir, file);
  }
  throw new Error(`no ${ext} output for ${entrySource}`);
}

/** The CSS bundle of the entry point `entrySource`, relative to `outdir`. */
export function cssFor(metafile, entrySource, outdir) {
  for (const output of Object.values(metafile.outputs)) {
    if (output.entryPoint && path.resolve(root, output.entryPoint) === entrySource && output.cssBundle) return relativeTo(outdir, output.cssBundle);
  }
  throw new Error(`no CSS bundle for ${entrySource}`);
}

const relativeTo = (dir, file) => path.relative(dir, path.resolve(root, file)).split(path.sep).join('/');

/** Every file below `dir`: its path relative to `dir` (`/`-separated) and its size, sorted by path. */
export function listFiles(dir) {
  const files = [];
  const walk = (current) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push({ file: relativeTo(dir, full), bytes: statSync(full).size });
    }
  };
  walk(dir);
  return files.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

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

/** Where the files below `dir` name a CDN in an import/URL position: one line each (file and the text around it). */
export function outsideHostReferences(dir) {
  const offenders = [];
  for (const { file } of listFiles(dir)) {
    if (!/\.(?:js|css|html|json)$/.test(file)) continue;
    const text = readFileSync(path.join(dir, file), 'utf8');
    for (const match of text.matchAll(urlPositions)) {
      offenders.push(`${file}: …${text.slice(Math.max(0, match.index - 40), match.index + match[0].length + 40)}…`);
    }
  }
  return offenders;
}

/**
 * Completes a build made in `builddir`: fails (naming them) if its files load anything from another host, else writes
 * its `manifest.json`, last, so that the manifest marks a complete, checked build.
 */
export function completeBuild({ label, builddir, manifest }) {
  const offenders = outsideHostReferences(builddir);
  if (offenders.length > 0) {
    // The previous bundle (if any) stays; this one is discarded.
    rmSync(builddir, { recursive: true, force: true });
    console.error(`${label}: the bundle references outside hosts (must be self-hosted):`);
    for (const offender of offenders) console.error(`  ${offender}`);
    process.exit(1);
  }
  writeFileSync(path.join(builddir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Puts the completed build in `builddir` in place of `outdir` at once, so that a failed build (or a server running
 * meanwhile) never sees a half-written bundle. `keep`: files of the old `outdir` that are not built (a README).
 */
export function replaceDirectory(builddir, outdir, { keep = [] } = {}) {
  for (const file of keep) {
    if (existsSync(path.join(outdir, file))) copyFileSync(path.join(outdir, file), path.join(builddir, file));
  }
  rmSync(outdir, { recursive: true, force: true });
  renameSync(builddir, outdir);
}

/**
 * How the committed directory `committedDir` differs from the fresh build in `builtDir`, one line a file (empty when
 * they are the same to the byte). `kept`: files of `committedDir` that are not built (a README).
 */
export function directoryDifferences(builtDir, committedDir, { kept = [] } = {}) {
  const built = new Set(listFiles(builtDir).map(({ file }) => file));
  const differences = [];
  for (const { file } of listFiles(committedDir).filter(({ file }) => !kept.includes(file))) {
    if (!built.has(file)) differences.push(`${file}: not built from the sources`);
    else if (!readFileSync(path.join(builtDir, file)).equals(readFileSync(path.join(committedDir, file)))) differences.push(`${file}: differs from the build`);
    built.delete(file);
  }
  for (const file of built) differences.push(`${file}: built, not committed`);
  return differences;
}

/** `entry 12 kB, css 3 kB; total 40 kB in 5 files` for the build's log line. */
export function sizeSummary(outdir, parts) {
  const files = listFiles(outdir);
  const kb = (bytes) => `${(bytes / 1024).toFixed(0)} kB`;
  const size = (file) => files.find((entry) => entry.file === file)?.bytes ?? 0;
  const total = files.reduce((sum, entry) => sum + entry.bytes, 0);
  return `${Object.entries(parts)
    .map(([label, file]) => `${label} ${kb(size(file))}`)
    .join(', ')}; total ${kb(total)} in ${files.length} files`;
}
