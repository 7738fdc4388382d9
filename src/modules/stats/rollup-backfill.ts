/**
 * The back-fill of the statistics rollups: rows stored before the rollups existed (in_rollups false) are counted in
 * bounded batches in id order, while the server serves. Each batch is one statement that takes the rollups' writer
 * lock (the folder's: one writer of rollup rows at a time, across processes), locks the state row, locks the batch's rows (FOR UPDATE: a concurrent change waits, or has
 * committed and is seen), counts them, and moves the state's mark past them; the triggers count a row's later
 * changes once the mark has passed it, so every row is counted exactly once and none is rewritten. An interrupted
 * back-fill resumes at the mark; the statistics read rows until it is complete. Started by the server at boot, or
 * by `npm run stats:backfill`.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { SqlRunner } from '../../db/sql.js';
import { catchUpAllQuarters } from './rollup-folder.js';

export type BackfillProgress = {
  runs: number;
  nodeExecutions: number;
  complete: boolean;
  /** Set when a back-fill that counted runs completes: whether the ranking index was rebuilt after it. */
  indexRebuilt?: boolean;
};

export type BackfillOptions = {
  /** Rows scanned per statement. */
  batchSize?: number;
  /** Pause between batches, so that a busy server's requests keep the upper hand. */
  pauseMs?: number;
  /** Stops between batches when aborted (server shutdown). */
  signal?: AbortSignal;
  onBatch?(progress: BackfillProgress): void;
};

const NIL = '00000000-0000-0000-0000-000000000000';

type Table = { name: string; mark: string; deleted: string; apply: string; changeOf: string };
const RUNS: Table = { name: 'graph_executions', mark: 'runs_through', deleted: 'is_deleted', apply: 'stats_apply_run_changes', changeOf: 'stats_run_change_of' };
const NODES: Table = { name: 'node_executions', mark: 'node_executions_through', deleted: 'run_is_deleted', apply: 'stats_apply_node_changes', changeOf: 'stats_node_change_of' };

/** One batch of `table` after the mark: counts its uncounted rows and moves the mark; rows scanned and counted. */
async function backfillBatch(sql: SqlRunner, table: Table, batchSize: number): Promise<{ scanned: number; counted: number }> {
  const [t, mark, deleted, apply, changeOf] = [table.name, table.mark, table.deleted, table.apply, table.changeOf].map((name) => Prisma.raw(name));
  const [row] = await sql.query<{ scanned: number; counted: number }>(
    Prisma.sql`
      WITH folder AS (SELECT pg_advisory_xact_lock(hashtext('agentgraph.stats.rollups')) AS locked),
           state AS (SELECT coalesce(${mark}, ${NIL}::uuid) AS through FROM stats_rollup_state, folder WHERE id = 1 FOR UPDATE OF stats_rollup_state),
           batch AS (SELECT x AS r, x.id FROM ${t} x WHERE x.id > (SELECT through FROM state) ORDER BY x.id LIMIT ${batchSize} FOR UPDATE OF x),
           uncounted AS (SELECT r FROM batch WHERE NOT (r).in_rollups AND NOT (r).${deleted}),
           applied AS (SELECT ${apply}(ARRAY(SELECT ${changeOf}(1, r) FROM uncounted)) AS done),
           moved AS (UPDATE stats_rollup_state SET ${mark} = (SELECT id FROM batch ORDER BY id DESC LIMIT 1), updated_at = now()
                     WHERE id = 1 AND EXISTS (SELECT 1 FROM batch) AND EXISTS (SELECT 1 FROM applied) RETURNING 1)
      SELECT (SELECT count(*)::int FROM batch) AS scanned, (SELECT count(*)::int FROM uncounted) AS counted, (SELECT count(*)::int FROM moved) AS moved`,
    { prepare: false },
  );
  return { scanned: row?.scanned ?? 0, counted: row?.counted ?? 0 };
}

/** Marks the state complete when no uncounted row is left beyond the marks. */
async function finish(sql: SqlRunner): Promise<boolean> {
  const [row] = await sql.query<{ complete: boolean }>(
    Prisma.sql`
      UPDATE stats_rollup_state s
      SET complete = NOT EXISTS (SELECT 1 FROM graph_executions WHERE NOT in_rollups AND id > coalesce(s.runs_through, ${NIL}::uuid))
                 AND NOT EXISTS (SELECT 1 FROM node_executions WHERE NOT in_rollups AND id > coalesce(s.node_executions_through, ${NIL}::uuid)),
          updated_at = now()
      WHERE id = 1 RETURNING complete`,
    { prepare: false },
  );
  return row?.complete === true;
}

/** Back-fills until complete (or aborted); returns the rows it counted. */
export async function backfillRollups(sql: SqlRunner, options: BackfillOptions = {}): Promise<BackfillProgress> {
  const batchSize = options.batchSize ?? 5_000;
  const progress: BackfillProgress = { runs: 0, nodeExecutions: 0, complete: false };
  for (let pass = 0; pass < 3; pass++) {
    const [state] = await sql.query<{ complete: boolean }>(Prisma.sql`SELECT complete FROM stats_rollup_state WHERE id = 1`);
    if (!state || state.complete) return { ...progress, complete: true };
    for (const table of [RUNS, NODES]) {
      for (;;) {
        if (options.signal?.aborted) return progress;
        const { scanned, counted } = await backfillBatch(sql, table, batchSize);
        if (table === RUNS) progress.runs += counted;
        else progress.nodeExecutions += counted;
        options.onBatch?.(progress);
        if (scanned < batchSize) break;
        if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
      }
    }
    if (await finish(sql)) {
      // Only counted runs touch the graph rollups (node executions go to block_rollups).
      const indexRebuilt = progress.runs > 0 ? await rebuildRankingIndex(sql) : undefined;
      // The busy days counted in batches are kept per quarter-hour now (the folder would, a few days a second).
      await catchUpAllQuarters(sql);
      return { ...progress, complete: true, indexRebuilt };
    }
  }
  return progress;
}

/**
 * Rebuilds the ranking index once a back-fill has counted rows. Its batches update the same graph rollup rows again
 * and again faster than vacuum follows, and each update adds an entry to that index (it holds the figures, for
 * index-only scans): 10,000,000 runs left it at 370 MB for 506,000 rows, 37 MB rebuilt (1.8 s), and the ranking of
 * every user's 90 days took 175 ms instead of 58. Concurrently: writers and readers go on. A rebuild that fails
 * leaves the old index (correct, only larger) and its unfinished copy is dropped; false then.
 */
async function rebuildRankingIndex(sql: SqlRunner): Promise<boolean> {
  try {
    await sql.query(Prisma.sql`REINDEX INDEX CONCURRENTLY graph_run_rollups_ranking_idx`, { prepare: false });
    return true;
  } catch {
    await sql.query(Prisma.sql`DROP INDEX CONCURRENTLY IF EXISTS graph_run_rollups_ranking_idx_ccnew`, { prepare: false }).catch(() => undefined);
    return false;
  }
}

/**
 * Makes the statistics read rows until the next back-fill has counted rows loaded uncounted (in_rollups false, with
 * triggers off) — for bulk loads into a database whose marks are below the loaded ids (a fresh one: no mark yet).
 */
export async function markRollupsIncomplete(sql: SqlRunner): Promise<void> {
  // The busy days of the loaded rows are caught up after the back-fill, from the first day on.
  await sql.query(Prisma.sql`UPDATE stats_rollup_state SET complete = false, quarters_caught_up = false, quarters_through = NULL, updated_at = now() WHERE id = 1`, {
    prepare: false,
  });
}
