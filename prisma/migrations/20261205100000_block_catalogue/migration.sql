-- The block catalogue: what a node's `block_id` names (src/modules/blocks/catalogue.json, written by the sync step).
-- No foreign key from nodes: blocks are disabled, never deleted, and graphs stored before this table existed keep
-- whatever block ids they had. The schemas are `json`, not `jsonb`: their text is kept as written, so the ports
-- (their `properties`) keep the catalogue's order.
CREATE TABLE "blocks" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "categories" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "node_type" "NodeType" NOT NULL DEFAULT 'STANDARD',
    "input_schema" JSON NOT NULL,
    "output_schema" JSON NOT NULL,
    "static_outputs" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "cost_per_run" INTEGER NOT NULL DEFAULT 0,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "source" TEXT NOT NULL DEFAULT 'agentgraph',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "blocks_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "blocks_name_key" ON "blocks"("name");
