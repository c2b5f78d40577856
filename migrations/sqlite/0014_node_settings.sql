-- Node settings (`SettingsUpdated`, PUT /api/settings): one row, the latest settings as JSON,
-- written by the settings projection.
CREATE TABLE node_settings (
    id             TEXT PRIMARY KEY,
    settings       TEXT   NOT NULL,
    updated_at_ms  BIGINT NOT NULL,
    position       BIGINT NOT NULL
);
