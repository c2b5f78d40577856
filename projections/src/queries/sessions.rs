//! Queries over the `sessions` and `session_messages` read models.

use serde::Serialize;
use serde_json::Value;
use sqlx::{AnyPool, Row, any::AnyRow};

use super::dashboard::{SessionRow, decode_row};
use super::time::{iso, iso_opt};

/// A session row as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionView {
    pub id: String,
    pub target_id: String,
    pub target_name: String,
    pub scenario_id: Option<String>,
    pub scenario_name: String,
    pub status: String,
    pub queued_at: String,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub message_count: i64,
    pub error_count: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub avg_latency_ms: f64,
    pub summary_metrics: Option<Value>,
    pub failure_reason: Option<String>,
    pub error: Option<String>,
    pub restarted_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_config: Option<Value>,
}

/// One exchange attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageView {
    pub message_index: i64,
    pub attempt: i64,
    pub repetition_index: i64,
    pub request: String,
    pub response: Option<String>,
    pub outcome: String,
    pub http_status: Option<i64>,
    pub latency_ms: Option<i64>,
    pub tokens_in: Option<i64>,
    pub tokens_out: Option<i64>,
    pub tokens_estimated: Option<bool>,
    pub raw_size: Option<i64>,
    pub error_kind: Option<String>,
    pub error: Option<String>,
    pub action: Option<String>,
    pub injected: Option<String>,
    pub ttft_ms: Option<i64>,
    pub chunk_count: Option<i64>,
    pub inter_chunk_mean_ms: Option<i64>,
    pub inter_chunk_max_ms: Option<i64>,
    pub partial: Option<String>,
    /// Messages the request carried (system prompt + earlier turns + this one).
    pub context_messages: Option<i64>,
    /// Estimated tokens the request carried.
    pub context_tokens: Option<i64>,
    /// Time the exchange waited before it was sent (rate limiter, back-off, late start).
    pub wait_ms: Option<i64>,
    /// Cost of the reply at the session's model price.
    pub cost: Option<f64>,
    /// 0–1 similarity of the reply to earlier replies of its conversation and session.
    pub repetition_score: Option<f64>,
    /// 0–1 quality heuristic of the reply (see `docs/report.md`).
    pub quality_score: Option<f64>,
    pub sent_at: String,
    pub received_at: Option<String>,
}

/// Filters and page of `GET /api/sessions`.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub status: Option<String>,
    pub target_id: Option<String>,
    pub scenario_id: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// A page of sessions plus the total matching the filters.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionPage {
    pub sessions: Vec<SessionView>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

pub(super) fn session(row: &AnyRow, with_config: bool) -> Result<SessionView, sqlx::Error> {
    let execution_config = if with_config {
        let text: Option<String> = row.try_get("execution_config")?;
        text.and_then(|t| serde_json::from_str(&t).ok())
    } else {
        None
    };
    Ok(SessionView::from_row(decode_row(row)?, execution_config))
}

impl SessionView {
    /// The API's view of a read-model row: RFC 3339 times and the mean reply latency.
    fn from_row(r: SessionRow, execution_config: Option<Value>) -> Self {
        Self {
            avg_latency_ms: r.avg_latency_ms().unwrap_or(0.0),
            queued_at: iso(r.queued_at_ms),
            started_at: iso_opt(r.started_at_ms),
            completed_at: iso_opt(r.completed_at_ms),
            id: r.id,
            target_id: r.target_id,
            target_name: r.target_name,
            scenario_id: r.scenario_id,
            scenario_name: r.scenario_name,
            status: r.status,
            message_count: r.message_count,
            error_count: r.error_count,
            tokens_in: r.tokens_in,
            tokens_out: r.tokens_out,
            summary_metrics: r.summary,
            failure_reason: r.failure_reason,
            error: r.error,
            restarted_from: r.restarted_from,
            execution_config,
        }
    }
}

