//! Queries over the `batches` read model: counts, progress and status derived from the batch's
//! session rows, and the sessions themselves in the order the batch listed its targets.

use actors::domain::batch::{BatchCounts, BatchMember, BatchStatus};
use serde::Serialize;
use sqlx::{AnyPool, Row, any::AnyRow};

use super::sessions::{SessionView, session};
use super::time::iso;

/// A batch with its counts (`GET /api/execute/batch`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchView {
    pub id: String,
    pub scenario_id: String,
    pub scenario_name: String,
    pub created_at: String,
    pub status: BatchStatus,
    /// Finished sessions / all sessions, 0.0 to 1.0.
    pub progress: f64,
    pub counts: BatchCounts,
}

/// A batch and its sessions, one per target (`GET /api/execute/batch/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchDetail {
    #[serde(flatten)]
    pub batch: BatchView,
    pub sessions: Vec<SessionView>,
}

fn count(status: &str) -> String {
    format!(
        "CAST(COALESCE(SUM(CASE WHEN s.status = '{status}' THEN 1 ELSE 0 END), 0) AS BIGINT) AS {}",
        status.to_lowercase()
    )
}

/// `SELECT` of batches with their session counts; `filter` is a static clause from this file.
fn batch_sql(filter: &str, tail: &str) -> String {
    let counts = ["QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]
        .map(count)
        .join(", ");
    format!(
        "SELECT b.id, b.scenario_id, b.scenario_name, b.target_count, b.members, b.created_at_ms, {counts}
         FROM batches b LEFT JOIN sessions s ON s.batch_id = b.id {filter}
         GROUP BY b.id, b.scenario_id, b.scenario_name, b.target_count, b.members, b.created_at_ms {tail}"
    )
}

fn batch(row: &AnyRow) -> Result<BatchView, sqlx::Error> {
    let counts = BatchCounts {
        total: row.try_get("target_count")?,
        queued: row.try_get("queued")?,
        running: row.try_get("running")?,
        completed: row.try_get("completed")?,
        failed: row.try_get("failed")?,
        cancelled: row.try_get("cancelled")?,
    };
    Ok(BatchView {
        id: row.try_get("id")?,
        scenario_id: row.try_get("scenario_id")?,
        scenario_name: row.try_get("scenario_name")?,
        created_at: iso(row.try_get("created_at_ms")?),
        status: counts.status(),
        progress: counts.progress(),
        counts,
    })
}

/// Batches newest first.
pub async fn list_batches(
    pool: &AnyPool,
    limit: i64,
    offset: i64,
) -> Result<Vec<BatchView>, sqlx::Error> {
    let sql = batch_sql(
        "",
        "ORDER BY b.created_at_ms DESC, b.id DESC LIMIT $1 OFFSET $2",
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
    rows.iter().map(batch).collect()
}

/// One batch with its sessions in target order (sessions deleted since are left out).
pub async fn get_batch(pool: &AnyPool, id: &str) -> Result<Option<BatchDetail>, sqlx::Error> {
    let sql = batch_sql("WHERE b.id = $1", "");
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let members: Vec<BatchMember> =
        serde_json::from_str(&row.try_get::<String, _>("members")?).unwrap_or_default();
    let rows = sqlx::query("SELECT * FROM sessions WHERE batch_id = $1")
        .bind(id.to_string())
        .fetch_all(pool)
        .await?;
    let mut found = rows
        .iter()
        .map(|r| session(r, false))
        .collect::<Result<Vec<_>, _>>()?;
    let mut sessions = Vec::with_capacity(found.len());
    for m in &members {
        let sid = m.session_id.to_string();
        if let Some(i) = found.iter().position(|s| s.id == sid) {
            sessions.push(found.swap_remove(i));
        }
    }
    Ok(Some(BatchDetail {
        batch: batch(&row)?,
        sessions,
    }))
}
