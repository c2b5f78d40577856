//! Schedules read models: `schedules` (settings, enabled flag, last slot, run count) and
//! `schedule_runs` (one row per `ScheduleFired`). Every change is guarded by the stream
//! version, so a replayed event changes nothing.

use actors::domain::events::{DomainEvent, ScheduleFired, ScheduleSnapshot};
use actors::store::RecordedEvent;
use sqlx::AnyConnection;

use crate::projection::{Projection, ProjectionError};

/// Writes `schedules` and `schedule_runs`.
pub struct SchedulesProjection;

async fn upsert(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    s: &ScheduleSnapshot,
) -> Result<(), ProjectionError> {
    let policy = serde_json::to_value(s.spec.missed_run_policy)?;
    sqlx::query(
        "INSERT INTO schedules (id, name, scenario_id, target_ids, cron_expression, timezone, execution_config,
             missed_run_policy, is_enabled, created_at_ms, updated_at_ms, fired_count, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 0, $11)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, scenario_id = excluded.scenario_id,
             target_ids = excluded.target_ids, cron_expression = excluded.cron_expression,
             timezone = excluded.timezone, execution_config = excluded.execution_config,
             missed_run_policy = excluded.missed_run_policy, is_enabled = excluded.is_enabled,
             updated_at_ms = excluded.updated_at_ms, version = excluded.version
         WHERE excluded.version > schedules.version",
    )
    .bind(s.schedule_id.to_string())
    .bind(&s.spec.name)
    .bind(s.spec.scenario_id.to_string())
    .bind(serde_json::to_string(&s.spec.target_ids)?)
    .bind(&s.spec.cron_expression)
    .bind(&s.spec.timezone)
    .bind(s.spec.execution_config.as_ref().map(|c| c.to_string()))
    .bind(policy.as_str().unwrap_or("skip").to_string())
    .bind(i64::from(s.is_enabled))
    .bind(meta.recorded_at_ms)
    .bind(meta.version)
    .execute(conn)
    .await?;
    Ok(())
}

/// `UPDATE schedules SET {set}` for schedule `$1` at stream version `$2`, once.
async fn guarded(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    id: String,
    set: &str,
) -> Result<(), ProjectionError> {
    let sql = format!(
        "UPDATE schedules SET {set}, version = $2, updated_at_ms = $3 WHERE id = $1 AND version < $2"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(meta.version)
        .bind(meta.recorded_at_ms)
        .execute(conn)
        .await?;
    Ok(())
}

async fn fired(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    f: &ScheduleFired,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "INSERT INTO schedule_runs (schedule_id, slot_ms, fired_at_ms, batch_id, missed)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (schedule_id, slot_ms) DO NOTHING",
    )
    .bind(f.schedule_id.to_string())
    .bind(f.slot_ms)
    .bind(meta.recorded_at_ms)
    .bind(f.batch_id.to_string())
    .bind(i64::from(f.missed))
    .execute(&mut *conn)
    .await?;
    let set = format!(
        "last_fired_slot_ms = {}, fired_count = fired_count + 1",
        f.slot_ms
    );
    guarded(conn, meta, f.schedule_id.to_string(), &set).await
}

#[async_trait::async_trait]
impl Projection for SchedulesProjection {
    fn name(&self) -> &'static str {
        "schedules"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["schedules", "schedule_runs"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        match event {
            DomainEvent::ScheduleCreated(s) | DomainEvent::ScheduleUpdated(s) => {
                upsert(conn, meta, s).await
            }
            DomainEvent::ScheduleEnabled(t) => {
                guarded(conn, meta, t.schedule_id.to_string(), "is_enabled = 1").await
            }
            DomainEvent::ScheduleDisabled(t) => {
                guarded(conn, meta, t.schedule_id.to_string(), "is_enabled = 0").await
            }
            DomainEvent::ScheduleFired(f) => fired(conn, meta, f).await,
            DomainEvent::ScheduleDeleted(d) => {
                let id = d.id.to_string();
                for sql in [
                    "DELETE FROM schedules WHERE id = $1",
                    "DELETE FROM schedule_runs WHERE schedule_id = $1",
                ] {
                    sqlx::query(sql)
                        .bind(id.clone())
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
