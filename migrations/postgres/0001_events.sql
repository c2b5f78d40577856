-- Event log (PostgreSQL): one row per event; `position` is the global commit order
-- (appends hold a transaction-scoped advisory lock, so positions commit in order).
-- The current version of a stream is MAX(version) of its rows (no separate streams table).
CREATE TABLE IF NOT EXISTS events (
    position        BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id       TEXT    NOT NULL,
    version         BIGINT  NOT NULL,
    event_id        TEXT    NOT NULL UNIQUE,
    event_type      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    recorded_at_ms  BIGINT  NOT NULL,
    CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);
