//! Queries behind the metrics page: the latest completed sessions with their latency summary
//! and token counts, and totals over a time range. Both run on `sessions_finished_idx`
//! (`migrations/*/0005_dashboard.sql`), the totals index-only.

use serde::Serialize;
use sqlx::{AnyPool, Row, any::AnyRow};

/// One completed session as the metrics charts plot it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedSession {
    pub id: String,
    pub target_name: String,
    pub scenario_name: String,
    pub started_at_ms: Option<i64>,
    pub completed_at_ms: i64,
    pub message_count: i64,
    pub error_count: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// Mean reply latency; `None` when no reply arrived.
    pub avg_latency_ms: Option<f64>,
    pub p50_latency_ms: Option<i64>,
    pub p95_latency_ms: Option<i64>,
    pub max_latency_ms: Option<i64>,
    pub p99_latency_ms: Option<i64>,
    /// Output tokens per second from start to completion.
    pub tokens_per_second: Option<f64>,
    /// Cost at the frozen model price (absent without a price).
    pub cost: Option<f64>,
}

/// Totals over the completed sessions of a range.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RangeTotals {
    pub sessions: i64,
    pub messages: i64,
    pub errors: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub latency_total_ms: i64,
}

impl RangeTotals {
    /// Mean reply latency over the range, weighted by replies.
    pub fn avg_latency_ms(&self) -> Option<f64> {
        let replies = self.messages - self.errors;
        (replies > 0).then(|| self.latency_total_ms as f64 / replies as f64)
    }

    /// Failed attempts in percent of all attempts.
    pub fn error_rate(&self) -> f64 {
        if self.messages > 0 {
            100.0 * self.errors as f64 / self.messages as f64
        } else {
            0.0
        }
    }
}

fn completed(row: &AnyRow) -> Result<CompletedSession, sqlx::Error> {
    let summary: Option<String> = row.try_get("summary")?;
    let summary: serde_json::Value = summary
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let field = |name: &str| summary.get(name).and_then(serde_json::Value::as_i64);
    let (messages, errors, latency): (i64, i64, i64) = (
        row.try_get("message_count")?,
        row.try_get("error_count")?,
        row.try_get("latency_total_ms")?,
    );
    let replies = messages - errors;
    let (started, completed_at, tokens_out): (Option<i64>, i64, i64) = (
        row.try_get("started_at_ms")?,
        row.try_get("completed_at_ms")?,
        row.try_get("tokens_out")?,
    );
    Ok(CompletedSession {
        id: row.try_get("id")?,
        target_name: row.try_get("target_name")?,
        scenario_name: row.try_get("scenario_name")?,
        started_at_ms: started,
        completed_at_ms: completed_at,
        message_count: messages,
        error_count: errors,
        tokens_in: row.try_get("tokens_in")?,
        tokens_out,
        avg_latency_ms: (replies > 0).then(|| latency as f64 / replies as f64),
        p50_latency_ms: field("p50LatencyMs").filter(|_| replies > 0),
        p95_latency_ms: field("p95LatencyMs").filter(|_| replies > 0),
        max_latency_ms: field("maxLatencyMs").filter(|_| replies > 0),
        p99_latency_ms: field("p99LatencyMs").filter(|_| replies > 0),
        tokens_per_second: started
            .map(|s| completed_at - s)
            .filter(|ms| *ms > 0)
            .map(|ms| tokens_out as f64 * 1000.0 / ms as f64),
        cost: summary.get("cost").and_then(serde_json::Value::as_f64),
    })
}

/// The latest `limit` sessions completed at or after `since_ms`, newest first.
pub async fn completed_sessions(
    pool: &AnyPool,
    since_ms: i64,
    limit: i64,
) -> Result<Vec<CompletedSession>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, target_name, scenario_name, started_at_ms, completed_at_ms, message_count, error_count,
                tokens_in, tokens_out, latency_total_ms, summary
         FROM sessions WHERE completed_at_ms IS NOT NULL AND completed_at_ms >= $1 AND status = 'COMPLETED'
         ORDER BY completed_at_ms DESC, id DESC LIMIT $2",
    )
    .bind(since_ms)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(completed).collect()
}

/// Totals over every session completed at or after `since_ms`.
pub async fn completed_totals(pool: &AnyPool, since_ms: i64) -> Result<RangeTotals, sqlx::Error> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(message_count), 0) AS BIGINT) AS messages,
                CAST(COALESCE(SUM(error_count), 0) AS BIGINT) AS errors,
                CAST(COALESCE(SUM(tokens_in), 0) AS BIGINT) AS tokens_in,
                CAST(COALESCE(SUM(tokens_out), 0) AS BIGINT) AS tokens_out,
                CAST(COALESCE(SUM(latency_total_ms), 0) AS BIGINT) AS latency
         FROM sessions WHERE completed_at_ms IS NOT NULL AND completed_at_ms >= $1 AND status = 'COMPLETED'",
    )
    .bind(since_ms)
    .fetch_one(pool)
    .await?;
    Ok(RangeTotals {
        sessions: row.try_get("n")?,
        messages: row.try_get("messages")?,
        errors: row.try_get("errors")?,
        tokens_in: row.try_get("tokens_in")?,
        tokens_out: row.try_get("tokens_out")?,
        latency_total_ms: row.try_get("latency")?,
    })
}
