import { loadConfig } from './config.js';
import { boot, bootBanner } from './server/boot.js';
import { createLogger } from './server/logger.js';

const config = loadConfig();
const log = createLogger(config.logLevel);

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
  log.fatal({ err }, err instanceof Error ? err.message : 'startup failed');
  process.exit(1);
}
