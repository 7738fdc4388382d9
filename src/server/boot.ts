import type { Logger } from 'pino';
import type { AppConfig } from '../config.js';
import { openDatabase, type Database } from '../db/database.js';
import { applyMigrations, assertMigrationsApplied } from '../db/migrations.js';
import { DEMO_SEED_OPTIONS, seedDatabase } from '../seed/index.js';
import { createServer, type AppServer } from './app.js';
import { readDemoCredentials, writeDemoCredentials, type DemoCredentials } from './demo-credentials.js';

export type RunningServer = { url: string; db: Database; server: AppServer; demo: DemoCredentials | null; shutdown(): Promise<void> };

/** Brings the database to the state the server needs, or fails with the command that fixes it. */
async function prepareDatabase(config: AppConfig, db: Database, log: Logger): Promise<void> {
  if (config.migrateOnStart) {
    const started = Date.now();
    const { applied } = await applyMigrations(db);
    log.info({ applied, ms: Date.now() - started }, applied.length ? 'applied migrations' : 'database schema up to date');
    return;
  }
  await assertMigrationsApplied(db);
}

/** First boot of the embedded database: demo data and a demo key the playground opens with. */
async function demoCredentials(config: AppConfig, db: Database, log: Logger): Promise<DemoCredentials | null> {
  if (db.kind !== 'pglite') return null;
  const existing = readDemoCredentials(db.dataDir);
  if (!config.seedDemoData) return existing;
  if ((await db.prisma.user.count()) > 0) return existing;
  const summary = await seedDatabase(db, DEMO_SEED_OPTIONS, (msg) => log.debug(msg));
  const demoUser = summary.apiKeys.find((k) => k.permissions.includes('ADMIN')) ?? summary.apiKeys[0];
  if (!demoUser) return null;
  const credentials = { email: demoUser.email, key: demoUser.key };
  writeDemoCredentials(db.dataDir, credentials);
  log.info({ counts: summary.counts, ms: summary.durationMs }, 'seeded demo data');
  return credentials;
}

export async function boot(config: AppConfig, log: Logger): Promise<RunningServer> {
  const started = Date.now();
  const db = await openDatabase(config.database);
  log.info({ database: db.kind, ms: Date.now() - started }, 'database opened');
  try {
    await prepareDatabase(config, db, log);
    const demo = await demoCredentials(config, db, log);
    const server = await createServer({
      db,
      log,
      playgroundHeaders: demo ? { Authorization: `Bearer ${demo.key}` } : undefined,
      introspection: config.introspection,
      playground: config.playground,
      corsOrigins: config.corsOrigins,
      rateLimit: config.rateLimit,
      compileAfterUses: config.compileAfterUses,
    });
    const { url } = await server.listen(config.port, config.host);
    log.info({ url, database: db.kind, bootMs: Date.now() - started }, 'agentgraph is listening');
    let stopping: Promise<void> | null = null;
    const shutdown = () =>
      (stopping ??= (async () => {
        await server.stop();
        await db.close();
      })());
    return { url, db, server, demo, shutdown };
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}
