-- The block catalogue's revision: one row, bumped by every statement that writes `blocks` (the sync, an operator's
-- SQL, anything), so a verdict computed against the catalogue can tell whether it still holds.
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

CREATE TRIGGER "blocks_bump_catalogue_revision" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "blocks"
FOR EACH STATEMENT EXECUTE FUNCTION "bump_block_catalogue_revision"();

-- The catalogue revision at which this version was found able to run whatever its inputs (entry, reachability,
-- required inputs, no input port whose run value needs checking); null when it was not. `executeGraph` then writes
-- the run in one statement while the revision still holds, and checks the version again otherwise.
ALTER TABLE "graphs" ADD COLUMN "runnable_revision" INTEGER;
