//! Queries behind upstream's `GET /api/metrics` (sessions filtered by id, target, scenario,
//! status and queue time, paged) and `GET /api/dashboard/stats` (failed-session count).

use sqlx::{AnyPool, Row};

use super::dashboard::{SessionRow, SessionRows, decode_row};

/// Filters of `GET /api/metrics`; only the ones that are set enter the SQL.
#[derive(Debug, Clone, Default)]
pub struct MetricsFilter {
    pub session_id: Option<String>,
    pub target_id: Option<String>,
    pub scenario_id: Option<String>,
    pub status: Option<String>,
    /// Queued at or after (epoch ms).
    pub start_ms: Option<i64>,
    /// Queued at or before (epoch ms).
    pub end_ms: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

enum Bind {
    Text(String),
    Int(i64),
}

fn clause(f: &MetricsFilter) -> (String, Vec<Bind>) {
    let mut binds = Vec::new();
    let mut conditions = Vec::new();
    let texts = [
        ("id", &f.session_id),
        ("target_id", &f.target_id),
        ("scenario_id", &f.scenario_id),
        ("status", &f.status),
    ];
    for (column, value) in texts {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            binds.push(Bind::Text(v.to_owned()));
            conditions.push(format!("{column} = ${}", binds.len()));
        }
    }
    for (op, value) in [(">=", f.start_ms), ("<=", f.end_ms)] {
        if let Some(v) = value {
            binds.push(Bind::Int(v));
            conditions.push(format!("queued_at_ms {op} ${}", binds.len()));
        }
    }
    let sql = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    (sql, binds)
}

const COLUMNS: &str = "id, target_id, target_name, scenario_id, scenario_name, status, queued_at_ms, \
    started_at_ms, completed_at_ms, message_count, error_count, tokens_in, tokens_out, latency_total_ms, \
    summary, failure_reason, error, restarted_from";

/// A page of sessions (newest first) matching `f`, and how many match.
pub async fn metrics_sessions(
    pool: &AnyPool,
    f: &MetricsFilter,
) -> Result<SessionRows, sqlx::Error> {
    let (filter, binds) = clause(f);
    let n = binds.len();
    let list_sql = format!(
        "SELECT {COLUMNS} FROM sessions {filter} ORDER BY queued_at_ms DESC, id DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let mut list = sqlx::query(sqlx::AssertSqlSafe(list_sql));
    let mut total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM sessions {filter}"
    )));
    for b in &binds {
        (list, total) = match b {
            Bind::Text(t) => (list.bind(t.clone()), total.bind(t.clone())),
            Bind::Int(i) => (list.bind(*i), total.bind(*i)),
        };
    }
    let rows = list.bind(f.limit).bind(f.offset).fetch_all(pool).await?;
    let rows: Vec<SessionRow> = rows.iter().map(decode_row).collect::<Result<_, _>>()?;
    Ok(SessionRows {
        rows,
        total: total.fetch_one(pool).await?,
    })
}

/// Over every session: how many ended FAILED, replies and their summed latency.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OutcomeTotals {
    pub failed: i64,
    pub replies: i64,
    pub latency_total_ms: i64,
}

impl OutcomeTotals {
    /// Mean reply latency over every session; `None` before any reply.
    pub fn avg_latency_ms(&self) -> Option<f64> {
        (self.replies > 0).then(|| self.latency_total_ms as f64 / self.replies as f64)
    }
}

/// Upstream's dashboard figures: failed sessions (its error rate = failed / all sessions) and
/// the mean reply latency.
pub async fn outcome_totals(pool: &AnyPool) -> Result<OutcomeTotals, sqlx::Error> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed,
                CAST(COALESCE(SUM(message_count - error_count), 0) AS BIGINT) AS replies,
                CAST(COALESCE(SUM(latency_total_ms), 0) AS BIGINT) AS latency
         FROM sessions",
    )
    .fetch_one(pool)
    .await?;
    Ok(OutcomeTotals {
        failed: row.try_get("failed")?,
        replies: row.try_get("replies")?,
        latency_total_ms: row.try_get("latency")?,
    })
}
