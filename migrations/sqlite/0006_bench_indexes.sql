-- Metrics page (found by `krawall bench --pages`, 100 000 sessions): its queries filter
-- `status = 'COMPLETED' AND completed_at_ms >= $1`. Without statistics SQLite picks the
-- equality on `sessions_status_idx` over the range on `sessions_finished_idx`, then reads and
-- sorts every completed row (≈ 200 ms); with `status` leading, the latest 50 are an index range
-- in order and the totals are index-only. Partial like `sessions_finished_idx`, so the counter
-- updates of running sessions never touch it. PostgreSQL already plans these well; the index
-- exists there too so both backends have the same schema.
CREATE INDEX sessions_completed_status_idx ON sessions
    (status, completed_at_ms, message_count, error_count, tokens_in, tokens_out, latency_total_ms)
    WHERE completed_at_ms IS NOT NULL;
