-- Retention (`SessionTextsShredded`): when a session's message texts were removed; written by the
-- sessions projection. The sweep looks for finished sessions without it.
ALTER TABLE sessions ADD COLUMN texts_shredded_at_ms BIGINT;
CREATE INDEX sessions_retention_idx ON sessions (completed_at_ms) WHERE texts_shredded_at_ms IS NULL;

-- Per-session data keys of message texts (crypto-shredding), sealed with the node key; never in
-- an event, not a read model (a rebuild leaves it alone). Retention deletes a session's row.
CREATE TABLE session_keys (
    session_id     TEXT PRIMARY KEY,
    sealed_key     TEXT   NOT NULL,
    created_at_ms  BIGINT NOT NULL
);
