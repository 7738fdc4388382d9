/**
 * Loads Prisma's schema engine compiled to WebAssembly (`@prisma/schema-engine-wasm`).
 *
 * The package's entry point does `import * as wasm from "./schema_engine_bg.wasm"` (ESM-integration of Wasm), which
 * Node cannot import. So we instantiate the module ourselves with the package's JS glue as the import object, then
 * hand the instance back to the glue (`__wbg_set_wasm`) and run its start function.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { SchemaEngine as SchemaEngineClass } from '@prisma/schema-engine-wasm';

export type SchemaEngine = SchemaEngineClass;
export type SchemaEngineStatic = typeof SchemaEngineClass;

type WasmExports = Record<string, unknown>;
type WasmImports = Record<string, unknown>;
type Glue = typeof import('@prisma/schema-engine-wasm/schema_engine_bg') & {
  __wbg_set_wasm(wasm: WasmExports): void;
};

/** The bits of the WebAssembly global we use (the project's `lib` has no DOM/WebAssembly typings). */
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: Record<string, WasmImports>): Promise<{ instance: { exports: WasmExports } }>;
}
const WasmGlobal = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The message of the last Rust panic inside the engine (the glue reports it here before throwing). */
class WasmPanicRegistry {
  message = '';
  set_message(value: string) {
    this.message = `RuntimeError: ${value}`;
  }
  get() {
    return this.message;
  }
}

declare global {
  var PRISMA_WASM_PANIC_REGISTRY: WasmPanicRegistry | undefined;
}

let loading: Promise<SchemaEngineStatic> | undefined;

function packageDir(): string {
  const require = createRequire(import.meta.url);
  // The package has no "./package.json" export; resolve the glue file instead.
  return path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));
}

/** Returns the `SchemaEngine` class, loading and starting the WebAssembly module on first use. */
export function loadSchemaEngine(): Promise<SchemaEngineStatic> {
  loading ??= (async () => {
    globalThis.PRISMA_WASM_PANIC_REGISTRY ??= new WasmPanicRegistry();
    const dir = packageDir();
    const glue = (await import('@prisma/schema-engine-wasm/schema_engine_bg')) as Glue;
    const bytes = await fs.promises.readFile(path.join(dir, 'schema_engine_bg.wasm'));
    // The engine arms 10 s timers (timeouts around its async work) that it never clears: unref them, or every
    // process that used the engine would stay alive 10 s after its work is done.
    const imports: WasmImports = { ...(glue as unknown as WasmImports) };
    for (const name of Object.keys(imports).filter((key) => key.startsWith('__wbg_setTimeout_'))) {
      const original = imports[name] as (...args: unknown[]) => unknown;
      imports[name] = (...args: unknown[]) => {
        const timer = original(...args) as { unref?: () => void } | undefined;
        timer?.unref?.();
        return timer;
      };
    }
    const { instance } = await WasmGlobal.instantiate(bytes, { './schema_engine_bg.js': imports });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue.SchemaEngine;
  })();
  return loading;
}

/** The engine's version string (e.g. for `--version`). */
export async function schemaEngineVersion(): Promise<string> {
  await loadSchemaEngine();
  const glue = (await import('@prisma/schema-engine-wasm/schema_engine_bg')) as Glue;
  return glue.version();
}

/** The last panic message recorded by the engine, if any (then cleared). */
export function takePanicMessage(): string | undefined {
  const registry = globalThis.PRISMA_WASM_PANIC_REGISTRY;
  if (!registry?.message) return undefined;
  const message = registry.message;
  registry.message = '';
  return message;
}
