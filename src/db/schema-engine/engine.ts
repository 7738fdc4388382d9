/**
 * A thin wrapper around the WebAssembly schema engine: creates it over a migration-aware adapter factory, and turns
 * its errors into `SchemaEngineError`s that carry the real database error (the engine only says
 * "External error id#N" for JavaScript errors raised by the adapters).
 */
import { describeDriverError, type MigrationAdapterFactory } from './adapters.js';
import { loadSchemaEngine, takePanicMessage, type SchemaEngine } from './load-wasm.js';

export class SchemaEngineError extends Error {
  /** Prisma error code (P3018, P1001, …) when the engine gave one. */
  readonly code: string | undefined;
  /** The engine's own message. */
  readonly engineMessage: string;
  /** The underlying driver error, when there was one. */
  readonly driverError: unknown;
  readonly isPanic: boolean;
  constructor(options: { code?: string; engineMessage: string; driverError?: unknown; isPanic?: boolean; method: string }) {
    const driver = options.driverError === undefined ? '' : describeDriverError(options.driverError);
    const parts = [cleanEngineMessage(options.engineMessage)];
    if (driver && !options.engineMessage.includes(driver.split('\n')[0]!)) parts.push(`Database error: ${driver}`);
    super(`${options.code ? `${options.code}: ` : ''}${parts.join('\n')}`);
    this.name = 'SchemaEngineError';
    this.code = options.code;
    this.engineMessage = options.engineMessage;
    this.driverError = options.driverError;
    this.isPanic = options.isPanic ?? false;
  }
}

/**
 * Drops the span trace the engine appends to connector errors ("   0: sql_schema_connector::… at …rs:113"), keeping
 * the migration name it mentions.
 */
export function cleanEngineMessage(message: string): string {
  const lines = message.trim().split('\n');
  const traceStart = lines.findIndex((line) => /^\s+\d+: \S+::/.test(line));
  if (traceStart === -1) return message.trim();
  const migration = /migration_name="([^"]+)"/.exec(lines.slice(traceStart).join('\n'))?.[1];
  const head = lines.slice(0, traceStart).join('\n').trim();
  return migration ? `Migration \`${migration}\` failed to apply: ${head}` : head;
}

export type EngineMethod = Exclude<keyof SchemaEngine, 'free' | typeof Symbol.dispose | 'debugPanic'> | 'debugPanic';

type ErrorRegistry = { consumeError(id: number): { error: unknown } | undefined };

export interface EngineHandle {
  engine: SchemaEngine;
  /** Calls a method of the engine; errors become SchemaEngineError. */
  call<M extends EngineMethod>(method: M, params: Parameters<SchemaEngine[M]>[0]): Promise<Awaited<ReturnType<SchemaEngine[M]>>>;
  /** Frees the engine and what the adapter factory holds. */
  close(): Promise<void>;
}

export interface OpenEngineOptions {
  adapter: MigrationAdapterFactory;
  /** `[path, content]` of the Prisma schema files, when the operation needs them. */
  datamodels?: [string, string][];
  /** Receives the engine's JSON log lines. */
  onLog?: (line: string) => void;
}

/** Converts whatever the engine threw into a SchemaEngineError. */
export function toEngineError(error: unknown, adapter: MigrationAdapterFactory, method: string): SchemaEngineError {
  if (error instanceof SchemaEngineError) return error;
  const e = (error ?? {}) as { message?: unknown; code?: unknown; name?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(error);
  const panic = takePanicMessage();
  if (panic || (error instanceof Error && error.name === 'RuntimeError')) {
    return new SchemaEngineError({ engineMessage: panic ?? message, isPanic: true, method, driverError: adapter.tracker.take() });
  }
  let driverError: unknown = adapter.tracker.take();
  const external = /External error id#(\d+)/.exec(message);
  if (external) {
    const registry = (adapter.factory as unknown as { errorRegistry?: ErrorRegistry }).errorRegistry;
    const registered = registry?.consumeError(Number(external[1]));
    if (registered) driverError = registered.error;
  }
  return new SchemaEngineError({
    code: typeof e.code === 'string' ? e.code : undefined,
    engineMessage: message,
    driverError,
    method,
  });
}

export async function openSchemaEngine(options: OpenEngineOptions): Promise<EngineHandle> {
  const SchemaEngineClass = await loadSchemaEngine();
  const onLog = options.onLog ?? (() => {});
  let engine: SchemaEngine;
  try {
    engine = await SchemaEngineClass.new(
      { datamodels: options.datamodels && options.datamodels.length > 0 ? options.datamodels : undefined },
      (line: string) => onLog(line),
      options.adapter.factory,
    );
  } catch (error) {
    await options.adapter.close();
    throw toEngineError(error, options.adapter, 'new');
  }
  let closed = false;
  return {
    engine,
    async call(method, params) {
      options.adapter.tracker.take();
      try {
        // Call through the engine object: a detached method loses its `this` (the Wasm pointer).
        const fn = engine[method] as (p: unknown) => Promise<unknown>;
        return (await fn.call(engine, params)) as never;
      } catch (error) {
        throw toEngineError(error, options.adapter, method);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        engine.free();
      } finally {
        await options.adapter.close();
      }
    },
  };
}
