-- Quality score (0-1) of each reply (docs/report.md, domain::quality).
ALTER TABLE session_messages ADD COLUMN quality_score REAL;

-- Metric aggregates (the metrics projection, docs/report.md): one row per session and time
-- bucket (1 s for the first 5 minutes after SessionStarted, then 10 s, then 60 s after an hour).
-- Histograms are HDR histograms (3 significant digits) stored as JSON [[value, count], ...].
CREATE TABLE metrics_buckets (
    session_id        TEXT   NOT NULL,
    bucket_start_ms   BIGINT NOT NULL,
    width_ms          BIGINT NOT NULL,
    replies           BIGINT NOT NULL,
    errors            BIGINT NOT NULL,
    retries           BIGINT NOT NULL,
    rate_limited      BIGINT NOT NULL,
    backoff_ms        BIGINT NOT NULL,
    tokens_in         BIGINT NOT NULL,
    tokens_out        BIGINT NOT NULL,
    cost              REAL,
    repetition_sum    REAL NOT NULL,
    repetition_count  BIGINT NOT NULL,
    quality_sum       REAL NOT NULL,
    quality_count     BIGINT NOT NULL,
    errors_by_kind    TEXT   NOT NULL,
    latency           TEXT   NOT NULL,
    ttft              TEXT   NOT NULL,
    itl               TEXT   NOT NULL,
    applied_position  BIGINT NOT NULL,
    PRIMARY KEY (session_id, bucket_start_ms)
);

-- When each session started and its last exchange event (rates and bucket widths).
CREATE TABLE metrics_sessions (
    session_id     TEXT PRIMARY KEY,
    started_at_ms  BIGINT NOT NULL,
    last_at_ms     BIGINT NOT NULL
);
