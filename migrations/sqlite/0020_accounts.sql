-- Accounts read models (written by the accounts projection): users and API tokens. Only hashes
-- of secrets are kept; authentication itself reads the user's or token's stream.
CREATE TABLE auth_users (
    username       TEXT PRIMARY KEY,
    user_id        TEXT   NOT NULL,
    role           TEXT   NOT NULL,
    created_by     TEXT   NOT NULL,
    created_at_ms  BIGINT NOT NULL
);

CREATE TABLE auth_tokens (
    token_id       TEXT PRIMARY KEY,
    name           TEXT   NOT NULL,
    role           TEXT   NOT NULL,
    created_by     TEXT   NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    revoked_at_ms  BIGINT,
    revoked_by     TEXT
);
