-- A graph version its owner published as a template (AutoGPT's is_template): any key with READ_GRAPHS lists it
-- (`graphs(filter: { isTemplate: true })`) and copies it (`createGraphFromTemplate`).
ALTER TABLE "graphs" ADD COLUMN "is_template" BOOLEAN NOT NULL DEFAULT false;

-- The template list, newest first, across owners.
CREATE INDEX "graphs_is_template_created_at_id_idx" ON "graphs"("is_template", "created_at" DESC, "id" DESC);
