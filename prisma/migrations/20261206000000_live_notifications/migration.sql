-- Live updates (src/modules/live): a write that subscribers may want to see publishes, in its own transaction, the
-- ids it touched on the channel `agentgraph_live`. PostgreSQL delivers a notification only when its transaction
-- commits, in commit order, to every session that LISTENs there: each server process keeps one (PGlite delivers to its
-- own `listen`). Ids, not data: a process reads the rows through the read path, with each subscriber's permissions.
--
-- A payload is a kind, then one line per row (space-separated ids). Inserts and deletes publish once per statement from
-- their transition table, in payloads of at most 50 lines (a payload holds at most 8,000 bytes); an update publishes
-- per row, and only when what subscribers are told of changed (the WHEN clause is checked before any function runs).
-- Bulk loads (the seeder) turn publishing off for their transaction: `SET LOCAL agentgraph.live_updates = 'off'`.

CREATE FUNCTION "live_publish"(kind TEXT, lines TEXT[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  i INT := 1;
  n INT := coalesce(array_length(lines, 1), 0);
BEGIN
  IF n = 0 OR coalesce(current_setting('agentgraph.live_updates', true), '') = 'off' THEN
    RETURN;
  END IF;
  WHILE i <= n LOOP
    PERFORM pg_notify('agentgraph_live', kind || E'\n' || array_to_string(lines[i:i + 49], E'\n'));
    i := i + 50;
  END LOOP;
END
$$;

-- Runs: `run+` (created) and `run` (status changed): <run id> <graph id> <user id> <status>.
CREATE FUNCTION "graph_executions_publish_inserted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM live_publish('run+', ARRAY(SELECT n.id || ' ' || n.graph_id || ' ' || n.user_id || ' ' || n.status FROM new_rows n WHERE NOT n.is_deleted));
  RETURN NULL;
END
$$;

CREATE FUNCTION "graph_executions_publish_updated"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM live_publish('run', ARRAY[NEW.id || ' ' || NEW.graph_id || ' ' || NEW.user_id || ' ' || NEW.status]);
  RETURN NULL;
END
$$;

CREATE TRIGGER "graph_executions_publish_inserted" AFTER INSERT ON "graph_executions"
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "graph_executions_publish_inserted"();
CREATE TRIGGER "graph_executions_publish_updated" AFTER UPDATE ON "graph_executions" FOR EACH ROW
WHEN (OLD."status" IS DISTINCT FROM NEW."status" AND NOT NEW."is_deleted")
EXECUTE FUNCTION "graph_executions_publish_updated"();

-- Node executions: `node+` (created) and `node` (status changed): <run id> <node execution id> <status>.
CREATE FUNCTION "node_executions_publish_inserted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM live_publish('node+', ARRAY(SELECT n.graph_execution_id || ' ' || n.id || ' ' || n.status FROM new_rows n WHERE NOT n.run_is_deleted));
  RETURN NULL;
END
$$;

CREATE FUNCTION "node_executions_publish_updated"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM live_publish('node', ARRAY[NEW.graph_execution_id || ' ' || NEW.id || ' ' || NEW.status]);
  RETURN NULL;
END
$$;

CREATE TRIGGER "node_executions_publish_inserted" AFTER INSERT ON "node_executions"
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "node_executions_publish_inserted"();
CREATE TRIGGER "node_executions_publish_updated" AFTER UPDATE ON "node_executions" FOR EACH ROW
WHEN (OLD."status" IS DISTINCT FROM NEW."status" AND NOT NEW."run_is_deleted")
EXECUTE FUNCTION "node_executions_publish_updated"();

-- Session events: an append moves `sessions.last_sequence` (one row update per append, whatever its size), so it
-- publishes `events`: <session id> <last sequence>. A deleted session publishes `session-`: <session id>.
CREATE FUNCTION "sessions_publish_appended"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM live_publish('events', ARRAY[NEW.id || ' ' || NEW.last_sequence]);
  RETURN NULL;
END
$$;

CREATE FUNCTION "sessions_publish_deleted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM live_publish('session-', ARRAY(SELECT o.id::text FROM old_rows o));
  RETURN NULL;
END
$$;

CREATE TRIGGER "sessions_publish_appended" AFTER UPDATE ON "sessions" FOR EACH ROW
WHEN (NEW."last_sequence" > OLD."last_sequence")
EXECUTE FUNCTION "sessions_publish_appended"();
CREATE TRIGGER "sessions_publish_deleted" AFTER DELETE ON "sessions"
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "sessions_publish_deleted"();

-- API keys: `key` (revoked, permissions changed, deleted): <key id>. Every process drops the key from its cache and
-- ends that key's subscriptions at once.
CREATE FUNCTION "api_keys_publish_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM live_publish('key', ARRAY[OLD.id::text]);
  RETURN NULL;
END
$$;

CREATE TRIGGER "api_keys_publish_changed" AFTER UPDATE ON "api_keys" FOR EACH ROW
WHEN ((OLD."status", OLD."permissions", OLD."user_id", OLD."secret_hash") IS DISTINCT FROM (NEW."status", NEW."permissions", NEW."user_id", NEW."secret_hash"))
EXECUTE FUNCTION "api_keys_publish_changed"();
CREATE TRIGGER "api_keys_publish_deleted" AFTER DELETE ON "api_keys" FOR EACH ROW
EXECUTE FUNCTION "api_keys_publish_changed"();
