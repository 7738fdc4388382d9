import { ConfigError, loadConfig, loadEnvFile, type AppConfig } from './config.js';

/** Why the server did not start, for the person who started it: one plain line per problem, on stderr. */
function refuse(lines: string): never {
  for (const line of lines.split('\n')) process.stderr.write(`agentgraph: ${line}\n`);
  process.exit(1);
}

let config: AppConfig;
let envFile: ReturnType<typeof loadEnvFile>;
try {
  envFile = loadEnvFile();
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) refuse(err.message);
  throw err;
}

// Loaded once the configuration is known to be good, so that a mistake in it is reported at once.
const [{ boot, bootBanner }, { createLogger }, { DatabaseOpenError }] = await Promise.all([
  import('./server/boot.js'),
  import('./server/logger.js'),
  import('./db/open-errors.js'),
]);
const log = createLogger(config.logLevel);
if (envFile) log.info({ file: envFile.file, variables: envFile.applied }, 'read .env (variables already set were kept)');

try {
  const running = await boot(config, log);
  // Printed plainly (not as a log line) so a person starting the demo sees where to go.
  process.stdout.write(bootBanner(config, running));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down: draining requests');
      running.shutdown().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
} catch (err) {
  if (err instanceof DatabaseOpenError) {
    // A configuration the database refused: the message says it all, a stack would only hide it.
    log.fatal({ variable: err.variable }, err.message);
    refuse(err.message);
  }
  log.fatal({ err }, err instanceof Error ? err.message : 'startup failed');
  process.exit(1);
}
