-- Batches (`BatchCreated`, POST /api/execute/batch): one row per batch, written by the batches
-- projection; the sessions projection records each session's batch id. Counts and status are
-- derived from the batch's session rows at query time.
CREATE TABLE batches (
    id             TEXT PRIMARY KEY,
    scenario_id    TEXT   NOT NULL,
    scenario_name  TEXT   NOT NULL,
    target_count   BIGINT NOT NULL,
    members        TEXT   NOT NULL,
    created_at_ms  BIGINT NOT NULL
);
CREATE INDEX batches_created_idx ON batches (created_at_ms);

ALTER TABLE sessions ADD COLUMN batch_id TEXT;
CREATE INDEX sessions_batch_idx ON sessions (batch_id);
