-- Copies of the run's owner, creation time and deletion flag and of the node's block id on each node execution,
-- so that per-block and node-level statistics of a user's time range read one index range
-- (node_executions_stats_by_user_idx) instead of probing node_executions once per run.

-- AlterTable
ALTER TABLE "node_executions" ADD COLUMN     "block_id" TEXT,
ADD COLUMN     "run_created_at" TIMESTAMPTZ(3),
ADD COLUMN     "run_is_deleted" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "user_id" UUID;

-- Existing rows (before the index, which is then built once).
UPDATE "node_executions" n
SET "user_id" = e."user_id", "run_created_at" = e."created_at", "run_is_deleted" = e."is_deleted", "block_id" = nd."block_id"
FROM "graph_executions" e, "nodes" nd
WHERE e."id" = n."graph_execution_id" AND nd."id" = n."node_id";

-- CreateIndex
CREATE INDEX "node_executions_stats_by_user_idx" ON "node_executions"("user_id", "run_is_deleted", "run_created_at", "block_id", "status", "started_at", "ended_at");

-- A node execution inserted without the copies gets them from its run and node (bulk loads that supply them skip
-- the lookups); moving a node execution to another run or node refreshes them.
CREATE FUNCTION "node_executions_fill_copies"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT e."user_id", e."created_at", e."is_deleted" INTO NEW."user_id", NEW."run_created_at", NEW."run_is_deleted"
  FROM "graph_executions" e WHERE e."id" = NEW."graph_execution_id";
  SELECT nd."block_id" INTO NEW."block_id" FROM "nodes" nd WHERE nd."id" = NEW."node_id";
  RETURN NEW;
END $$;

CREATE TRIGGER "node_executions_fill_copies_on_insert" BEFORE INSERT ON "node_executions"
FOR EACH ROW WHEN (NEW."user_id" IS NULL OR NEW."run_created_at" IS NULL OR NEW."block_id" IS NULL)
EXECUTE FUNCTION "node_executions_fill_copies"();

CREATE TRIGGER "node_executions_fill_copies_on_move" BEFORE UPDATE OF "graph_execution_id", "node_id" ON "node_executions"
FOR EACH ROW EXECUTE FUNCTION "node_executions_fill_copies"();

-- A run's soft delete (or any change of the copied fields) reaches its node executions in the same statement.
CREATE FUNCTION "graph_executions_push_copies"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "node_executions"
  SET "user_id" = NEW."user_id", "run_created_at" = NEW."created_at", "run_is_deleted" = NEW."is_deleted"
  WHERE "graph_execution_id" = NEW."id";
  RETURN NULL;
END $$;

CREATE TRIGGER "graph_executions_push_copies" AFTER UPDATE OF "is_deleted", "user_id", "created_at" ON "graph_executions"
FOR EACH ROW WHEN (OLD."is_deleted" IS DISTINCT FROM NEW."is_deleted" OR OLD."user_id" IS DISTINCT FROM NEW."user_id" OR OLD."created_at" IS DISTINCT FROM NEW."created_at")
EXECUTE FUNCTION "graph_executions_push_copies"();

CREATE FUNCTION "nodes_push_block_id"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "node_executions" SET "block_id" = NEW."block_id" WHERE "node_id" = NEW."id";
  RETURN NULL;
END $$;

CREATE TRIGGER "nodes_push_block_id" AFTER UPDATE OF "block_id" ON "nodes"
FOR EACH ROW WHEN (OLD."block_id" IS DISTINCT FROM NEW."block_id")
EXECUTE FUNCTION "nodes_push_block_id"();
