-- Graph rollups by day and week only, with their durations as a bins array in the same row.
--
-- Below a day, a graph's rollup rows were about one per run (1,000,000 runs: 940,000 quarter-hour rows of 5,000
-- graphs, and 980,000 more for their durations), so they saved nothing over the runs themselves and made the tables
-- too large to stay cached. The ranking of `topGraphs` now reads the whole days and weeks inside a range from the
-- rollups, bounds what its partial days can add from those days' own rows, and reads raw runs at the partial
-- edges only for the graphs that bound leaves in contention (src/modules/stats/rollup-store.ts, rankGraphs).
-- That bound needs every run's cost to be non-negative, as the API already requires: now the database refuses others too.

ALTER TABLE "graph_run_rollups" ADD COLUMN "bins" INTEGER[];

UPDATE "graph_run_rollups" r SET "bins" = d.bins
FROM (SELECT graph_id, span, bucket, stats_bins(bin, runs) AS bins FROM "graph_duration_rollups" WHERE span <> 15 GROUP BY 1, 2, 3) d
WHERE r.graph_id = d.graph_id AND r.span = d.span AND r.bucket = d.bucket;

DELETE FROM "graph_run_rollups" WHERE "span" = 15;

DROP TABLE "graph_duration_rollups";

-- The ranking reads one row per graph and week from this index alone (index-only): 1,000,000 runs, 90 days, 63,000
-- rows in 22 ms, where the table's own pages took 50 to 120 ms (and a sequential scan when the planner preferred it).
CREATE INDEX "graph_run_rollups_ranking_idx" ON "graph_run_rollups"("span", "bucket", "graph_id", "runs", "completed", "failed", "finished", "cost");

-- Checked by the statistics triggers that already see every inserted run and every change of a run's cost, rather
-- than by a CHECK constraint (Prisma's Wasm schema engine fails on one, on the shadow database of `migrate diff` and
-- `migrate dev`) or a trigger of its own (with a BEFORE ROW trigger on graph_executions, even one whose WHEN clause
-- is false, the write benchmark's ratio to PostGraphile measured 1.30-1.36 in three runs, 1.35-1.49 without it).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM "graph_executions" WHERE "cost" < 0) THEN
    RAISE EXCEPTION 'graph_executions holds runs with a negative cost: correct them before this migration (SELECT id, cost FROM graph_executions WHERE cost < 0).';
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION "graph_executions_count_inserted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM new_rows WHERE cost < 0) THEN
    RAISE EXCEPTION 'A run''s cost cannot be negative.' USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO "stats_changes" ("kind", "sign", "created_at", "graph_id", "status", "cost", "duration_ms")
  SELECT 1, 1, (c).created_at, (c).graph_id, (c).status, (c).cost, (c).duration_ms
  FROM (SELECT stats_run_change_of(1, n) AS c FROM new_rows n
        WHERE NOT n.is_deleted AND (n.in_rollups OR n.id <= (SELECT runs_through FROM stats_rollup_state WHERE id = 1))) x;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION "graph_executions_count_updated"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  through UUID;
  was RECORD;
  becomes RECORD;
BEGIN
  IF NEW.cost < 0 THEN
    RAISE EXCEPTION 'A run''s cost cannot be negative (got % for run %).', NEW.cost, NEW.id USING ERRCODE = 'check_violation';
  END IF;
  IF NOT (OLD.in_rollups AND NEW.in_rollups) THEN
    through := (SELECT runs_through FROM stats_rollup_state WHERE id = 1);
  END IF;
  was := stats_run_change_of(-1, OLD);
  becomes := stats_run_change_of(1, NEW);
  INSERT INTO "stats_changes" ("kind", "sign", "created_at", "graph_id", "status", "cost", "duration_ms")
  SELECT 1, c.sign, c.created_at, c.graph_id, c.status, c.cost, c.duration_ms
  FROM (VALUES (was.sign, was.created_at, was.graph_id, was.status, was.cost, was.duration_ms, NOT OLD.is_deleted AND (OLD.in_rollups OR OLD.id <= through)),
               (becomes.sign, becomes.created_at, becomes.graph_id, becomes.status, becomes.cost, becomes.duration_ms, NOT NEW.is_deleted AND (NEW.in_rollups OR NEW.id <= through)))
       c(sign, created_at, graph_id, status, cost, duration_ms, counted)
  WHERE c.counted;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION "stats_apply_run_changes"(changes "stats_run_change"[]) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(changes) = 0 THEN RETURN; END IF;

  INSERT INTO "run_rollups" AS r ("span", "bucket", "status", "runs", "cost", "duration_ms", "bins")
  SELECT d.span, d.bucket, d.status, d.runs, d.cost, d.duration_ms, d.bins
  FROM (
    SELECT s.span, stats_bucket(s.span, c.created_at) AS bucket, c.status,
           sum(c.sign)::int AS runs, sum(c.sign * c.cost)::bigint AS cost, coalesce(sum(c.sign * c.duration_ms), 0)::bigint AS duration_ms,
           stats_bins(stats_duration_bin(c.duration_ms), c.sign) AS bins
    FROM unnest(changes) c
    CROSS JOIN (VALUES (15::smallint), (1440::smallint), (10080::smallint)) s(span)
    GROUP BY 1, 2, 3
  ) d
  WHERE d.runs <> 0 OR d.cost <> 0 OR d.duration_ms <> 0 OR d.bins IS NOT NULL
  ON CONFLICT ("span", "bucket", "status") DO UPDATE
  SET "runs" = r."runs" + excluded."runs", "cost" = r."cost" + excluded."cost", "duration_ms" = r."duration_ms" + excluded."duration_ms",
      "bins" = stats_bins_add(r."bins", excluded."bins");

  INSERT INTO "graph_run_rollups" AS r ("span", "bucket", "graph_id", "runs", "completed", "failed", "finished", "cost", "bins")
  SELECT d.span, d.bucket, d.graph_id, d.runs, d.completed, d.failed, d.finished, d.cost, d.bins
  FROM (
    SELECT s.span, stats_bucket(s.span, c.created_at) AS bucket, c.graph_id,
           sum(c.sign)::int AS runs,
           coalesce(sum(c.sign) FILTER (WHERE c.status = 'COMPLETED'), 0)::int AS completed,
           coalesce(sum(c.sign) FILTER (WHERE c.status = 'FAILED'), 0)::int AS failed,
           coalesce(sum(c.sign) FILTER (WHERE c.status IN ('COMPLETED', 'FAILED', 'TERMINATED')), 0)::int AS finished,
           sum(c.sign * c.cost)::bigint AS cost,
           stats_bins(stats_duration_bin(c.duration_ms), c.sign) AS bins
    FROM unnest(changes) c
    CROSS JOIN (VALUES (1440::smallint), (10080::smallint)) s(span)
    GROUP BY 1, 2, 3
  ) d
  WHERE d.runs <> 0 OR d.completed <> 0 OR d.failed <> 0 OR d.finished <> 0 OR d.cost <> 0 OR d.bins IS NOT NULL
  ON CONFLICT ("span", "bucket", "graph_id") DO UPDATE
  SET "runs" = r."runs" + excluded."runs", "completed" = r."completed" + excluded."completed", "failed" = r."failed" + excluded."failed",
      "finished" = r."finished" + excluded."finished", "cost" = r."cost" + excluded."cost", "bins" = stats_bins_add(r."bins", excluded."bins");
END
$$;
