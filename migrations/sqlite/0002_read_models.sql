-- Read models (SQLite). Each table is written by exactly one projection (see docs/ARCHITECTURE.md);
-- all can be dropped and rebuilt from the event log with `krawall projections rebuild`.
CREATE INDEX IF NOT EXISTS events_type_idx ON events (event_type);

CREATE TABLE projection_checkpoints (
    name      TEXT PRIMARY KEY,
    position  BIGINT NOT NULL
);

CREATE TABLE targets (
    id                 TEXT PRIMARY KEY,
    name               TEXT   NOT NULL,
    description        TEXT,
    connector_type     TEXT   NOT NULL,
    endpoint           TEXT   NOT NULL,
    auth_type          TEXT   NOT NULL,
    auth_masked        TEXT   NOT NULL,
    request_template   TEXT   NOT NULL,
    response_template  TEXT   NOT NULL,
    protocol_config    TEXT,
    created_at_ms      BIGINT NOT NULL,
    updated_at_ms      BIGINT NOT NULL,
    version            BIGINT NOT NULL
);
CREATE INDEX targets_name_idx ON targets (name);

CREATE TABLE scenarios (
    id             TEXT PRIMARY KEY,
    name           TEXT   NOT NULL,
    description    TEXT,
    category       TEXT   NOT NULL,
    spec           TEXT   NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL,
    version        BIGINT NOT NULL
);
CREATE INDEX scenarios_name_idx ON scenarios (name);

CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    target_id         TEXT   NOT NULL,
    target_name       TEXT   NOT NULL,
    scenario_id       TEXT,
    scenario_name     TEXT   NOT NULL,
    status            TEXT   NOT NULL,
    queued_at_ms      BIGINT NOT NULL,
    started_at_ms     BIGINT,
    completed_at_ms   BIGINT,
    message_count     BIGINT NOT NULL,
    error_count       BIGINT NOT NULL,
    tokens_in         BIGINT NOT NULL,
    tokens_out        BIGINT NOT NULL,
    latency_total_ms  BIGINT NOT NULL,
    summary           TEXT,
    failure_reason    TEXT,
    error             TEXT,
    restarted_from    TEXT,
    execution_config  TEXT   NOT NULL
);
CREATE INDEX sessions_queued_idx ON sessions (queued_at_ms);
CREATE INDEX sessions_status_idx ON sessions (status, queued_at_ms);
CREATE INDEX sessions_target_idx ON sessions (target_id, queued_at_ms);
CREATE INDEX sessions_scenario_idx ON sessions (scenario_id, queued_at_ms);

CREATE TABLE session_messages (
    session_id        TEXT   NOT NULL,
    message_index     BIGINT NOT NULL,
    attempt           BIGINT NOT NULL,
    repetition_index  BIGINT NOT NULL,
    request           TEXT   NOT NULL,
    response          TEXT,
    outcome           TEXT   NOT NULL,
    http_status       BIGINT,
    latency_ms        BIGINT,
    tokens_in         BIGINT,
    tokens_out        BIGINT,
    tokens_estimated  BIGINT,
    raw_size          BIGINT,
    error_kind        TEXT,
    error             TEXT,
    action            TEXT,
    injected          TEXT,
    sent_at_ms        BIGINT NOT NULL,
    received_at_ms    BIGINT,
    PRIMARY KEY (session_id, message_index, attempt)
);
