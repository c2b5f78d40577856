-- Last connection test of each target (from `TargetTested` events).
ALTER TABLE targets ADD COLUMN last_test_at_ms BIGINT;
ALTER TABLE targets ADD COLUMN last_test_success BIGINT;
ALTER TABLE targets ADD COLUMN last_test_error TEXT;
ALTER TABLE targets ADD COLUMN preset_id TEXT;
