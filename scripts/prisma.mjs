#!/usr/bin/env node
// `npm run prisma -- <args>`: the Prisma CLI (migrate dev/diff/resolve, db push, studio, generate, …). It is not one of
// the project's dependencies (its stack is ~220 MB that the server never loads): tools/prisma/package.json pins it,
// and it is installed into tools/prisma/node_modules (scripts/install-package.mjs) the first time it is run.
//
// It runs in the current directory with tools/prisma/prisma.config.ts (unless the arguments name a --config), and with
// PRISMA_SCHEMA_ENGINE_BINARY pointing at bin/schema-engine.mjs (Prisma's Wasm schema engine behind the native
// engine's protocol) unless that is set or the native engine was downloaded: see README, Migrations without a network.
//
// The server and `npm run db:*` need none of it: they migrate in-process (src/db/migrations.ts), and the generated
// client is committed (src/generated/prisma/README.md).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { installPackage } from './install-package.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const prismaPackage = 'tools/prisma';
export const prismaConfig = path.join(root, prismaPackage, 'prisma.config.ts');
const prismaModules = path.join(root, prismaPackage, 'node_modules');
export const prismaBin = path.join(prismaModules, '.bin', process.platform === 'win32' ? 'prisma.cmd' : 'prisma');
/** bin/schema-engine.mjs: the Wasm schema engine behind the native engine's protocol. */
export const wasmSchemaEngineBinary = path.join(root, 'bin', 'schema-engine.mjs');

/** Whether the CLI's install downloaded its native schema engine (@prisma/engines/schema-engine-<platform>). */
function hasNativeSchemaEngine() {
  try {
    return fs.readdirSync(path.join(prismaModules, '@prisma', 'engines')).some((name) => /^schema-engine-(?!wasm)/.test(name));
  } catch {
    return false;
  }
}

/**
 * The environment for the Prisma CLI: PRISMA_SCHEMA_ENGINE_BINARY points at our engine unless the user set it (or
 * the older PRISMA_MIGRATION_ENGINE_BINARY) or the native engine is installed.
 */
export function prismaCliEnv(env = process.env) {
  if (env.PRISMA_SCHEMA_ENGINE_BINARY || env.PRISMA_MIGRATION_ENGINE_BINARY || hasNativeSchemaEngine()) return { ...env };
  return { ...env, PRISMA_SCHEMA_ENGINE_BINARY: wasmSchemaEngineBinary };
}

/** The arguments with `--config tools/prisma/prisma.config.ts` added, unless they name a config. */
export function withConfig(args) {
  return args.some((arg) => arg === '--config' || arg.startsWith('--config=')) ? args : [...args, '--config', prismaConfig];
}

/**
 * Starts `prisma <args>` (tools/prisma installed first if needed) in `cwd` with `prismaCliEnv(env)`; `stdio` as for
 * child_process.spawn. Returns the child process.
 */
export function spawnPrisma(args, { cwd = process.cwd(), env = process.env, stdio = 'inherit' } = {}) {
  installPackage(prismaPackage);
  return spawn(prismaBin, withConfig(args), { cwd, env: prismaCliEnv(env), stdio, shell: process.platform === 'win32' });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const child = spawnPrisma(process.argv.slice(2));
  // Ctrl-C reaches the CLI through the terminal's process group (this process waits for it to end); a SIGTERM sent
  // to this process is passed on.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('error', (error) => {
    console.error(`prisma: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
