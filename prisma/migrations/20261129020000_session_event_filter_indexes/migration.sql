-- Event filters read their page and count from an index that leads with the session and the filtered column and
-- ends with the sequence (the page order), instead of scanning the whole session.

-- The branch filter is a prefix on dotted paths, read as the range [b., b/): byte order makes that exact. No index
-- uses the column yet, and a change of collation alone rewrites no rows.
ALTER TABLE "session_events" ALTER COLUMN "branch" SET DATA TYPE TEXT COLLATE "C";

-- DropIndex
DROP INDEX "session_events_session_id_invocation_id_idx";

-- CreateIndex
CREATE INDEX "session_events_session_id_invocation_id_sequence_idx" ON "session_events"("session_id", "invocation_id", "sequence");

-- CreateIndex
CREATE INDEX "session_events_session_id_agent_id_sequence_idx" ON "session_events"("session_id", "agent_id", "sequence");

-- CreateIndex
CREATE INDEX "session_events_session_id_author_sequence_idx" ON "session_events"("session_id", "author", "sequence");

-- CreateIndex
CREATE INDEX "session_events_session_id_branch_sequence_idx" ON "session_events"("session_id", "branch", "sequence");
