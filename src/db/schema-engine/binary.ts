import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../config.js';

/** bin/schema-engine.mjs: the Wasm schema engine behind the native engine's protocol. */
export const wasmSchemaEngineBinary = path.join(projectRoot, 'bin', 'schema-engine.mjs');

/** Whether `prisma` installed its native schema engine (node_modules/@prisma/engines/schema-engine-<platform>). */
export function hasNativeSchemaEngine(): boolean {
  try {
    return fs.readdirSync(path.join(projectRoot, 'node_modules', '@prisma', 'engines')).some((name) => /^schema-engine-(?!wasm)/.test(name));
  } catch {
    return false;
  }
}

/**
 * The environment for running the Prisma CLI: PRISMA_SCHEMA_ENGINE_BINARY points at our engine unless the user set
 * it or the native engine is installed (prisma.config.ts does the same when the CLI loads it).
 */
export function prismaCliEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env.PRISMA_SCHEMA_ENGINE_BINARY || env.PRISMA_MIGRATION_ENGINE_BINARY || hasNativeSchemaEngine()) return { ...env };
  return { ...env, PRISMA_SCHEMA_ENGINE_BINARY: wasmSchemaEngineBinary };
}

/** node_modules/.bin/prisma */
export const prismaBin = path.join(projectRoot, 'node_modules', '.bin', process.platform === 'win32' ? 'prisma.cmd' : 'prisma');
