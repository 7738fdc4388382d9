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

/** Folds until nothing is left (tests, the back-fill's end, `stats:verify`). */
export async function foldAllChanges(sql: SqlRunner): Promise<number> {
  let total = 0;
  for (;;) {
    const folded = await foldChanges(sql);
    total += folded;
    if (folded < FOLD_BATCH) return total;
  }
}

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
