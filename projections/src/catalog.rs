//! Targets and scenarios read models (`targets`, `scenarios`). Secrets appear only masked.
//!
//! Idempotent per event: an upsert only replaces a row with a later stream version, so a
//! replayed create or update never rolls a target or scenario back.

use actors::domain::events::{DomainEvent, ScenarioSnapshot, TargetSnapshot, TargetTested};
use actors::store::RecordedEvent;
use sqlx::AnyConnection;

use crate::projection::{Projection, ProjectionError};

/// Writes `targets`.
pub struct TargetsProjection;

/// Writes `scenarios`.
pub struct ScenariosProjection;

async fn upsert_target(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    t: &TargetSnapshot,
) -> Result<(), ProjectionError> {
    let s = &t.spec;
    sqlx::query(
        "INSERT INTO targets (id, name, description, connector_type, endpoint, auth_type, auth_masked,
             request_template, response_template, protocol_config, created_at_ms, updated_at_ms, version, preset_id,
             rate_limit)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $14)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
             connector_type = excluded.connector_type, endpoint = excluded.endpoint, auth_type = excluded.auth_type,
             auth_masked = excluded.auth_masked, request_template = excluded.request_template,
             response_template = excluded.response_template, protocol_config = excluded.protocol_config,
             rate_limit = excluded.rate_limit, updated_at_ms = excluded.updated_at_ms, version = excluded.version
         WHERE excluded.version > targets.version",
    )
    .bind(t.target_id.to_string())
    .bind(&s.name)
    .bind(s.description.clone())
    .bind(s.connector_type.as_str())
    .bind(&s.endpoint)
    .bind(s.auth_type.as_str())
    .bind(serde_json::to_string(&t.auth.masked)?)
    .bind(serde_json::to_string(&s.request_template)?)
    .bind(serde_json::to_string(&s.response_template)?)
    .bind(s.protocol_config.as_ref().map(serde_json::to_string).transpose()?)
    .bind(meta.recorded_at_ms)
    .bind(meta.version)
    .bind(t.preset_id.clone())
    .bind(s.rate_limit.as_ref().map(serde_json::to_string).transpose()?)
    .execute(conn)
    .await?;
    Ok(())
}

async fn record_test(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    t: &TargetTested,
) -> Result<(), ProjectionError> {
    sqlx::query("UPDATE targets SET last_test_at_ms = $2, last_test_success = $3, last_test_error = $4 WHERE id = $1")
        .bind(t.target_id.to_string())
        .bind(meta.recorded_at_ms)
        .bind(i64::from(t.success))
        .bind(t.error.clone())
        .execute(conn)
        .await?;
    Ok(())
}

async fn upsert_scenario(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    s: &ScenarioSnapshot,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "INSERT INTO scenarios (id, name, description, category, spec, created_at_ms, updated_at_ms, version)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
             category = excluded.category, spec = excluded.spec, updated_at_ms = excluded.updated_at_ms,
             version = excluded.version
         WHERE excluded.version > scenarios.version",
    )
    .bind(s.scenario_id.to_string())
    .bind(&s.spec.name)
    .bind(s.spec.description.clone())
    .bind(&s.spec.category)
    .bind(serde_json::to_string(&s.spec)?)
    .bind(meta.recorded_at_ms)
    .bind(meta.version)
    .execute(conn)
    .await?;
    Ok(())
}

async fn delete(
    conn: &mut AnyConnection,
    table: &'static str,
    id: String,
) -> Result<(), ProjectionError> {
    let sql = match table {
        "targets" => "DELETE FROM targets WHERE id = $1",
        _ => "DELETE FROM scenarios WHERE id = $1",
    };
    sqlx::query(sql).bind(id).execute(conn).await?;
    Ok(())
}

#[async_trait::async_trait]
impl Projection for TargetsProjection {
    fn name(&self) -> &'static str {
        "targets"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["targets"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        match event {
            DomainEvent::TargetCreated(t) | DomainEvent::TargetUpdated(t) => {
                upsert_target(conn, meta, t).await
            }
            DomainEvent::TargetDeleted(d) => delete(conn, "targets", d.id.to_string()).await,
            DomainEvent::TargetTested(t) => record_test(conn, meta, t).await,
            _ => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl Projection for ScenariosProjection {
    fn name(&self) -> &'static str {
        "scenarios"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["scenarios"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        match event {
            DomainEvent::ScenarioCreated(s) | DomainEvent::ScenarioUpdated(s) => {
                upsert_scenario(conn, meta, s).await
            }
            DomainEvent::ScenarioDeleted(d) => delete(conn, "scenarios", d.id.to_string()).await,
            _ => Ok(()),
        }
    }
}
