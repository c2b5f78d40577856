-- Audit log read model (written by the audit projection): who did what, when, from where.
CREATE TABLE audit_log (
    position       BIGINT PRIMARY KEY,
    entry_id       TEXT   NOT NULL,
    at_ms          BIGINT NOT NULL,
    actor          TEXT   NOT NULL,
    actor_kind     TEXT   NOT NULL,
    action         TEXT   NOT NULL,
    object         TEXT   NOT NULL,
    outcome        TEXT   NOT NULL,
    status         BIGINT,
    source_ip      TEXT
);

CREATE INDEX audit_log_actor ON audit_log (actor, position);
CREATE INDEX audit_log_action ON audit_log (action, position);
