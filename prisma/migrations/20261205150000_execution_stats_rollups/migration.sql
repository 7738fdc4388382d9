-- Execution statistics rollups (src/modules/stats/rollups.md has the whole design). Every change to a run or a node
-- execution updates its rollup rows in the same transaction, through statement-level triggers, so the rollups are
-- never stale; wide questions (every user's runs) read them instead of scanning every row.
--
-- Each rollup row covers one aligned span of creation time (of the run): 15 minutes (every real time zone's offset
-- is a multiple of 15 minutes, so local hours and days are whole numbers of 15-minute spans), one UTC day or one
-- week from Monday 00:00 UTC. A range is read as a few coarse spans plus or minus finer ones at its edges.
--
-- Each row counts runs (and their cost), and the finished runs with both timestamps by duration in `bins`: an array
-- indexed by log-linear bin (its lower bound is the first bin present; elements beyond are NULL or 0) of ratio
-- g = (1 + a) / (1 - a), a = 0.02: a bin's estimate 2 g^(i-1) / (g + 1) is within 2 % of every duration in it
-- (DDSketch's construction); bin 0 holds durations under 1 ms. Sums stay exact: the cost and duration sums are plain
-- totals. One row per span and status keeps a wide range to a few hundred rows.
--
-- Writers never touch a rollup row: a change appends what it counts to `stats_changes` (same transaction, one row
-- per change, no shared row, so one busy graph makes no writer wait for another), and a folder (one at a time, every
-- second in each server process) moves batches of them into the rollups in one transaction. Readers sum the rollups
-- and the changes not yet folded, in one snapshot, so an answer counts every committed write exactly once.

CREATE TABLE "run_rollups" (
    "span" SMALLINT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "status" "ExecutionStatus" NOT NULL,
    "runs" INTEGER NOT NULL,
    "cost" BIGINT NOT NULL,
    "duration_ms" BIGINT NOT NULL,
    "bins" INTEGER[],

    CONSTRAINT "run_rollups_pkey" PRIMARY KEY ("span", "bucket", "status")
);

CREATE TABLE "graph_run_rollups" (
    "span" SMALLINT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "graph_id" UUID NOT NULL,
    "runs" INTEGER NOT NULL,
    "completed" INTEGER NOT NULL,
    "failed" INTEGER NOT NULL,
    "finished" INTEGER NOT NULL,
    "cost" BIGINT NOT NULL,

    CONSTRAINT "graph_run_rollups_pkey" PRIMARY KEY ("span", "bucket", "graph_id")
);

CREATE TABLE "graph_duration_rollups" (
    "graph_id" UUID NOT NULL,
    "span" SMALLINT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "bin" SMALLINT NOT NULL,
    "runs" INTEGER NOT NULL,

    CONSTRAINT "graph_duration_rollups_pkey" PRIMARY KEY ("graph_id", "span", "bucket", "bin")
);

CREATE TABLE "block_rollups" (
    "span" SMALLINT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "block_id" TEXT NOT NULL,
    "status" "ExecutionStatus" NOT NULL,
    "runs" INTEGER NOT NULL,
    "bins" INTEGER[],

    CONSTRAINT "block_rollups_pkey" PRIMARY KEY ("span", "bucket", "block_id", "status")
);

-- Changes not folded into the rollups yet: +1 / -1 times a run (kind 1) or a node execution (kind 2) as counted.
CREATE TABLE "stats_changes" (
    "id" BIGSERIAL NOT NULL,
    "kind" SMALLINT NOT NULL,
    "sign" SMALLINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "graph_id" UUID,
    "block_id" TEXT,
    "status" "ExecutionStatus" NOT NULL,
    "cost" BIGINT NOT NULL,
    "duration_ms" DOUBLE PRECISION,

    CONSTRAINT "stats_changes_pkey" PRIMARY KEY ("id")
);

-- Which rows the rollups count: rows written from now on (in_rollups true), and rows that existed before this
-- migration (in_rollups false) once the back-fill (src/modules/stats/rollup-backfill.ts) has passed them in id order
-- (id <= runs_through / node_executions_through). The back-fill counts a batch while holding its rows' locks and
-- moves the mark in the same statement, so a concurrent change of such a row is counted exactly once: by the
-- back-fill (before it) or by the triggers (after it). Until it is complete the statistics read rows.
CREATE TABLE "stats_rollup_state" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "complete" BOOLEAN NOT NULL,
    "runs_through" UUID,
    "node_executions_through" UUID,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stats_rollup_state_pkey" PRIMARY KEY ("id")
);
INSERT INTO "stats_rollup_state" ("id", "complete")
SELECT 1, NOT EXISTS (SELECT 1 FROM "graph_executions") AND NOT EXISTS (SELECT 1 FROM "node_executions");

-- Existing rows read false (stored in the catalogue, no rewrite); rows inserted from now on are counted. The back-fill
-- never rewrites a row: it locks and counts it, and moves the state's mark past it.
ALTER TABLE "graph_executions" ADD COLUMN "in_rollups" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "graph_executions" ALTER COLUMN "in_rollups" SET DEFAULT true;
ALTER TABLE "node_executions" ADD COLUMN "in_rollups" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "node_executions" ALTER COLUMN "in_rollups" SET DEFAULT true;

-- The raw rows at the partial edges of a range, for every user (cheap to keep: rows arrive in time order).
CREATE INDEX "graph_executions_created_at_brin" ON "graph_executions" USING BRIN ("created_at");
CREATE INDEX "node_executions_run_created_at_brin" ON "node_executions" USING BRIN ("run_created_at");

CREATE FUNCTION "stats_duration_bin"(ms DOUBLE PRECISION) RETURNS SMALLINT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN ms IS NULL THEN NULL WHEN ms < 1 THEN 0 ELSE (1 + ceil(ln(ms) / ln(1.02::float8 / 0.98::float8)))::smallint END
$$;

CREATE FUNCTION "stats_bucket"(span SMALLINT, at TIMESTAMPTZ) RETURNS TIMESTAMPTZ LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT date_bin(make_interval(mins => span::int), at, TIMESTAMPTZ '2001-01-01 00:00:00+00')
$$;

-- Durations by bin: an aggregate building a bins array from (bin, count) pairs, and the sum of two such arrays
-- (element-wise, extending either as needed).
CREATE FUNCTION "stats_bins_step"(state INTEGER[], bin INTEGER, n INTEGER) RETURNS INTEGER[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF bin IS NULL OR n = 0 THEN RETURN state; END IF;
  IF state IS NULL THEN state := '{}'; END IF;
  state[bin] := coalesce(state[bin], 0) + n;
  RETURN state;
END
$$;

CREATE AGGREGATE "stats_bins"(INTEGER, INTEGER) (SFUNC = "stats_bins_step", STYPE = INTEGER[]);

CREATE FUNCTION "stats_bins_add"(a INTEGER[], d INTEGER[]) RETURNS INTEGER[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  i INTEGER;
BEGIN
  IF d IS NULL OR cardinality(d) = 0 THEN RETURN a; END IF;
  IF a IS NULL OR cardinality(a) = 0 THEN RETURN d; END IF;
  FOR i IN array_lower(d, 1)..array_upper(d, 1) LOOP
    IF coalesce(d[i], 0) <> 0 THEN a[i] := coalesce(a[i], 0) + d[i]; END IF;
  END LOOP;
  RETURN a;
END
$$;

CREATE TYPE "stats_run_change" AS (sign INTEGER, graph_id UUID, status "ExecutionStatus", created_at TIMESTAMPTZ, cost BIGINT, duration_ms DOUBLE PRECISION);
CREATE TYPE "stats_node_change" AS (sign INTEGER, block_id TEXT, status "ExecutionStatus", run_created_at TIMESTAMPTZ, duration_ms DOUBLE PRECISION);

-- A run as counted: only counted, not deleted runs; its duration when finished with both timestamps.
CREATE FUNCTION "stats_run_change_of"(sign INTEGER, e "graph_executions") RETURNS "stats_run_change" LANGUAGE sql IMMUTABLE AS $$
  SELECT ROW(sign, e.graph_id, e.status, e.created_at, e.cost::bigint,
    CASE WHEN e.status IN ('COMPLETED', 'FAILED', 'TERMINATED') AND e.started_at IS NOT NULL AND e.ended_at IS NOT NULL
         THEN round(date_part('epoch', e.ended_at - e.started_at) * 1000) END)::"stats_run_change"
$$;

CREATE FUNCTION "stats_node_change_of"(sign INTEGER, n "node_executions") RETURNS "stats_node_change" LANGUAGE sql IMMUTABLE AS $$
  SELECT ROW(sign, coalesce(n.block_id, ''), n.status, n.run_created_at,
    CASE WHEN n.status IN ('COMPLETED', 'FAILED', 'TERMINATED') AND n.started_at IS NOT NULL AND n.ended_at IS NOT NULL
         THEN round(date_part('epoch', n.ended_at - n.started_at) * 1000) END)::"stats_node_change"
$$;

CREATE FUNCTION "stats_apply_run_changes"(changes "stats_run_change"[]) RETURNS VOID LANGUAGE plpgsql AS $$
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

  INSERT INTO "graph_run_rollups" AS r ("span", "bucket", "graph_id", "runs", "completed", "failed", "finished", "cost")
  SELECT d.span, d.bucket, d.graph_id, d.runs, d.completed, d.failed, d.finished, d.cost
  FROM (
    SELECT s.span, stats_bucket(s.span, c.created_at) AS bucket, c.graph_id,
           sum(c.sign)::int AS runs,
           coalesce(sum(c.sign) FILTER (WHERE c.status = 'COMPLETED'), 0)::int AS completed,
           coalesce(sum(c.sign) FILTER (WHERE c.status = 'FAILED'), 0)::int AS failed,
           coalesce(sum(c.sign) FILTER (WHERE c.status IN ('COMPLETED', 'FAILED', 'TERMINATED')), 0)::int AS finished,
           sum(c.sign * c.cost)::bigint AS cost
    FROM unnest(changes) c
    CROSS JOIN (VALUES (15::smallint), (1440::smallint), (10080::smallint)) s(span)
    GROUP BY 1, 2, 3
  ) d
  WHERE d.runs <> 0 OR d.completed <> 0 OR d.failed <> 0 OR d.finished <> 0 OR d.cost <> 0
  ON CONFLICT ("span", "bucket", "graph_id") DO UPDATE
  SET "runs" = r."runs" + excluded."runs", "completed" = r."completed" + excluded."completed", "failed" = r."failed" + excluded."failed",
      "finished" = r."finished" + excluded."finished", "cost" = r."cost" + excluded."cost";

  INSERT INTO "graph_duration_rollups" AS r ("graph_id", "span", "bucket", "bin", "runs")
  SELECT d.graph_id, d.span, d.bucket, d.bin, d.runs
  FROM (
    SELECT c.graph_id, s.span, stats_bucket(s.span, c.created_at) AS bucket, stats_duration_bin(c.duration_ms) AS bin,
           sum(c.sign)::int AS runs
    FROM unnest(changes) c
    CROSS JOIN (VALUES (15::smallint), (1440::smallint), (10080::smallint)) s(span)
    WHERE c.duration_ms IS NOT NULL
    GROUP BY 1, 2, 3, 4
    HAVING sum(c.sign) <> 0
  ) d
  ON CONFLICT ("graph_id", "span", "bucket", "bin") DO UPDATE SET "runs" = r."runs" + excluded."runs";
END
$$;

CREATE FUNCTION "stats_apply_node_changes"(changes "stats_node_change"[]) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(changes) = 0 THEN RETURN; END IF;

  INSERT INTO "block_rollups" AS r ("span", "bucket", "block_id", "status", "runs", "bins")
  SELECT d.span, d.bucket, d.block_id, d.status, d.runs, d.bins
  FROM (
    SELECT s.span, stats_bucket(s.span, c.run_created_at) AS bucket, c.block_id, c.status,
           sum(c.sign)::int AS runs, stats_bins(stats_duration_bin(c.duration_ms), c.sign) AS bins
    FROM unnest(changes) c
    CROSS JOIN (VALUES (15::smallint), (1440::smallint), (10080::smallint)) s(span)
    WHERE c.run_created_at IS NOT NULL
    GROUP BY 1, 2, 3, 4
  ) d
  WHERE d.runs <> 0 OR d.bins IS NOT NULL
  ON CONFLICT ("span", "bucket", "block_id", "status") DO UPDATE
  SET "runs" = r."runs" + excluded."runs", "bins" = stats_bins_add(r."bins", excluded."bins");
END
$$;

-- Folds up to `max_changes` of the oldest changes into the rollups, in this transaction; returns how many. One folder
-- at a time (the back-fill takes the same lock), so rollup rows are only ever written by one transaction at once.
CREATE FUNCTION "stats_fold_changes"(max_changes INTEGER) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
  runs "stats_run_change"[];
  nodes "stats_node_change"[];
  folded INTEGER;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('agentgraph.stats.rollups'));
  WITH moved AS (
    DELETE FROM "stats_changes" WHERE "id" IN (SELECT "id" FROM "stats_changes" ORDER BY "id" LIMIT max_changes) RETURNING *
  )
  SELECT array_agg(ROW(m.sign, m.graph_id, m.status, m.created_at, m.cost, m.duration_ms)::"stats_run_change") FILTER (WHERE m.kind = 1),
         array_agg(ROW(m.sign, m.block_id, m.status, m.created_at, m.duration_ms)::"stats_node_change") FILTER (WHERE m.kind = 2),
         count(*)
  INTO runs, nodes, folded FROM moved m;
  PERFORM stats_apply_run_changes(coalesce(runs, '{}'));
  PERFORM stats_apply_node_changes(coalesce(nodes, '{}'));
  RETURN folded;
END
$$;

-- The triggers append what they count to stats_changes. Inserts and deletes (bulk: a COPY, a graph's cascade) are
-- counted per statement, from its transition table; an update per row, and only when a counted column changed (the
-- WHEN clause is checked before any function runs: writing a run's outputs costs nothing here).
CREATE FUNCTION "graph_executions_count_inserted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "stats_changes" ("kind", "sign", "created_at", "graph_id", "status", "cost", "duration_ms")
  SELECT 1, 1, (c).created_at, (c).graph_id, (c).status, (c).cost, (c).duration_ms
  FROM (SELECT stats_run_change_of(1, n) AS c FROM new_rows n
        WHERE NOT n.is_deleted AND (n.in_rollups OR n.id <= (SELECT runs_through FROM stats_rollup_state WHERE id = 1))) x;
  RETURN NULL;
END
$$;

CREATE FUNCTION "graph_executions_count_deleted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "stats_changes" ("kind", "sign", "created_at", "graph_id", "status", "cost", "duration_ms")
  SELECT 1, -1, (c).created_at, (c).graph_id, (c).status, (c).cost, (c).duration_ms
  FROM (SELECT stats_run_change_of(-1, o) AS c FROM old_rows o
        WHERE NOT o.is_deleted AND (o.in_rollups OR o.id <= (SELECT runs_through FROM stats_rollup_state WHERE id = 1))) x;
  RETURN NULL;
END
$$;

CREATE FUNCTION "graph_executions_count_updated"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  through UUID;
  was RECORD;
  becomes RECORD;
BEGIN
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

CREATE FUNCTION "node_executions_count_inserted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "stats_changes" ("kind", "sign", "created_at", "block_id", "status", "cost", "duration_ms")
  SELECT 2, 1, (c).run_created_at, (c).block_id, (c).status, 0, (c).duration_ms
  FROM (SELECT stats_node_change_of(1, n) AS c FROM new_rows n
        WHERE NOT n.run_is_deleted AND n.run_created_at IS NOT NULL
          AND (n.in_rollups OR n.id <= (SELECT node_executions_through FROM stats_rollup_state WHERE id = 1))) x;
  RETURN NULL;
END
$$;

CREATE FUNCTION "node_executions_count_deleted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "stats_changes" ("kind", "sign", "created_at", "block_id", "status", "cost", "duration_ms")
  SELECT 2, -1, (c).run_created_at, (c).block_id, (c).status, 0, (c).duration_ms
  FROM (SELECT stats_node_change_of(-1, o) AS c FROM old_rows o
        WHERE NOT o.run_is_deleted AND o.run_created_at IS NOT NULL
          AND (o.in_rollups OR o.id <= (SELECT node_executions_through FROM stats_rollup_state WHERE id = 1))) x;
  RETURN NULL;
END
$$;

CREATE FUNCTION "node_executions_count_updated"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  through UUID;
  was RECORD;
  becomes RECORD;
BEGIN
  IF NOT (OLD.in_rollups AND NEW.in_rollups) THEN
    through := (SELECT node_executions_through FROM stats_rollup_state WHERE id = 1);
  END IF;
  was := stats_node_change_of(-1, OLD);
  becomes := stats_node_change_of(1, NEW);
  INSERT INTO "stats_changes" ("kind", "sign", "created_at", "block_id", "status", "cost", "duration_ms")
  SELECT 2, c.sign, c.created_at, c.block_id, c.status, 0, c.duration_ms
  FROM (VALUES (was.sign, was.run_created_at, was.block_id, was.status, was.duration_ms,
                NOT OLD.run_is_deleted AND OLD.run_created_at IS NOT NULL AND (OLD.in_rollups OR OLD.id <= through)),
               (becomes.sign, becomes.run_created_at, becomes.block_id, becomes.status, becomes.duration_ms,
                NOT NEW.run_is_deleted AND NEW.run_created_at IS NOT NULL AND (NEW.in_rollups OR NEW.id <= through)))
       c(sign, created_at, block_id, status, duration_ms, counted)
  WHERE c.counted;
  RETURN NULL;
END
$$;

CREATE TRIGGER "graph_executions_count_inserted" AFTER INSERT ON "graph_executions"
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "graph_executions_count_inserted"();
CREATE TRIGGER "graph_executions_count_updated" AFTER UPDATE ON "graph_executions" FOR EACH ROW
WHEN ((OLD."in_rollups", OLD."is_deleted", OLD."status", OLD."graph_id", OLD."created_at", OLD."cost", OLD."started_at", OLD."ended_at")
      IS DISTINCT FROM (NEW."in_rollups", NEW."is_deleted", NEW."status", NEW."graph_id", NEW."created_at", NEW."cost", NEW."started_at", NEW."ended_at"))
EXECUTE FUNCTION "graph_executions_count_updated"();
CREATE TRIGGER "graph_executions_count_deleted" AFTER DELETE ON "graph_executions"
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "graph_executions_count_deleted"();

CREATE TRIGGER "node_executions_count_inserted" AFTER INSERT ON "node_executions"
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "node_executions_count_inserted"();
CREATE TRIGGER "node_executions_count_updated" AFTER UPDATE ON "node_executions" FOR EACH ROW
WHEN ((OLD."in_rollups", OLD."run_is_deleted", OLD."status", OLD."block_id", OLD."run_created_at", OLD."started_at", OLD."ended_at")
      IS DISTINCT FROM (NEW."in_rollups", NEW."run_is_deleted", NEW."status", NEW."block_id", NEW."run_created_at", NEW."started_at", NEW."ended_at"))
EXECUTE FUNCTION "node_executions_count_updated"();
CREATE TRIGGER "node_executions_count_deleted" AFTER DELETE ON "node_executions"
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "node_executions_count_deleted"();
