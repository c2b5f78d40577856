-- Session totals of the metrics projection (docs/report.md): one row per session, the merge of
-- all its metrics_buckets rows, kept up to date per batch like the buckets (same columns,
-- applied_position guarding the whole session), so GET /api/sessions/{id}/metrics reads one row
-- instead of merging every bucket's histograms.
CREATE TABLE metrics_totals (
    session_id        TEXT   PRIMARY KEY,
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
    stats             TEXT   NOT NULL,
    applied_position  BIGINT NOT NULL
);

-- Each bucket's latency/TTFT/ITL percentiles as written by the projection (JSON
-- [latency, ttft, itl], each null or [count, min, mean in thousandths, p50, p90, p95, p99, max]),
-- so the timeline is read without decoding histograms.
ALTER TABLE metrics_buckets ADD COLUMN stats TEXT NOT NULL DEFAULT '[null,null,null]';

-- Histograms (here and in metrics_buckets) are now stored as base64 varints (gap from the previous
-- value, count) instead of JSON pairs. Rows written before this migration have the old encoding,
-- no total and no percentiles: the metrics read model starts over and the projection replays the
-- event log on the next start (as a rebuild would).
DELETE FROM metrics_buckets;
DELETE FROM metrics_sessions;
DELETE FROM parked_events WHERE projection = 'metrics';
DELETE FROM projection_checkpoints WHERE name = 'metrics';
