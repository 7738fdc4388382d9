-- The block catalogue's revision: one row, bumped by every row written to `blocks` (by the sync, an operator's SQL,
-- anything) and by a TRUNCATE, so a verdict computed against the catalogue can tell whether it still holds. A
-- statement that changes no row (a sync with nothing to do) leaves it alone.
CREATE TABLE "block_catalogue_revision" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "revision" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "block_catalogue_revision_pkey" PRIMARY KEY ("id")
);
INSERT INTO "block_catalogue_revision" ("id", "revision") VALUES (1, 0);

CREATE FUNCTION "bump_block_catalogue_revision"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "block_catalogue_revision" SET "revision" = "revision" + 1 WHERE "id" = 1;
  RETURN NULL;
END
$$;

CREATE TRIGGER "blocks_bump_catalogue_revision" AFTER INSERT OR UPDATE OR DELETE ON "blocks"
FOR EACH ROW EXECUTE FUNCTION "bump_block_catalogue_revision"();

CREATE TRIGGER "blocks_bump_catalogue_revision_on_truncate" AFTER TRUNCATE ON "blocks"
FOR EACH STATEMENT EXECUTE FUNCTION "bump_block_catalogue_revision"();

-- The catalogue revision at which this version was found able to run whatever its inputs (entry, reachability,
-- required inputs, no input port whose run value needs checking); null when it was not. `executeGraph` then writes
-- the run in one statement while the revision still holds, and checks the version again otherwise.
ALTER TABLE "graphs" ADD COLUMN "runnable_revision" INTEGER;
