-- A user's status after `UserUpdated` (role changes update `role`): disabled users cannot log in.
ALTER TABLE auth_users ADD COLUMN is_disabled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE auth_users ADD COLUMN updated_by TEXT;
ALTER TABLE auth_users ADD COLUMN updated_at_ms BIGINT;