/// `WHERE` clause with only the filters that are set (so indexes apply) and its bind values.
pub(super) fn filter_clause(f: &SessionFilter) -> (String, Vec<String>) {
    let columns = [
        ("status", &f.status),
        ("target_id", &f.target_id),
        ("scenario_id", &f.scenario_id),
    ];
    let mut conditions = Vec::new();
    let mut binds = Vec::new();
    for (column, value) in columns {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            binds.push(v.clone());
            conditions.push(format!("{column} = ${}", binds.len()));
        }
    }
    let clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    (clause, binds)
}

/// Sessions newest first, filtered and paged.
pub async fn list_sessions(pool: &AnyPool, f: &SessionFilter) -> Result<SessionPage, sqlx::Error> {
    let (clause, binds) = filter_clause(f);
    let n = binds.len();
    let list_sql = format!(
        "SELECT * FROM sessions {clause} ORDER BY queued_at_ms DESC, id DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let mut list = sqlx::query(sqlx::AssertSqlSafe(list_sql));
    for b in &binds {
        list = list.bind(b.clone());
    }
    let rows = list.bind(f.limit).bind(f.offset).fetch_all(pool).await?;
    let mut count = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM sessions {clause}"
    )));
    for b in &binds {
        count = count.bind(b.clone());
    }
    let total: i64 = count.fetch_one(pool).await?;
    let sessions = rows
        .iter()
        .map(|r| session(r, false))
        .collect::<Result<_, _>>()?;
    Ok(SessionPage {
        sessions,
        total,
        limit: f.limit,
        offset: f.offset,
    })
}

pub async fn get_session(pool: &AnyPool, id: &str) -> Result<Option<SessionView>, sqlx::Error> {
    let row = sqlx::query("SELECT * FROM sessions WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(|r| session(r, true)).transpose()
}

pub(super) fn message(row: &AnyRow) -> Result<MessageView, sqlx::Error> {
    let estimated: Option<i64> = row.try_get("tokens_estimated")?;
    Ok(MessageView {
        message_index: row.try_get("message_index")?,
        attempt: row.try_get("attempt")?,
        repetition_index: row.try_get("repetition_index")?,
        request: row.try_get("request")?,
        response: row.try_get("response")?,
        outcome: row.try_get("outcome")?,
        http_status: row.try_get("http_status")?,
        latency_ms: row.try_get("latency_ms")?,
        tokens_in: row.try_get("tokens_in")?,
        tokens_out: row.try_get("tokens_out")?,
        tokens_estimated: estimated.map(|e| e != 0),
        raw_size: row.try_get("raw_size")?,
        error_kind: row.try_get("error_kind")?,
        error: row.try_get("error")?,
        action: row.try_get("action")?,
        injected: row.try_get("injected")?,
        ttft_ms: row.try_get("ttft_ms")?,
        chunk_count: row.try_get("chunk_count")?,
        inter_chunk_mean_ms: row.try_get("inter_chunk_mean_ms")?,
        inter_chunk_max_ms: row.try_get("inter_chunk_max_ms")?,
        partial: row.try_get("partial")?,
        context_messages: row.try_get("context_messages")?,
        context_tokens: row.try_get("context_tokens")?,
        wait_ms: row.try_get("wait_ms")?,
        cost: row.try_get("cost")?,
        repetition_score: row.try_get("repetition_score")?,
        quality_score: row.try_get("quality_score")?,
        sent_at: iso(row.try_get("sent_at_ms")?),
        received_at: iso_opt(row.try_get("received_at_ms")?),
    })
}

/// Exchange rows of a session with `message_index > after`, in order.
pub async fn list_messages(
    pool: &AnyPool,
    session_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<MessageView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT * FROM session_messages WHERE session_id = $1 AND message_index > $2
         ORDER BY message_index, attempt LIMIT $3",
    )
    .bind(session_id.to_string())
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(message).collect()
}
