//! Queries behind the dashboard pages: command-center totals, active sessions, recent activity
//! and the paged sessions list. Every query is bounded and runs on an index (see
//! `migrations/*/0005_dashboard.sql`): totals come from the partial covering index over finished
//! sessions plus the few active ones, "last 24 h" figures from index ranges.

use serde::Serialize;
use serde_json::Value;
use sqlx::{AnyPool, Row, any::AnyRow};

use super::sessions::SessionFilter;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Figures of the command center's cards.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardTotals {
    pub targets: i64,
    pub scenarios: i64,
    pub sessions: i64,
    /// Queued or running sessions.
    pub active: i64,
    /// Exchange attempts that ended (reply or failure), over all sessions.
    pub messages: i64,
    pub errors: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub sessions_24h: i64,
    /// Messages sent in the last 24 hours.
    pub messages_24h: i64,
}

impl DashboardTotals {
    /// Failed exchange attempts in percent of all attempts (0 when nothing ran).
    pub fn error_rate(&self) -> f64 {
        if self.messages > 0 {
            100.0 * self.errors as f64 / self.messages as f64
        } else {
            0.0
        }
    }
}

/// A session as the dashboard lists it: times stay epoch milliseconds for the page to format.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRow {
    pub id: String,
    pub target_id: String,
    pub target_name: String,
    pub scenario_id: Option<String>,
    pub scenario_name: String,
    pub status: String,
    pub queued_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub completed_at_ms: Option<i64>,
    pub message_count: i64,
    pub error_count: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub latency_total_ms: i64,
    pub summary: Option<Value>,
    pub failure_reason: Option<String>,
    pub error: Option<String>,
    pub restarted_from: Option<String>,
}

impl SessionRow {
    /// Mean latency of the replies (failures excluded), `None` before the first reply.
    pub fn avg_latency_ms(&self) -> Option<f64> {
        let replies = self.message_count - self.error_count;
        (replies > 0).then(|| self.latency_total_ms as f64 / replies as f64)
    }

    /// Start (or queue time) to completion, or to `now_ms` while it runs.
    pub fn duration_ms(&self, now_ms: i64) -> Option<i64> {
        let start = self.started_at_ms?;
        Some(
            self.completed_at_ms
                .unwrap_or(now_ms)
                .saturating_sub(start)
                .max(0),
        )
    }

    /// When the session last changed state: completion, start or queueing.
    pub fn activity_at_ms(&self) -> i64 {
        self.completed_at_ms
            .or(self.started_at_ms)
            .unwrap_or(self.queued_at_ms)
    }

    pub fn is_active(&self) -> bool {
        self.status == "QUEUED" || self.status == "RUNNING"
    }
}

/// One page of the sessions list and the number of sessions matching its filters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionRows {
    pub rows: Vec<SessionRow>,
    pub total: i64,
}

/// Id and name of a target or scenario (for pickers and filters).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedRef {
    pub id: String,
    pub name: String,
}

const ROW_COLUMNS: &str = "id, target_id, target_name, scenario_id, scenario_name, status, queued_at_ms, \
    started_at_ms, completed_at_ms, message_count, error_count, tokens_in, tokens_out, latency_total_ms, \
    summary, failure_reason, error, restarted_from";

pub(super) fn decode_row(row: &AnyRow) -> Result<SessionRow, sqlx::Error> {
    let summary: Option<String> = row.try_get("summary")?;
    Ok(SessionRow {
        id: row.try_get("id")?,
        target_id: row.try_get("target_id")?,
        target_name: row.try_get("target_name")?,
        scenario_id: row.try_get("scenario_id")?,
        scenario_name: row.try_get("scenario_name")?,
        status: row.try_get("status")?,
        queued_at_ms: row.try_get("queued_at_ms")?,
        started_at_ms: row.try_get("started_at_ms")?,
        completed_at_ms: row.try_get("completed_at_ms")?,
        message_count: row.try_get("message_count")?,
        error_count: row.try_get("error_count")?,
        tokens_in: row.try_get("tokens_in")?,
        tokens_out: row.try_get("tokens_out")?,
        latency_total_ms: row.try_get("latency_total_ms")?,
        summary: summary.and_then(|s| serde_json::from_str(&s).ok()),
        failure_reason: row.try_get("failure_reason")?,
        error: row.try_get("error")?,
        restarted_from: row.try_get("restarted_from")?,
    })
}

const SUMS: &str = "COUNT(*) AS n, CAST(COALESCE(SUM(message_count), 0) AS BIGINT) AS messages, \
    CAST(COALESCE(SUM(error_count), 0) AS BIGINT) AS errors, CAST(COALESCE(SUM(tokens_in), 0) AS BIGINT) AS tokens_in, \
    CAST(COALESCE(SUM(tokens_out), 0) AS BIGINT) AS tokens_out";

