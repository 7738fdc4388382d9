-- Versions written from now on are checked against the block catalogue (createGraph, updateGraph, the seeder) and
-- so are their runs (executeGraph). Versions already stored were not: they keep running as before, unchecked, and
-- `Graph.problems` shows what the rules would refuse in them.
ALTER TABLE "graphs" ADD COLUMN "blocks_checked" BOOLEAN NOT NULL DEFAULT false;
