-- Poison events: an event a projection cannot decode (bad payload, unknown type) is parked here
-- instead of stopping every read model; the runner records one row per projection that skipped
-- it and moves on. `GET /api/health` and `/health` show the count and the latest ones.
CREATE TABLE parked_events (
    position      BIGINT NOT NULL,
    projection    TEXT   NOT NULL,
    stream_id     TEXT   NOT NULL,
    event_type    TEXT   NOT NULL,
    error         TEXT   NOT NULL,
    parked_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (position, projection)
);
