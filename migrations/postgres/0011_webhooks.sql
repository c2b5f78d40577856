-- Background workers' checkpoints (write side: the webhook delivery worker records the last
-- event position it has turned into deliveries). Not a read model: rebuild leaves it alone.
CREATE TABLE worker_checkpoints (
    name      TEXT PRIMARY KEY,
    position  BIGINT NOT NULL
);

-- Webhooks read models, all written by the webhooks projection.
CREATE TABLE webhooks (
    id             TEXT PRIMARY KEY,
    name           TEXT   NOT NULL,
    url            TEXT   NOT NULL,
    events         TEXT   NOT NULL,
    enabled        BIGINT NOT NULL,
    retry          TEXT   NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL,
    version        BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id                TEXT PRIMARY KEY,
    webhook_id        TEXT   NOT NULL,
    event             TEXT   NOT NULL,
    payload           TEXT   NOT NULL,
    status            TEXT   NOT NULL,
    attempts          BIGINT NOT NULL,
    redelivery_of     TEXT,
    created_at_ms     BIGINT NOT NULL,
    updated_at_ms     BIGINT NOT NULL,
    applied_version   BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at_ms);

CREATE TABLE webhook_attempts (
    delivery_id    TEXT   NOT NULL,
    attempt        BIGINT NOT NULL,
    status_code    BIGINT,
    latency_ms     BIGINT NOT NULL,
    error          TEXT,
    outcome        TEXT   NOT NULL,
    attempted_at_ms BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
