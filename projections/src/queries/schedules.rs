//! Queries over the schedules read models: schedules and their latest runs, each with the
//! sessions its batch started.

use serde::Serialize;
use serde_json::Value;
use sqlx::{AnyPool, Row, any::AnyRow};

use super::time::{iso, iso_opt};

/// A schedule as the API shows it (upstream's scheduled-job fields).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleView {
    pub id: String,
    pub name: String,
    pub scenario_id: String,
    pub target_ids: Value,
    pub cron_expression: String,
    pub timezone: String,
    pub execution_config: Option<Value>,
    pub missed_run_policy: String,
    pub is_enabled: bool,
    pub created_at: String,
    pub updated_at: String,
    /// The slot of the latest run.
    pub last_run_at: Option<String>,
    pub run_count: i64,
}

/// A session a run started.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunSession {
    pub id: String,
    pub target_id: String,
    pub target_name: String,
    pub status: String,
}

/// One fired slot.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunView {
    pub slot: String,
    pub slot_ms: i64,
    pub fired_at: String,
    pub batch_id: String,
    pub missed: bool,
    pub sessions: Vec<RunSession>,
}

fn schedule(row: &AnyRow) -> Result<ScheduleView, sqlx::Error> {
    let targets: String = row.try_get("target_ids")?;
    let config: Option<String> = row.try_get("execution_config")?;
    Ok(ScheduleView {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        scenario_id: row.try_get("scenario_id")?,
        target_ids: serde_json::from_str(&targets).unwrap_or(Value::Null),
        cron_expression: row.try_get("cron_expression")?,
        timezone: row.try_get("timezone")?,
        execution_config: config.and_then(|c| serde_json::from_str(&c).ok()),
        missed_run_policy: row.try_get("missed_run_policy")?,
        is_enabled: row.try_get::<i64, _>("is_enabled")? != 0,
        created_at: iso(row.try_get("created_at_ms")?),
        updated_at: iso(row.try_get("updated_at_ms")?),
        last_run_at: iso_opt(row.try_get("last_fired_slot_ms")?),
        run_count: row.try_get("fired_count")?,
    })
}

pub async fn list_schedules(pool: &AnyPool) -> Result<Vec<ScheduleView>, sqlx::Error> {
    let rows = sqlx::query("SELECT * FROM schedules ORDER BY created_at_ms, id")
        .fetch_all(pool)
        .await?;
    rows.iter().map(schedule).collect()
}

pub async fn get_schedule(pool: &AnyPool, id: &str) -> Result<Option<ScheduleView>, sqlx::Error> {
    let row = sqlx::query("SELECT * FROM schedules WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(schedule).transpose()
}

async fn run(pool: &AnyPool, row: &AnyRow) -> Result<RunView, sqlx::Error> {
    let batch_id: String = row.try_get("batch_id")?;
    let sessions = sqlx::query(
        "SELECT id, target_id, target_name, status FROM sessions WHERE batch_id = $1 ORDER BY target_name, id",
    )
    .bind(batch_id.clone())
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(RunSession {
            id: r.try_get("id")?,
            target_id: r.try_get("target_id")?,
            target_name: r.try_get("target_name")?,
            status: r.try_get("status")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let slot_ms: i64 = row.try_get("slot_ms")?;
    Ok(RunView {
        slot: iso(slot_ms),
        slot_ms,
        fired_at: iso(row.try_get("fired_at_ms")?),
        batch_id,
        missed: row.try_get::<i64, _>("missed")? != 0,
        sessions,
    })
}

/// A schedule's latest `limit` runs, newest first.
pub async fn list_runs(
    pool: &AnyPool,
    schedule_id: &str,
    limit: i64,
) -> Result<Vec<RunView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT * FROM schedule_runs WHERE schedule_id = $1 ORDER BY slot_ms DESC LIMIT $2",
    )
    .bind(schedule_id.to_string())
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut runs = Vec::with_capacity(rows.len());
    for row in &rows {
        runs.push(run(pool, row).await?);
    }
    Ok(runs)
}
