-- Dashboard and metrics pages: index ranges instead of table scans over 100 000s of rows.
-- Finished sessions never change their counters again (a terminal event is final), so this
-- partial covering index serves all-time totals, "recently finished" and the completed-session
-- charts index-only, and the counter updates of running sessions never touch it.
CREATE INDEX sessions_finished_idx ON sessions
    (completed_at_ms, status, message_count, error_count, tokens_in, tokens_out, latency_total_ms)
    WHERE completed_at_ms IS NOT NULL;
-- Messages sent in the last 24 h (command center).
CREATE INDEX session_messages_sent_idx ON session_messages (sent_at_ms);
-- Session lists are ordered by (queued_at_ms DESC, id DESC): with `id` in the index a page deep
-- in the list is found index-only (deferred join), without reading the skipped rows. These
-- supersede the (column, queued_at_ms) indexes of 0002.
DROP INDEX IF EXISTS sessions_queued_idx;
DROP INDEX IF EXISTS sessions_status_idx;
DROP INDEX IF EXISTS sessions_target_idx;
DROP INDEX IF EXISTS sessions_scenario_idx;
CREATE INDEX sessions_queued_idx ON sessions (queued_at_ms, id);
CREATE INDEX sessions_status_idx ON sessions (status, queued_at_ms, id);
CREATE INDEX sessions_target_idx ON sessions (target_id, queued_at_ms, id);
CREATE INDEX sessions_scenario_idx ON sessions (scenario_id, queued_at_ms, id);
