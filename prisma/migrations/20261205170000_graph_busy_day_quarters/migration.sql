-- A graph's rollups per quarter-hour, on its busy UTC days only.
--
-- A graph's statistics over a long range in hourly buckets of any time zone (Asia/Kathmandu's hours start at :15 UTC)
-- need quarter-hour figures. Kept for every graph they were about one row per run (10,000,000 runs: 7,600,000
-- (graph, quarter-hour, status) rows), so they are kept only for the days on which a graph has at least
-- stats_busy_day_runs() runs: there a day's 96 quarter-hours hold many runs each (the benchmark's busiest graph:
-- 167,000 runs in 19,500 rows). The other days have fewer runs than that and are read from the runs themselves.
-- A day row of graph_run_rollups says whether its quarter-hour rows are kept (`quarters`); once kept, always kept.

CREATE TABLE "graph_quarter_rollups" (
    "graph_id" UUID NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "status" "ExecutionStatus" NOT NULL,
    "runs" INTEGER NOT NULL,
    "cost" BIGINT NOT NULL,
    "duration_ms" BIGINT NOT NULL,
    "durations" TEXT,

    CONSTRAINT "graph_quarter_rollups_pkey" PRIMARY KEY ("graph_id", "bucket", "status")
);

-- A quarter-hour holds a few runs, whose duration bins lie far apart: its durations are `bin,runs,bin,runs,…` in bin
-- order, as text, rather than a dense array of mostly empty bins (130 elements a row on the benchmark's data: reading
-- one graph's year spent most of its time writing 2.5 million of them out) or an array (written out element by
-- element too). Readers copy the text as it is.
CREATE FUNCTION "stats_bin_pairs_add"(a TEXT, d TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT string_agg(bin || ',' || runs, ',' ORDER BY bin) FROM (
    SELECT v[2 * i - 1] AS bin, sum(v[2 * i]) AS runs
    FROM (SELECT string_to_array(a, ',')::int[] UNION ALL SELECT string_to_array(d, ',')::int[]) x(v)
    CROSS JOIN LATERAL generate_series(1, coalesce(cardinality(x.v), 0) / 2) i
    GROUP BY 1 HAVING sum(v[2 * i]) <> 0
  ) y
$$;

ALTER TABLE "graph_run_rollups" ADD COLUMN "quarters" BOOLEAN NOT NULL DEFAULT false;

-- A graph's day rows (whether its days are kept per quarter-hour), without the other graphs' of the same days.
CREATE INDEX "graph_run_rollups_graph_idx" ON "graph_run_rollups"("graph_id", "span", "bucket");

-- Days are kept per quarter-hour as they become busy (when a fold counts them there) and, for the days counted before,
-- by a catch-up over the day rows in time order once the back-fill is complete (stats_catch_up_quarters).
ALTER TABLE "stats_rollup_state" ADD COLUMN "quarters_caught_up" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "stats_rollup_state" ADD COLUMN "quarters_through" TIMESTAMPTZ(3);

CREATE FUNCTION "stats_busy_day_runs"() RETURNS INTEGER LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 96 $$;

-- Writes the quarter-hour rows of whole graph days: the counted runs of each day minus the changes not folded yet
-- (the folds that follow add those), read in one statement (one snapshot), under the folder's lock.
CREATE FUNCTION "stats_keep_quarters"(graph_ids UUID[], days TIMESTAMPTZ[]) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
  through UUID := (SELECT runs_through FROM stats_rollup_state WHERE id = 1);
BEGIN
  IF cardinality(graph_ids) = 0 THEN RETURN; END IF;
  DELETE FROM "graph_quarter_rollups" q USING unnest(graph_ids, days) d(graph_id, day)
  WHERE q.graph_id = d.graph_id AND q.bucket >= d.day AND q.bucket < d.day + interval '1 day';

  INSERT INTO "graph_quarter_rollups" ("graph_id", "bucket", "status", "runs", "cost", "duration_ms", "durations")
  SELECT graph_id, bucket, status, sum(runs)::int, sum(cost)::bigint, sum(duration_ms)::bigint,
         string_agg(bin || ',' || runs, ',' ORDER BY bin) FILTER (WHERE bin IS NOT NULL AND runs <> 0)
  FROM (
    SELECT x.graph_id, stats_bucket(15::smallint, x.created_at) AS bucket, x.status, stats_duration_bin(x.duration_ms)::int AS bin,
           sum(x.sign)::int AS runs, sum(x.sign * x.cost) AS cost, coalesce(sum(x.sign * x.duration_ms), 0) AS duration_ms
    FROM (
      SELECT (e.c).graph_id, (e.c).created_at, (e.c).status, 1 AS sign, (e.c).cost, (e.c).duration_ms
      FROM unnest(graph_ids, days) d(graph_id, day)
      CROSS JOIN LATERAL (SELECT stats_run_change_of(1, r) AS c FROM "graph_executions" r
                          WHERE r.graph_id = d.graph_id AND NOT r.is_deleted AND r.created_at >= d.day AND r.created_at < d.day + interval '1 day'
                            AND (r.in_rollups OR r.id <= through)) e
      UNION ALL
      SELECT p.graph_id, p.created_at, p.status, -p.sign, p.cost, p.duration_ms
      FROM "stats_changes" p JOIN unnest(graph_ids, days) d(graph_id, day)
        ON p.graph_id = d.graph_id AND p.created_at >= d.day AND p.created_at < d.day + interval '1 day'
      WHERE p.kind = 1
    ) x
    GROUP BY 1, 2, 3, 4
  ) b
  GROUP BY 1, 2, 3
  HAVING sum(runs) <> 0 OR sum(cost) <> 0 OR sum(duration_ms) <> 0 OR bool_or(bin IS NOT NULL AND runs <> 0);

  UPDATE "graph_run_rollups" g SET "quarters" = true FROM unnest(graph_ids, days) d(graph_id, day)
  WHERE g.span = 1440 AND g.bucket = d.day AND g.graph_id = d.graph_id;
END
$$;

-- The runs' changes applied to the rollups of every span so far (run_rollups, graph_run_rollups), kept under a name of
-- its own; stats_apply_run_changes applies them there, then to the kept quarter-hours.
ALTER FUNCTION "stats_apply_run_changes"("stats_run_change"[]) RENAME TO "stats_apply_run_changes_to_spans";

CREATE FUNCTION "stats_apply_run_changes"(changes "stats_run_change"[]) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
  busy_ids UUID[];
  busy_days TIMESTAMPTZ[];
BEGIN
  IF cardinality(changes) = 0 THEN RETURN; END IF;
  PERFORM stats_apply_run_changes_to_spans(changes);

  -- Days kept per quarter-hour already.
  INSERT INTO "graph_quarter_rollups" AS r ("graph_id", "bucket", "status", "runs", "cost", "duration_ms", "durations")
  SELECT graph_id, bucket, status, sum(runs)::int, sum(cost)::bigint, sum(duration_ms)::bigint,
         string_agg(bin || ',' || runs, ',' ORDER BY bin) FILTER (WHERE bin IS NOT NULL AND runs <> 0)
  FROM (
    SELECT c.graph_id, stats_bucket(15::smallint, c.created_at) AS bucket, c.status, stats_duration_bin(c.duration_ms)::int AS bin,
           sum(c.sign)::int AS runs, sum(c.sign * c.cost) AS cost, coalesce(sum(c.sign * c.duration_ms), 0) AS duration_ms
    FROM unnest(changes) c
    JOIN "graph_run_rollups" g ON g.span = 1440 AND g.bucket = stats_bucket(1440::smallint, c.created_at) AND g.graph_id = c.graph_id AND g.quarters
    GROUP BY 1, 2, 3, 4
  ) d
  GROUP BY 1, 2, 3
  HAVING sum(runs) <> 0 OR sum(cost) <> 0 OR sum(duration_ms) <> 0 OR bool_or(bin IS NOT NULL AND runs <> 0)
  ON CONFLICT ("graph_id", "bucket", "status") DO UPDATE
  SET "runs" = r."runs" + excluded."runs", "cost" = r."cost" + excluded."cost", "duration_ms" = r."duration_ms" + excluded."duration_ms",
      "durations" = stats_bin_pairs_add(r."durations", excluded."durations");

  -- Days these changes made busy, kept per quarter-hour from now on (their rows include these changes). Not while the
  -- back-fill runs: it applies a batch before its mark passes the batch's runs, which stats_keep_quarters would miss.
  IF (SELECT complete FROM stats_rollup_state WHERE id = 1) THEN
    SELECT array_agg(g.graph_id), array_agg(g.bucket) INTO busy_ids, busy_days
    FROM "graph_run_rollups" g
    JOIN (SELECT DISTINCT c.graph_id, stats_bucket(1440::smallint, c.created_at) AS day FROM unnest(changes) c) t
      ON g.span = 1440 AND g.bucket = t.day AND g.graph_id = t.graph_id
    WHERE NOT g.quarters AND g.runs >= stats_busy_day_runs();
    PERFORM stats_keep_quarters(coalesce(busy_ids, '{}'), coalesce(busy_days, '{}'));
  END IF;
END
$$;

-- Keeps the busy days of up to `max_days` UTC days (every graph's), after the last one caught up, per quarter-hour;
-- returns how many days it went through (fewer than `max_days`: caught up). Under the folder's lock.
CREATE FUNCTION "stats_catch_up_quarters"(max_days INTEGER) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
  mark TIMESTAMPTZ;
  next_day TIMESTAMPTZ;
  ids UUID[];
  days TIMESTAMPTZ[];
  done INTEGER := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('agentgraph.stats.rollups'));
  IF NOT coalesce((SELECT complete AND NOT quarters_caught_up FROM stats_rollup_state WHERE id = 1), false) THEN RETURN 0; END IF;
  mark := (SELECT quarters_through FROM stats_rollup_state WHERE id = 1);
  WHILE done < max_days LOOP
    next_day := (SELECT min(bucket) FROM "graph_run_rollups" WHERE span = 1440 AND (mark IS NULL OR bucket > mark));
    IF next_day IS NULL THEN
      UPDATE stats_rollup_state SET quarters_caught_up = true, quarters_through = mark, updated_at = now() WHERE id = 1;
      RETURN done;
    END IF;
    SELECT array_agg(graph_id), array_agg(bucket) INTO ids, days
    FROM "graph_run_rollups" WHERE span = 1440 AND bucket = next_day AND NOT quarters AND runs >= stats_busy_day_runs();
    PERFORM stats_keep_quarters(coalesce(ids, '{}'), coalesce(days, '{}'));
    mark := next_day;
    done := done + 1;
  END LOOP;
  UPDATE stats_rollup_state SET quarters_through = mark, updated_at = now() WHERE id = 1;
  RETURN done;
END
$$;
