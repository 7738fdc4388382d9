#!/usr/bin/env node
// Stand-in for Prisma's native schema engine (set PRISMA_SCHEMA_ENGINE_BINARY to this file; prisma.config.ts does it
// when the native binary is missing): Prisma's WebAssembly schema engine over @prisma/adapter-pg, speaking the native
// engine's stdin/stdout JSON-RPC protocol. The implementation is TypeScript (src/db/schema-engine/server.ts), loaded
// through tsx.
import { tsImport } from 'tsx/esm/api';

const { main } = await tsImport('../src/db/schema-engine/server.ts', import.meta.url);
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(
    JSON.stringify({
      timestamp: new Date().toISOString(),
      level: 'ERROR',
      fields: { message: String(error?.stack ?? error) },
      target: 'schema_engine::logger',
    }) + '\n',
  );
  process.exitCode = 1;
}
