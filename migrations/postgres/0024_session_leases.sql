-- Work coordination between nodes sharing one database (not a read model: it is derived from
-- the log only in that start-up recovery re-offers every unfinished session).
-- A row offers a queued session; a node runs it only while it holds an unexpired lease.
CREATE TABLE session_leases (
    session_id       TEXT PRIMARY KEY,
    node_id          TEXT   NOT NULL DEFAULT '',
    expires_at_ms    BIGINT NOT NULL DEFAULT 0,
    offered_at_ms    BIGINT NOT NULL,
    cancel_requested BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX session_leases_claimable ON session_leases (expires_at_ms, offered_at_ms);

-- Nodes that dispatch or serve, with their last heartbeat and load (shown by /api/health).
CREATE TABLE nodes (
    node_id         TEXT PRIMARY KEY,
    role            TEXT   NOT NULL,
    started_at_ms   BIGINT NOT NULL,
    heartbeat_at_ms BIGINT NOT NULL,
    running         BIGINT NOT NULL,
    max_concurrent  BIGINT NOT NULL
);
