-- DropIndex
DROP INDEX "graph_executions_graph_id_graph_version_created_at_idx";

-- DropIndex
DROP INDEX "graphs_user_id_is_active_idx";

-- CreateIndex
CREATE INDEX "graph_executions_graph_id_graph_version_created_at_id_idx" ON "graph_executions"("graph_id", "graph_version", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "graphs_user_id_is_active_created_at_id_idx" ON "graphs"("user_id", "is_active", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "graphs_is_active_created_at_id_idx" ON "graphs"("is_active", "created_at" DESC, "id" DESC);
