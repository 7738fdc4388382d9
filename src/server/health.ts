import { Router } from 'express';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { migrationStatus } from '../db/migrations.js';

/** How long a probe waits for the database before it answers 503 (probes come every few seconds; none may pile up). */
const PROBE_TIMEOUT_MS = 2_000;

const withinProbeTime = <T>(work: Promise<T>): Promise<T> =>
  Promise.race([work, new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS).unref())]);

/**
 * Probes for orchestrators:
 * - `/live`: the process answers (restart it when it does not); never touches the database.
 * - `/ready`: send it traffic: the database answers, every migration is applied, and the server is not draining
 *   (503 from the moment shutdown starts, while in-flight requests finish).
 * - `/health`: the database ping alone, as before (kept for existing monitors).
 */
export function createHealthRouter(options: { db: Database; log: Logger; draining: () => boolean }): Router {
  const { db, log } = options;
  // Applied migrations stay applied: once seen complete, later probes only ping.
  let migrationsApplied = false;
  const router = Router();
  router.get('/live', (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    if (options.draining()) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    try {
      await withinProbeTime(db.ping());
    } catch (err) {
      log.warn({ err }, 'readiness: database unreachable');
      res.status(503).json({ status: 'unavailable', database: { kind: db.kind, reachable: false } });
      return;
    }
    if (!migrationsApplied) {
      try {
        const status = await withinProbeTime(migrationStatus(db));
        if (status.pending.length || status.failed.length) {
          res.status(503).json({ status: 'migrations pending', database: { kind: db.kind, reachable: true, pending: status.pending, failed: status.failed } });
          return;
        }
        migrationsApplied = true;
      } catch (err) {
        log.warn({ err }, 'readiness: migration status unreadable');
        res.status(503).json({ status: 'unavailable', database: { kind: db.kind, reachable: true } });
        return;
      }
    }
    res.json({ status: 'ready', database: { kind: db.kind, reachable: true, migrations: 'applied' } });
  });
  router.get('/health', async (_req, res) => {
    try {
      await withinProbeTime(db.ping());
      res.json({ status: 'ok', database: { kind: db.kind, reachable: true } });
    } catch (err) {
      log.warn({ err }, 'health check: database unreachable');
      res.status(503).json({ status: 'unavailable', database: { kind: db.kind, reachable: false } });
    }
  });
  return router;
}
