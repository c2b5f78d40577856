-- A/B comparisons (`ComparisonCreated`, POST /api/compare), written by the comparisons
-- projection. Statistics are computed at read time from the two sessions' read models.
CREATE TABLE comparisons (
    id             TEXT PRIMARY KEY,
    name           TEXT   NOT NULL,
    description    TEXT,
    session_a_id   TEXT   NOT NULL,
    session_b_id   TEXT   NOT NULL,
    created_at_ms  BIGINT NOT NULL
);
CREATE INDEX comparisons_created_idx ON comparisons (created_at_ms);
