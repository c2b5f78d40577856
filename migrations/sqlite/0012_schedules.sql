-- Schedules read models, written by the schedules projection: each schedule's settings and
-- counters, and one row per fired slot (the batch it queued).
CREATE TABLE schedules (
    id                 TEXT PRIMARY KEY,
    name               TEXT   NOT NULL,
    scenario_id        TEXT   NOT NULL,
    target_ids         TEXT   NOT NULL,
    cron_expression    TEXT   NOT NULL,
    timezone           TEXT   NOT NULL,
    execution_config   TEXT,
    missed_run_policy  TEXT   NOT NULL,
    is_enabled         BIGINT NOT NULL,
    created_at_ms      BIGINT NOT NULL,
    updated_at_ms      BIGINT NOT NULL,
    last_fired_slot_ms BIGINT,
    fired_count        BIGINT NOT NULL,
    version            BIGINT NOT NULL
);

CREATE TABLE schedule_runs (
    schedule_id   TEXT   NOT NULL,
    slot_ms       BIGINT NOT NULL,
    fired_at_ms   BIGINT NOT NULL,
    batch_id      TEXT   NOT NULL,
    missed        BIGINT NOT NULL,
    PRIMARY KEY (schedule_id, slot_ms)
);
