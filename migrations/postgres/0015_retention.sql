-- Retention (`SessionTextsShredded`): when a session's message texts were removed; written by the
-- sessions projection. The sweep looks for finished sessions without it.
ALTER TABLE sessions ADD COLUMN texts_shredded_at_ms BIGINT;
CREATE INDEX sessions_retention_idx ON sessions (completed_at_ms) WHERE texts_shredded_at_ms IS NULL;
