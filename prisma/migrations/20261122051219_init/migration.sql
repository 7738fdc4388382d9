-- CreateEnum
CREATE TYPE "ApiKeyPermission" AS ENUM ('READ_GRAPHS', 'WRITE_GRAPHS', 'EXECUTE_GRAPHS', 'READ_SESSIONS', 'WRITE_SESSIONS', 'ADMIN');

-- CreateEnum
CREATE TYPE "ApiKeyStatus" AS ENUM ('ACTIVE', 'REVOKED');

-- CreateEnum
CREATE TYPE "NodeType" AS ENUM ('STANDARD', 'INPUT', 'OUTPUT', 'WEBHOOK');

-- CreateEnum
CREATE TYPE "ExecutionStatus" AS ENUM ('INCOMPLETE', 'QUEUED', 'RUNNING', 'COMPLETED', 'TERMINATED', 'FAILED', 'REVIEW');

-- CreateEnum
CREATE TYPE "SessionStatus" AS ENUM ('ACTIVE', 'COMPLETED', 'FAILED');

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "permissions" "ApiKeyPermission"[],
    "status" "ApiKeyStatus" NOT NULL DEFAULT 'ACTIVE',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "graphs" (
    "id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "user_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "graphs_pkey" PRIMARY KEY ("id","version")
);

