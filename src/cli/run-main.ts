import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * Runs a CLI's `main` when its module is the entry point (and not when a test imports it), turning its result
 * into the exit code and an unexpected error into a message and exit code 1.
 */
export function runIfEntryPoint(moduleUrl: string, main: (args: string[]) => Promise<number>): void {
  const script = process.argv[1];
  if (!script || moduleUrl !== pathToFileURL(fs.existsSync(script) ? fs.realpathSync(script) : script).href) return;
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
