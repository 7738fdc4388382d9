#!/usr/bin/env node
// `npm run build`: compiles src/ into dist/ (tsconfig.build.json) and copies beside the code every file the server
// reads at run time, at its repository path with `src/` dropped (src/config.ts `runtimeAsset` looks for them there).
// dist/ then runs with `node dist/main.js` from any directory, given package.json and node_modules beside it.
// Usage: node scripts/build.mjs [--out-dir <dir>] (default dist; tests build elsewhere).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outFlag = process.argv.indexOf('--out-dir');
const outDir = path.resolve(outFlag === -1 ? path.join(root, 'dist') : process.argv[outFlag + 1] ?? '');

/** Read by the server at run time (schema-files.ts, migrations.ts, block-sync.ts, persisted-documents.ts, playground.ts). */
const RUNTIME_ASSETS = [
  'schema.graphql',
  ...fs
    .readdirSync(path.join(root, 'src/modules'))
    .map((module) => `src/modules/${module}/schema.graphql`)
    .filter((file) => fs.existsSync(path.join(root, file))),
  'src/modules/blocks/catalogue.json',
  'prisma/migrations',
  'src/http/playground/bundle',
  'src/generated/dashboard-bundle',
  'src/generated/dashboard/persisted-documents.json',
];

const started = Date.now();
fs.rmSync(outDir, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', outDir], {
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

for (const asset of RUNTIME_ASSETS) {
  const from = path.join(root, asset);
  if (!fs.existsSync(from)) {
    console.error(`build: ${asset} is missing (run npm run generate first)`);
    process.exit(1);
  }
  fs.cpSync(from, path.join(outDir, asset.replace(/^src\//, '')), { recursive: true });
}
// ES modules even where dist/ is copied without the package.json beside it.
fs.writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify({ type: 'module' })}\n`);
console.error(`build: ${path.relative(process.cwd(), outDir) || '.'} in ${Date.now() - started} ms; run it with node ${path.join(path.relative(process.cwd(), outDir), 'main.js')}`);
