import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { AppConfig } from '../config.js';
import { openDatabase, type Database } from '../db/database.js';
import { applyMigrations, assertMigrationsApplied } from '../db/migrations.js';
import { syncBuiltInCatalogue } from '../modules/blocks/block-sync.js';
import { backfillRollups } from '../modules/stats/rollup-backfill.js';
import { DEMO_SEED_OPTIONS, seedDatabase } from '../seed/index.js';
import { createServer, type AppServer } from './app.js';
import { listenWhileStarting, type StartingListener } from './starting.js';
import { tracingFor } from './telemetry/tracing.js';
import { createPersistedDocuments, DASHBOARD_MANIFEST, loadManifests } from './persisted-documents.js';
import { demoCredentialsFile, readDemoCredentials, writeDemoCredentials, type DemoCredentials } from './demo-credentials.js';

/** The embedded demo's key: `createdNow` on the boot that seeded it, `file` where it is kept (mode 0600). */
export type DemoKey = DemoCredentials & { createdNow: boolean; file: string };

export type RunningServer = { url: string; db: Database; server: AppServer; demo: DemoKey | null; shutdown(): Promise<void> };

/** Brings the database to the state the server needs, or fails with the command that fixes it. */
async function prepareDatabase(config: AppConfig, db: Database, log: Logger, starting: StartingListener): Promise<void> {
  starting.setPhase('migrations');
  if (config.migrateOnStart) {
    const started = Date.now();
    const { applied } = await applyMigrations(db);
    log.info({ applied, ms: Date.now() - started }, applied.length ? 'applied migrations' : 'database schema up to date');
    const blocks = await syncBuiltInCatalogue(db.prisma);
    if (blocks.created.length + blocks.updated.length + blocks.disabled.length > 0) log.info({ blocks }, 'synced the block catalogue');
    return;
  }
  await assertMigrationsApplied(db);
}

/** First boot of the embedded database: demo data and a demo key the playground opens with. */
async function demoCredentials(config: AppConfig, db: Database, log: Logger, starting: StartingListener): Promise<DemoKey | null> {
  if (db.kind !== 'pglite') return null;
  const file = demoCredentialsFile(db.dataDir);
  const stored = readDemoCredentials(db.dataDir);
  const existing = stored && { ...stored, createdNow: false, file };
  if (!config.seedDemoData) return existing;
  if ((await db.prisma.user.count()) > 0) return existing;
  starting.setPhase('demo data');
  const summary = await seedDatabase(db, DEMO_SEED_OPTIONS, (msg) => log.debug(msg));
  const demoUser = summary.apiKeys.find((k) => k.permissions.includes('ADMIN')) ?? summary.apiKeys[0];
  if (!demoUser) return null;
  const credentials = { email: demoUser.email, key: demoUser.key };
  writeDemoCredentials(db.dataDir, credentials);
  log.info({ counts: summary.counts, ms: summary.durationMs }, 'seeded demo data');
  return { ...credentials, createdNow: true, file };
}

/**
 * Counts the rows stored before the statistics rollups existed, in the background while the server serves (the
 * statistics read rows until it is done). Resolves when complete, aborted or failed (logged: the next boot resumes).
 */
function backfillInBackground(db: Database, log: Logger, signal: AbortSignal): Promise<void> {
  const started = Date.now();
  let logged = 0;
  return backfillRollups(db.backgroundSql, {
    batchSize: 2_000,
    pauseMs: 20,
    signal,
    onBatch: (p) => {
      if (Date.now() - logged < 10_000) return;
      logged = Date.now();
      log.info({ runs: p.runs, nodeExecutions: p.nodeExecutions }, 'statistics rollups: back-filling');
    },
  }).then(
    (p) => {
      if (p.runs + p.nodeExecutions > 0 || !p.complete) log.info({ ...p, ms: Date.now() - started }, p.complete ? 'statistics rollups: back-fill complete' : 'statistics rollups: back-fill paused');
      if (p.indexRebuilt === false) log.warn('statistics rollups: rebuilding graph_run_rollups_ranking_idx after the back-fill failed; rankings read it larger (REINDEX it at a quiet time)');
    },
    (err: unknown) => {
      if (!signal.aborted) log.error({ err }, 'statistics rollups: back-fill failed; statistics read rows until the next boot completes it');
    },
  );
}

