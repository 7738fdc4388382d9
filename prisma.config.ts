import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * Prisma's CLI downloads its native schema engine on install; on machines where that download failed (no access to
 * binaries.prisma.sh) use bin/schema-engine.mjs instead: Prisma's WebAssembly schema engine behind the same protocol.
 * A value set by the user wins.
 */
function hasNativeSchemaEngine(): boolean {
  const dir = path.join(root, 'node_modules', '@prisma', 'engines');
  try {
    return fs.readdirSync(dir).some((name) => /^schema-engine-(?!wasm)/.test(name));
  } catch {
    return false;
  }
}

if (!process.env.PRISMA_SCHEMA_ENGINE_BINARY && !process.env.PRISMA_MIGRATION_ENGINE_BINARY && !hasNativeSchemaEngine()) {
  process.env.PRISMA_SCHEMA_ENGINE_BINARY = path.join(root, 'bin', 'schema-engine.mjs');
}

const url = process.env.DATABASE_URL?.trim() || undefined;
const shadowDatabaseUrl = process.env.SHADOW_DATABASE_URL?.trim() || undefined;

export default defineConfig({
  schema: path.join(root, 'prisma', 'schema.prisma'),
  migrations: {
    path: path.join(root, 'prisma', 'migrations'),
  },
  // No url (no DATABASE_URL) is fine for `prisma generate`; migration commands then report the missing url.
  datasource: {
    ...(url ? { url } : {}),
    ...(shadowDatabaseUrl ? { shadowDatabaseUrl } : {}),
  },
});
