-- CreateIndex
CREATE INDEX "graph_executions_stats_by_user_idx" ON "graph_executions"("user_id", "is_deleted", "created_at", "status", "cost", "started_at", "ended_at", "graph_id", "graph_version");

-- CreateIndex
CREATE INDEX "graph_executions_stats_by_graph_idx" ON "graph_executions"("graph_id", "is_deleted", "created_at", "graph_version", "user_id", "status", "cost", "started_at", "ended_at");

-- CreateIndex
CREATE INDEX "node_executions_stats_idx" ON "node_executions"("graph_execution_id", "status", "node_id", "started_at", "ended_at");