-- CreateTable
CREATE TABLE "nodes" (
    "id" UUID NOT NULL,
    "graph_id" UUID NOT NULL,
    "graph_version" INTEGER NOT NULL,
    "block_id" TEXT NOT NULL,
    "label" TEXT,
    "node_type" "NodeType" NOT NULL DEFAULT 'STANDARD',
    "input_default" JSONB NOT NULL DEFAULT '{}',
    "metadata" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "nodes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "links" (
    "id" UUID NOT NULL,
    "graph_id" UUID NOT NULL,
    "graph_version" INTEGER NOT NULL,
    "source_id" UUID NOT NULL,
    "sink_id" UUID NOT NULL,
    "source_name" TEXT NOT NULL,
    "sink_name" TEXT NOT NULL,
    "is_static" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "links_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "graph_executions" (
    "id" UUID NOT NULL,
    "graph_id" UUID NOT NULL,
    "graph_version" INTEGER NOT NULL,
    "user_id" UUID NOT NULL,
    "status" "ExecutionStatus" NOT NULL DEFAULT 'QUEUED',
    "inputs" JSONB NOT NULL DEFAULT '{}',
    "outputs" JSONB,
    "stats" JSONB,
    "cost" INTEGER NOT NULL DEFAULT 0,
    "error_message" TEXT,
    "is_deleted" BOOLEAN NOT NULL DEFAULT false,
    "parent_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "started_at" TIMESTAMPTZ(3),
    "ended_at" TIMESTAMPTZ(3),

    CONSTRAINT "graph_executions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "node_executions" (
    "id" UUID NOT NULL,
    "graph_execution_id" UUID NOT NULL,
    "node_id" UUID NOT NULL,
    "status" "ExecutionStatus" NOT NULL DEFAULT 'INCOMPLETE',
    "inputs" JSONB NOT NULL DEFAULT '{}',
    "outputs" JSONB,
    "stats" JSONB,
    "cost" INTEGER NOT NULL DEFAULT 0,
    "error_message" TEXT,
    "added_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "queued_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3),
    "ended_at" TIMESTAMPTZ(3),

    CONSTRAINT "node_executions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "id" UUID NOT NULL,
    "app_name" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "agent_id" TEXT,
    "status" "SessionStatus" NOT NULL DEFAULT 'ACTIVE',
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "state" JSONB NOT NULL DEFAULT '{}',
    "team_session_id" UUID,
    "version" INTEGER NOT NULL DEFAULT 1,
    "last_sequence" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "session_events" (
    "id" UUID NOT NULL,
    "session_id" UUID NOT NULL,
    "sequence" INTEGER NOT NULL,
    "invocation_id" TEXT,
    "agent_id" TEXT,
    "author" TEXT NOT NULL,
    "content" JSONB,
    "actions" JSONB,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "branch" TEXT,
    "timestamp" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "client_event_id" TEXT,

    CONSTRAINT "session_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_prefix_key" ON "api_keys"("prefix");

-- CreateIndex
CREATE INDEX "api_keys_user_id_status_idx" ON "api_keys"("user_id", "status");

-- CreateIndex
CREATE INDEX "graphs_user_id_is_active_idx" ON "graphs"("user_id", "is_active");

-- CreateIndex
CREATE INDEX "nodes_graph_id_graph_version_idx" ON "nodes"("graph_id", "graph_version");

-- CreateIndex
CREATE INDEX "links_graph_id_graph_version_idx" ON "links"("graph_id", "graph_version");

-- CreateIndex
CREATE INDEX "links_sink_id_idx" ON "links"("sink_id");

-- CreateIndex
CREATE UNIQUE INDEX "links_source_id_source_name_sink_id_sink_name_key" ON "links"("source_id", "source_name", "sink_id", "sink_name");

-- CreateIndex
CREATE INDEX "graph_executions_user_id_is_deleted_created_at_id_idx" ON "graph_executions"("user_id", "is_deleted", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "graph_executions_graph_id_graph_version_created_at_idx" ON "graph_executions"("graph_id", "graph_version", "created_at" DESC);

-- CreateIndex
CREATE INDEX "graph_executions_parent_id_idx" ON "graph_executions"("parent_id");

-- CreateIndex
CREATE INDEX "node_executions_graph_execution_id_added_at_id_idx" ON "node_executions"("graph_execution_id", "added_at", "id");

-- CreateIndex
CREATE INDEX "node_executions_node_id_status_idx" ON "node_executions"("node_id", "status");

-- CreateIndex
CREATE INDEX "sessions_user_id_app_name_updated_at_id_idx" ON "sessions"("user_id", "app_name", "updated_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "sessions_team_session_id_idx" ON "sessions"("team_session_id");

-- CreateIndex
CREATE INDEX "sessions_updated_at_idx" ON "sessions"("updated_at");

-- CreateIndex
CREATE INDEX "session_events_session_id_invocation_id_idx" ON "session_events"("session_id", "invocation_id");

-- CreateIndex
CREATE INDEX "session_events_session_id_timestamp_idx" ON "session_events"("session_id", "timestamp");

-- CreateIndex
CREATE UNIQUE INDEX "session_events_session_id_sequence_key" ON "session_events"("session_id", "sequence");

-- CreateIndex
CREATE UNIQUE INDEX "session_events_session_id_client_event_id_key" ON "session_events"("session_id", "client_event_id");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "graphs" ADD CONSTRAINT "graphs_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "nodes" ADD CONSTRAINT "nodes_graph_id_graph_version_fkey" FOREIGN KEY ("graph_id", "graph_version") REFERENCES "graphs"("id", "version") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "links" ADD CONSTRAINT "links_graph_id_graph_version_fkey" FOREIGN KEY ("graph_id", "graph_version") REFERENCES "graphs"("id", "version") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "links" ADD CONSTRAINT "links_source_id_fkey" FOREIGN KEY ("source_id") REFERENCES "nodes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "links" ADD CONSTRAINT "links_sink_id_fkey" FOREIGN KEY ("sink_id") REFERENCES "nodes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "graph_executions" ADD CONSTRAINT "graph_executions_graph_id_graph_version_fkey" FOREIGN KEY ("graph_id", "graph_version") REFERENCES "graphs"("id", "version") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "graph_executions" ADD CONSTRAINT "graph_executions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "graph_executions" ADD CONSTRAINT "graph_executions_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "graph_executions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "node_executions" ADD CONSTRAINT "node_executions_graph_execution_id_fkey" FOREIGN KEY ("graph_execution_id") REFERENCES "graph_executions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "node_executions" ADD CONSTRAINT "node_executions_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_team_session_id_fkey" FOREIGN KEY ("team_session_id") REFERENCES "sessions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "session_events" ADD CONSTRAINT "session_events_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