/**
 * What a person starting the server reads on stdout. The demo key itself only on the boot that created it, and only
 * with the playground on; later boots say where it is kept.
 */
export function bootBanner(config: AppConfig, running: Pick<RunningServer, 'url' | 'demo'>): string {
  const { demo } = running;
  if (!demo) return '';
  const lines = ['', 'agentgraph demo on the embedded database'];
  if (config.playground) lines.push(`  playground: ${running.url}/graphiql${config.isProduction ? '' : ' (opens with the demo key on this machine)'}`);
  if (config.dashboard) lines.push(`  dashboard:  ${running.url}/dashboard`);
  if (demo.createdNow && config.playground) lines.push(`  API key (${demo.email}, admin): ${demo.key}`, `  (kept in ${demo.file})`);
  else lines.push(`  API key (${demo.email}, admin): in ${demo.file}`);
  return `${lines.join('\n')}\n\n`;
}

export async function boot(config: AppConfig, log: Logger): Promise<RunningServer> {
  const started = Date.now();
  let starting: StartingListener | null = null;
  const closeStarting = async () => {
    if (!starting?.httpServer.listening) return;
    starting.httpServer.closeAllConnections();
    await new Promise((resolve) => starting!.httpServer.close(resolve));
  };
  let db: Database;
  try {
    db = await openDatabase(config.database, {
      purpose: 'agentgraph server',
      // Probes are answered from here on (/ready 503 "starting"). The embedded database is locked first, so that
      // a second process on it is told where the first one answers rather than that the port is taken.
      beforeOpen: async (lock) => {
        starting = await listenWhileStarting(config.port, config.host);
        lock?.record({ url: starting.url, port: (starting.httpServer.address() as AddressInfo).port });
      },
    });
  } catch (err) {
    await closeStarting();
    throw err;
  }
  log.info({ database: db.kind, ms: Date.now() - started }, 'database opened');
  try {
    const listener = starting!;
    await prepareDatabase(config, db, log, listener);
    const demo = await demoCredentials(config, db, log, listener);
    listener.setPhase('server');
    const server = await createServer({
      httpServer: listener.httpServer,
      db,
      log,
      // Production never hands out a key, whoever asks.
      playgroundHeaders: demo && !config.isProduction ? { Authorization: `Bearer ${demo.key}` } : undefined,
      introspection: config.introspection,
      playground: config.playground,
      dashboard: config.dashboard,
      corsOrigins: config.corsOrigins,
      rateLimit: config.rateLimit,
      requestTimeoutMs: config.requestTimeoutMs,
      compileAfterUses: config.compileAfterUses,
      maxConcurrentRequests: config.maxConcurrentRequests,
      live: config.live,
      metrics: config.metrics ?? false,
      tracing: tracingFor(config.tracing),
      persistedDocuments:
        config.persistedDocuments.mode === 'off'
          ? undefined
          : createPersistedDocuments(config.persistedDocuments.mode, loadManifests([DASHBOARD_MANIFEST, ...config.persistedDocuments.manifests])),
    });
    const { url } = await server.listen(config.port, config.host);
    const metricsUrl = server.metricsUrl();
    log.info(
      { url, database: db.kind, bootMs: Date.now() - started, metrics: config.metrics ? `${metricsUrl ?? url}/metrics` : 'off', tracing: config.tracing?.exporter ?? 'off' },
      'agentgraph is listening',
    );
    const stopBackfill = new AbortController();
    const backfill = backfillInBackground(db, log, stopBackfill.signal);
    let stopping: Promise<void> | null = null;
    const shutdown = () =>
      (stopping ??= (async () => {
        server.beginDraining();
        if (config.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
        stopBackfill.abort();
        await server.stop();
        await backfill;
        await db.close();
      })());
    return { url, db, server, demo, shutdown };
  } catch (err) {
    await closeStarting();
    await db.close().catch(() => {});
    throw err;
  }
}
