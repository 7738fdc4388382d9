import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadEnvFile, type DatabaseConfig } from '../config.js';

/**
 * Runs a CLI's `main` when its module is the entry point (and not when a test imports it), with `.env` loaded as
 * the server loads it, turning its result into the exit code and an unexpected error into a message and exit code 1.
 */
export function runIfEntryPoint(moduleUrl: string, main: (args: string[]) => Promise<number>): void {
  const script = process.argv[1];
  if (!script || moduleUrl !== pathToFileURL(fs.existsSync(script) ? fs.realpathSync(script) : script).href) return;
  const run = async () => {
    loadEnvFile();
    return main(process.argv.slice(2));
  };
  run().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}

/** A CLI's arguments as `parse` reads them, or null after printing why they are wrong and the usage (exit code 2). */
export function parsedArguments<Options>(parse: (argv: string[]) => Options, argv: string[], usage: string): Options | null {
  try {
    return parse(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return null;
  }
}

/**
 * A command's database settings: the server's, with the pools opening connections on demand. A command needs one or
 * two connections, not the fixed-size pools a server keeps (10 + 5 + 3 by default).
 */
export const commandDatabaseConfig = (database: DatabaseConfig, overrides: Partial<DatabaseConfig> = {}): DatabaseConfig => ({
  ...database,
  poolMin: 0,
  ...overrides,
});
