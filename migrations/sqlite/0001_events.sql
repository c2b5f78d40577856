-- Event log (SQLite): one row per event; `position` is the global, gap-free commit order.
-- The current version of a stream is MAX(version) of its rows (no separate streams table).
CREATE TABLE IF NOT EXISTS events (
    position        INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id       TEXT    NOT NULL,
    version         BIGINT  NOT NULL,
    event_id        TEXT    NOT NULL UNIQUE,
    event_type      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    recorded_at_ms  BIGINT  NOT NULL,
    UNIQUE (stream_id, version)
);
