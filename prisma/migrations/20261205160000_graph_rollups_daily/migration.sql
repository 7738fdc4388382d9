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

-- As a trigger rather than a CHECK constraint: Prisma's schema engine (the Wasm build, on the shadow database of
-- `migrate diff` and `migrate dev`) fails on a CHECK constraint. The WHEN clause is evaluated without calling the
-- function, so a valid write pays nothing measurable.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM "graph_executions" WHERE "cost" < 0) THEN
    RAISE EXCEPTION 'graph_executions holds runs with a negative cost: correct them before this migration (SELECT id, cost FROM graph_executions WHERE cost < 0).';
  END IF;
END
$$;

CREATE FUNCTION "graph_executions_refuse_negative_cost"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'A run''s cost cannot be negative (got % for run %).', NEW.cost, NEW.id USING ERRCODE = 'check_violation';
END
$$;

CREATE TRIGGER "graph_executions_cost_non_negative" BEFORE INSERT OR UPDATE OF "cost" ON "graph_executions"
FOR EACH ROW WHEN (NEW."cost" < 0) EXECUTE FUNCTION "graph_executions_refuse_negative_cost"();

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
