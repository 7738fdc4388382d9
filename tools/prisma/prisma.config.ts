// The Prisma CLI's configuration. It lives beside the CLI's own package (tools/prisma/package.json), where
// `prisma/config` resolves; `npm run prisma -- <args>` (scripts/prisma.mjs) passes it as --config.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';
import { prismaCliEnv } from '../../scripts/prisma.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// Prisma's native schema engine is a download (impossible offline): when the CLI is started some other way than
// `npm run prisma`, point it at bin/schema-engine.mjs here too, unless the user set an engine or the native one exists.
const schemaEngine = prismaCliEnv(process.env).PRISMA_SCHEMA_ENGINE_BINARY;
if (schemaEngine) process.env.PRISMA_SCHEMA_ENGINE_BINARY = schemaEngine;

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
