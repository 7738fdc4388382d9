#!/usr/bin/env node
// Produces everything generated from the sources: the typed resolvers (GraphQL Code Generator) and the dashboard's
// bundle, each skipped when its output is newer than its inputs, so `npm install` (the `prepare` script), `npm start`
// and `npm test` can call this every time. The Prisma client is committed (src/generated/prisma/README.md): it is
// regenerated only when what it was generated from changed (scripts/prisma-client.mjs), which installs the Prisma CLI.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { refreshPrismaClient } from './prisma-client.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force');

// `--prepare`: run by npm's `prepare` script after `npm install` / `npm ci`, so a fresh clone has its generated code
// (`npm run dev`, `npm run typecheck` and editors work at once). An install without the devDependencies
// (`npm ci --omit=dev` in a checkout) cannot generate: say so and leave the install alone. (A deployment copies no
// scripts/, and the `prepare` script does nothing there.)
if (process.argv.includes('--prepare')) {
  const missing = ['graphql-codegen', 'esbuild'].filter((name) => !fs.existsSync(path.join(root, 'node_modules', '.bin', name)));
  if (missing.length) {
    console.error(`generate: skipped (${missing.join(', ')} not installed: devDependencies omitted?); run \`npm run generate\` after a full install`);
    process.exit(0);
  }
}

function newestMtime(paths) {
  let newest = 0;
  for (const p of paths) {
    if (!fs.existsSync(p)) continue;
    const stat = fs.statSync(p);
    if (stat.isDirectory()) newest = Math.max(newest, newestMtime(fs.readdirSync(p).map((f) => path.join(p, f))));
    else newest = Math.max(newest, stat.mtimeMs);
  }
  return newest;
}

function upToDate(output, inputs) {
  return !force && fs.existsSync(output) && fs.statSync(output).mtimeMs >= newestMtime(inputs);
}

function run(label, command, args, env = {}) {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  if (result.status !== 0) {
    process.stderr.write(result.stdout);
    process.stderr.write(result.stderr);
    console.error(`generate: ${label} failed`);
    process.exit(result.status ?? 1);
  }
  console.error(`generate: ${label} (${Date.now() - started} ms)`);
}

const bin = (name) => path.join(root, 'node_modules', '.bin', name);

// `--force` leaves the committed client alone: `node scripts/prisma-client.mjs --force` regenerates it anyway.
const prismaStarted = Date.now();
const prismaInputsChanged = await refreshPrismaClient();
if (prismaInputsChanged.length > 0) console.error(`generate: prisma client, as ${prismaInputsChanged.join(', ')} changed (${Date.now() - prismaStarted} ms)`);

// The SDL files codegen.yml reads: schema.graphql and src/modules/*/schema.graphql.
const modulesDir = path.join(root, 'src/modules');
const schemaFiles = [
  path.join(root, 'schema.graphql'),
  ...fs.readdirSync(modulesDir).map((module) => path.join(modulesDir, module, 'schema.graphql')).filter((file) => fs.existsSync(file)),
];
// The dashboard's documents, compiled with the client preset (typed documents and the persisted-documents manifest).
const dashboardDir = path.join(root, 'src/http/dashboard');
const documentFiles = fs.existsSync(dashboardDir) ? fs.readdirSync(dashboardDir).filter((file) => file.endsWith('.graphql')).map((file) => path.join(dashboardDir, file)) : [];
const codegenOuts = [path.join(root, 'src/generated/graphql.ts'), path.join(root, 'src/generated/dashboard/persisted-documents.json')];
if (codegenOuts.some((out) => !upToDate(out, [...schemaFiles, ...documentFiles, path.join(root, 'codegen.yml')]))) {
  run('graphql codegen', bin('graphql-codegen'), ['--config', 'codegen.yml', '--silent']);
  for (const out of codegenOuts) if (fs.existsSync(out)) fs.utimesSync(out, new Date(), new Date());
}

run('dashboard bundle', process.execPath, [path.join(root, 'scripts/build-dashboard.mjs'), ...(force ? ['--force'] : [])]);

// The playground's bundle is committed, not generated (src/http/playground/bundle/README.md): only a note when its
// sources changed since it was built, which `npm run playground:build` mends.
const playgroundSources = spawnSync(process.execPath, [path.join(root, 'scripts/build-playground.mjs'), '--check', '--sources-only'], { cwd: root, encoding: 'utf8' });
if (playgroundSources.status !== 0) process.stderr.write(`generate: note: ${playgroundSources.stderr}`);
