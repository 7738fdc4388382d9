import { loadConfig } from './config.js';
import { boot } from './server/boot.js';
import { createLogger } from './server/logger.js';

const config = loadConfig();
const log = createLogger(config.logLevel);

try {
  const running = await boot(config, log);
  if (running.demo) {
    // Printed plainly (not as a log line) so a person starting the demo sees where to go.
    process.stdout.write(
      `\nagentgraph demo on the embedded database\n  playground: ${running.url}/graphiql\n  API key (${running.demo.email}, admin): ${running.demo.key}\n\n`,
    );
  }
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
