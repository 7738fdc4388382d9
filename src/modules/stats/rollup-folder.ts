/**
 * The folder: moves the changes writers appended to stats_changes into the rollups, in batches, each one transaction
 * (the SQL function stats_fold_changes; one folder at a time across processes). Readers add what is not folded yet,
 * so folding changes how fast the statistics read, never what they answer. Every server process runs one.
 */
import type { Logger } from 'pino';
import { Prisma } from '../../generated/prisma/client.js';
import type { SqlRunner } from '../../db/sql.js';

/** Changes folded per transaction: bounded, so a backlog (a server that was down) never holds locks for long. */
const FOLD_BATCH = 20_000;

/** Folds one batch; returns how many changes it moved. */
export async function foldChanges(sql: SqlRunner, maxChanges = FOLD_BATCH): Promise<number> {
  const [row] = await sql.query<{ folded: number }>(Prisma.sql`SELECT stats_fold_changes(${maxChanges}::int) AS folded`, { prepare: false });
  return row?.folded ?? 0;
}

/** UTC days whose busy graphs one catch-up transaction keeps per quarter-hour (a day: one index range per graph). */
const CATCH_UP_DAYS = 7;

/**
 * Keeps the busy graph days counted before they were kept per quarter-hour (the back-fill's, an upgrade's) per
 * quarter-hour, a few days per transaction (stats_catch_up_quarters); returns the days gone through.
 */
export async function catchUpQuarters(sql: SqlRunner, maxDays = CATCH_UP_DAYS): Promise<number> {
  const [row] = await sql.query<{ days: number }>(Prisma.sql`SELECT stats_catch_up_quarters(${maxDays}::int) AS days`, { prepare: false });
  return row?.days ?? 0;
}

/** Runs `step` (a bounded batch) until a batch comes back short of `full`; returns the total it moved. */
async function untilShort(step: () => Promise<number>, full: number): Promise<number> {
  let total = 0;
  for (;;) {
    const moved = await step();
    total += moved;
    if (moved < full) return total;
  }
}

/** Catches up every day (the back-fill's end, tests). */
export const catchUpAllQuarters = (sql: SqlRunner) => untilShort(() => catchUpQuarters(sql), CATCH_UP_DAYS);

/** Folds until nothing is left (tests, the back-fill's end, `stats:verify`). */
export const foldAllChanges = (sql: SqlRunner) => untilShort(() => foldChanges(sql), FOLD_BATCH);

/** Folds every `intervalMs` (a backlog at once, batch after batch) until stopped; stop() waits for a fold under way. */
export function startFolding(sql: SqlRunner, log: Logger, intervalMs: number): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = (async () => {
      try {
        // A backlog goes batch after batch, yielding to requests in between (PGlite answers within microtasks).
        while (!stopped && (await foldChanges(sql)) === FOLD_BATCH) await new Promise((resolve) => setImmediate(resolve));
        // Then the days left to catch up, if any (a no-op once caught up: one read of the state row).
        while (!stopped && (await catchUpQuarters(sql)) === CATCH_UP_DAYS) await new Promise((resolve) => setImmediate(resolve));
      } catch (err) {
        if (!stopped) log.warn({ err }, 'statistics rollups: folding failed; retrying (answers stay exact meanwhile)');
      }
      if (!stopped) timer = setTimeout(tick, intervalMs);
    })();
  };
  timer = setTimeout(tick, intervalMs);
  timer.unref?.();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