async fn sums(pool: &AnyPool, filter: &str) -> Result<[i64; 5], sqlx::Error> {
    let sql = format!("SELECT {SUMS} FROM sessions WHERE {filter}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_one(pool)
        .await?;
    Ok([
        row.try_get("n")?,
        row.try_get("messages")?,
        row.try_get("errors")?,
        row.try_get("tokens_in")?,
        row.try_get("tokens_out")?,
    ])
}

async fn count(pool: &AnyPool, sql: &'static str, bind: Option<i64>) -> Result<i64, sqlx::Error> {
    let query = sqlx::query_scalar(sql);
    match bind {
        Some(v) => query.bind(v).fetch_one(pool).await,
        None => query.fetch_one(pool).await,
    }
}

/// The command center's totals; `now_ms` anchors the "last 24 h" figures.
pub async fn dashboard_totals(pool: &AnyPool, now_ms: i64) -> Result<DashboardTotals, sqlx::Error> {
    // Finished sessions: index-only over `sessions_finished_idx`; active ones: a few rows.
    let finished = sums(pool, "completed_at_ms IS NOT NULL").await?;
    let active = sums(pool, "status IN ('QUEUED', 'RUNNING')").await?;
    let since = now_ms - DAY_MS;
    Ok(DashboardTotals {
        targets: count(pool, "SELECT COUNT(*) FROM targets", None).await?,
        scenarios: count(pool, "SELECT COUNT(*) FROM scenarios", None).await?,
        sessions: finished[0].saturating_add(active[0]),
        active: active[0],
        messages: finished[1].saturating_add(active[1]),
        errors: finished[2].saturating_add(active[2]),
        tokens_in: finished[3].saturating_add(active[3]),
        tokens_out: finished[4].saturating_add(active[4]),
        sessions_24h: count(
            pool,
            "SELECT COUNT(*) FROM sessions WHERE queued_at_ms >= $1",
            Some(since),
        )
        .await?,
        messages_24h: count(
            pool,
            "SELECT COUNT(*) FROM session_messages WHERE sent_at_ms >= $1",
            Some(since),
        )
        .await?,
    })
}

async fn rows(pool: &AnyPool, sql: String, limit: i64) -> Result<Vec<SessionRow>, sqlx::Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(decode_row).collect()
}

/// Queued and running sessions, newest first.
pub async fn active_sessions(pool: &AnyPool, limit: i64) -> Result<Vec<SessionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM sessions WHERE status IN ('QUEUED', 'RUNNING') ORDER BY queued_at_ms DESC, id DESC LIMIT $1"
    );
    rows(pool, sql, limit).await
}

/// The latest `limit` state changes: sessions recently finished or queued, newest first.
pub async fn recent_activity(pool: &AnyPool, limit: i64) -> Result<Vec<SessionRow>, sqlx::Error> {
    let finished = format!(
        "SELECT {ROW_COLUMNS} FROM sessions WHERE completed_at_ms IS NOT NULL ORDER BY completed_at_ms DESC, id DESC LIMIT $1"
    );
    let queued =
        format!("SELECT {ROW_COLUMNS} FROM sessions ORDER BY queued_at_ms DESC, id DESC LIMIT $1");
    let mut all = rows(pool, finished, limit).await?;
    for row in rows(pool, queued, limit).await? {
        if !all.iter().any(|r| r.id == row.id) {
            all.push(row);
        }
    }
    all.sort_by(|a, b| {
        b.activity_at_ms()
            .cmp(&a.activity_at_ms())
            .then_with(|| b.id.cmp(&a.id))
    });
    all.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(all)
}

/// One session by id.
pub async fn session_row(pool: &AnyPool, id: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    let sql = format!("SELECT {ROW_COLUMNS} FROM sessions WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(decode_row).transpose()
}

/// A page of sessions, newest first. Only the filters that are set enter the SQL, so each
/// combination runs on its `(column, queued_at_ms, id)` index.
pub async fn session_rows(pool: &AnyPool, f: &SessionFilter) -> Result<SessionRows, sqlx::Error> {
    let filters = [
        ("status", &f.status),
        ("target_id", &f.target_id),
        ("scenario_id", &f.scenario_id),
    ];
    let mut binds = Vec::new();
    let mut clauses = Vec::new();
    for (column, value) in filters {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            binds.push(v.to_string());
            clauses.push(format!("{column} = ${}", binds.len()));
        }
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let n = binds.len();
    // Deferred join: the page's ids come from the covering `(column, queued_at_ms, id)` index,
    // so a deep OFFSET skips index entries, not rows.
    let ids = format!(
        "SELECT id FROM sessions {filter} ORDER BY queued_at_ms DESC, id DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let list_sql = format!(
        "SELECT {ROW_COLUMNS} FROM sessions WHERE id IN ({ids}) ORDER BY queued_at_ms DESC, id DESC"
    );
    let mut list = sqlx::query(sqlx::AssertSqlSafe(list_sql));
    let mut total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM sessions {filter}"
    )));
    for b in &binds {
        list = list.bind(b.clone());
        total = total.bind(b.clone());
    }
    let rows = list.bind(f.limit).bind(f.offset).fetch_all(pool).await?;
    Ok(SessionRows {
        rows: rows.iter().map(decode_row).collect::<Result<_, _>>()?,
        total: total.fetch_one(pool).await?,
    })
}

async fn names(
    pool: &AnyPool,
    table: &'static str,
    limit: i64,
) -> Result<Vec<NamedRef>, sqlx::Error> {
    let sql = format!("SELECT id, name FROM {table} ORDER BY name, id LIMIT $1");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(NamedRef {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
            })
        })
        .collect()
}

/// Targets by name (at most `limit`), for pickers.
pub async fn target_names(pool: &AnyPool, limit: i64) -> Result<Vec<NamedRef>, sqlx::Error> {
    names(pool, "targets", limit).await
}

/// Scenarios by name (at most `limit`), for pickers.
pub async fn scenario_names(pool: &AnyPool, limit: i64) -> Result<Vec<NamedRef>, sqlx::Error> {
    names(pool, "scenarios", limit).await
}
