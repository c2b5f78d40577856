//! Metric routes: a session's aggregates with their timeline (`/api/sessions/{id}/metrics`,
//! from the metrics projection) and upstream's `/api/metrics`, `/api/metrics/export` (its 17
//! columns, CSV or JSON) and `/api/dashboard/stats`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use projections::queries::{self, MetricsFilter, SessionMetrics, SessionRow};
use serde::Deserialize;
use serde_json::{Value, json};

use super::envelope::{ApiError, Envelope, JsonAny, ok, parse_id};
use super::query::ApiQuery;
use super::state::AppState;
use utoipa::IntoParams;

const STATUSES: &[&str] = &["QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"];

/// `GET /api/sessions/{id}/metrics`.
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/metrics",
    tag = "metrics",
    params(("id" = uuid::Uuid, Path, description = "Session id")),
    responses(
        (status = 200, description = "Latency percentiles, tokens, errors and cost of one session", body = Envelope<JsonAny>),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn session_metrics(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "session")?.to_string();
    queries::session_row(&state.read, &id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    Ok(ok(
        StatusCode::OK,
        queries::session_metrics(&state.read, &id).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    session_id: Option<String>,
    target_id: Option<String>,
    scenario_id: Option<String>,
    status: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// An instant as epoch ms: RFC 3339, `YYYY-MM-DD` (midnight UTC) or epoch milliseconds.
fn parse_date(field: &str, raw: &str) -> Result<i64, ApiError> {
    if let Ok(ms) = raw.parse::<i64>() {
        return Ok(ms);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(t.timestamp_millis());
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
        .ok_or_else(|| {
            ApiError::field(
                field,
                format!(
                    "must be an RFC 3339 time, a YYYY-MM-DD date or epoch milliseconds, got {raw:?}"
                ),
            )
        })
}

fn metrics_filter(q: MetricsQuery) -> Result<MetricsFilter, ApiError> {
    let status = q.status.map(|s| s.to_uppercase());
    if let Some(s) = status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return Err(ApiError::field(
            "status",
            format!("must be one of {STATUSES:?}, got {s:?}"),
        ));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 1000"));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::field("offset", "must not be negative"));
    }
    let date = |field: &str, v: Option<String>| v.map(|v| parse_date(field, &v)).transpose();
    Ok(MetricsFilter {
        session_id: q.session_id,
        target_id: q.target_id,
        scenario_id: q.scenario_id,
        status,
        start_ms: date("startDate", q.start_date)?,
        end_ms: date("endDate", q.end_date)?,
        limit,
        offset,
    })
}

fn summary_field(row: &SessionRow, name: &str) -> Option<f64> {
    row.summary.as_ref()?.get(name)?.as_f64()
}

/// Output tokens per second of wall time from start to end (`None` until it ended).
fn tokens_per_second(row: &SessionRow) -> Option<f64> {
    let ms = row.completed_at_ms? - row.started_at_ms?;
    (ms > 0).then(|| (row.tokens_out as f64 * 1000.0 / ms as f64 * 1000.0).round() / 1000.0)
}

fn metrics_row(row: &SessionRow) -> Value {
    json!({
        "id": row.id,
        "targetId": row.target_id,
        "targetName": row.target_name,
        "scenarioId": row.scenario_id,
        "scenarioName": row.scenario_name,
        "status": row.status,
        "startedAt": queries::iso_opt(row.started_at_ms),
        "completedAt": queries::iso_opt(row.completed_at_ms),
        "messageCount": row.message_count,
        "errorCount": row.error_count,
        "totalTokens": row.tokens_in.saturating_add(row.tokens_out),
        "avgResponseTimeMs": row.avg_latency_ms(),
        "p95ResponseTimeMs": summary_field(row, "p95LatencyMs"),
        "p99ResponseTimeMs": summary_field(row, "p99LatencyMs"),
        "tokensPerSecond": tokens_per_second(row),
        "cost": summary_field(row, "cost"),
        "summaryMetrics": row.summary,
    })
}

/// Upstream's aggregate over the page's COMPLETED sessions: latency weighted by replies.
fn page_aggregate(rows: &[SessionRow]) -> Value {
    let done: Vec<&SessionRow> = rows.iter().filter(|r| r.status == "COMPLETED").collect();
    let messages: i64 = done.iter().map(|r| r.message_count).sum();
    let errors: i64 = done.iter().map(|r| r.error_count).sum();
    let tokens: i64 = done.iter().map(|r| r.tokens_in + r.tokens_out).sum();
    let latency: i64 = done.iter().map(|r| r.latency_total_ms).sum();
    let replies = messages - errors;
    json!({
        "totalSessions": done.len(),
        "totalMessages": messages,
        "totalTokens": tokens,
        "totalErrors": errors,
        "avgResponseTimeMs": (replies > 0).then(|| latency as f64 / replies as f64),
        "errorRate": if messages > 0 { 100.0 * errors as f64 / messages as f64 } else { 0.0 },
    })
}

/// `GET /api/metrics`.
#[utoipa::path(
    get,
    path = "/api/metrics",
    tag = "metrics",
    params(MetricsQuery),
    responses(
        (status = 200, description = "Per-session metrics with their aggregate", body = Envelope<JsonAny>),
        (status = 400, response = crate::openapi::Invalid),
    )
)]
pub async fn list_metrics(
    state: web::Data<AppState>,
    q: ApiQuery<MetricsQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = metrics_filter(q.into_inner())?;
    let page = queries::metrics_sessions(&state.read, &filter).await?;
    Ok(ok(
        StatusCode::OK,
        json!({
            "sessions": page.rows.iter().map(metrics_row).collect::<Vec<_>>(),
            "aggregate": page_aggregate(&page.rows),
            "total": page.total,
            "limit": filter.limit,
            "offset": filter.offset,
        }),
    ))
}

/// Upstream's 17 export columns, in order.
pub const EXPORT_COLUMNS: [&str; 17] = [
    "Session ID",
    "Target",
    "Scenario",
    "Status",
    "Started At",
    "Completed At",
    "Message Count",
    "Total Tokens",
    "Avg Response Time (ms)",
    "Min Response Time (ms)",
    "Max Response Time (ms)",
    "P50 Response Time (ms)",
    "P95 Response Time (ms)",
    "P99 Response Time (ms)",
    "Error Count",
    "Error Rate (%)",
    "Tokens Per Second",
];

/// The export row: session figures from the sessions read model, latency from the metrics
/// projection's merged histogram.
fn export_row(row: &SessionRow, m: &SessionMetrics) -> Vec<Value> {
    let lat = m.totals.latency.as_ref();
    let error_rate = if row.message_count > 0 {
        (10_000.0 * row.error_count as f64 / row.message_count as f64).round() / 100.0
    } else {
        0.0
    };
    vec![
        json!(row.id),
        json!(row.target_name),
        json!(row.scenario_name),
        json!(row.status),
        json!(queries::iso_opt(row.started_at_ms)),
        json!(queries::iso_opt(row.completed_at_ms)),
        json!(row.message_count),
        json!(row.tokens_in.saturating_add(row.tokens_out)),
        json!(lat.map(|d| d.mean)),
        json!(lat.map(|d| d.min)),
        json!(lat.map(|d| d.max)),
        json!(lat.map(|d| d.p50)),
        json!(lat.map(|d| d.p95)),
        json!(lat.map(|d| d.p99)),
        json!(row.error_count),
        json!(error_rate),
        json!(tokens_per_second(row)),
    ]
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    session_id: Option<String>,
    format: Option<String>,
}

fn csv_text(values: &[Value]) -> Result<String, ApiError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let cell = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let write = |out: &mut csv::Writer<Vec<u8>>| -> Result<(), csv::Error> {
        out.write_record(EXPORT_COLUMNS)?;
        out.write_record(values.iter().map(cell))?;
        out.flush()?;
        Ok(())
    };
    write(&mut out).map_err(|e| ApiError::Unexpected(e.into()))?;
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("{e}")))?;
    String::from_utf8(bytes).map_err(|e| ApiError::Unexpected(e.into()))
}

/// `GET /api/metrics/export?sessionId&format=csv|json` (one row; 404 until the session ended).
#[utoipa::path(
    get,
    path = "/api/metrics/export",
    tag = "metrics",
    params(ExportQuery),
    responses(
        (status = 200, description = "The metrics as a CSV or JSON attachment", content((String = "text/csv"), (JsonAny = "application/json"))),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn export_metrics(
    state: web::Data<AppState>,
    q: ApiQuery<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = q.format.as_deref().unwrap_or("csv");
    if !matches!(format, "csv" | "json") {
        return Err(ApiError::field(
            "format",
            format!("must be \"csv\" or \"json\", got {format:?}"),
        ));
    }
    let raw = q
        .session_id
        .as_deref()
        .ok_or_else(|| ApiError::field("sessionId", "is required"))?;
    let id = parse_id(raw, "session")?.to_string();
    let row = queries::session_row(&state.read, &id)
        .await?
        .filter(|r| r.summary.is_some())
        .ok_or(ApiError::NotFound("session metrics"))?;
    let values = export_row(&row, &queries::session_metrics(&state.read, &id).await?);
    let file = format!("attachment; filename=\"session-{id}-metrics.{format}\"");
    let response = if format == "csv" {
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header(("Content-Disposition", file))
            .body(csv_text(&values)?)
    } else {
        let object: serde_json::Map<String, Value> = EXPORT_COLUMNS
            .iter()
            .map(|c| (*c).to_owned())
            .zip(values)
            .collect();
        HttpResponse::Ok()
            .insert_header(("Content-Disposition", file))
            .json(object)
    };
    Ok(response)
}

/// `GET /api/dashboard/stats` (upstream's fields).
#[utoipa::path(
    get,
    path = "/api/dashboard/stats",
    tag = "metrics",
    responses(
        (status = 200, description = "Totals for the command center", body = Envelope<JsonAny>),
    )
)]
pub async fn dashboard_stats(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let now = chrono::Utc::now().timestamp_millis();
    let totals = queries::dashboard_totals(&state.read, now).await?;
    let outcomes = queries::outcome_totals(&state.read).await?;
    let recent = queries::recent_activity(&state.read, 10).await?;
    let live: Vec<SessionRow> = queries::active_sessions(&state.read, 100)
        .await?
        .into_iter()
        .filter(|s| s.status == "RUNNING")
        .collect();
    let error_rate = if totals.sessions > 0 {
        outcomes.failed as f64 / totals.sessions as f64
    } else {
        0.0
    };
    let live_view: Vec<Value> = live
        .iter()
        .map(|s| {
            json!({"id": s.id, "targetName": s.target_name, "scenarioName": s.scenario_name,
            "startedAt": queries::iso_opt(s.started_at_ms), "messageCount": s.message_count})
        })
        .collect();
    Ok(ok(
        StatusCode::OK,
        json!({
            "counts": {"targets": totals.targets, "scenarios": totals.scenarios,
                "activeSessions": totals.active, "totalSessions": totals.sessions},
            "metrics": {
                "avgResponseTimeMs": outcomes.avg_latency_ms(),
                "totalTokensConsumed": totals.tokens_in.saturating_add(totals.tokens_out),
                "errorRate": error_rate,
                "sessionsLast24h": totals.sessions_24h,
            },
            "recentSessions": recent.iter().map(metrics_row).collect::<Vec<_>>(),
            "liveSessionCount": live_view.len(),
            "liveSessions": live_view,
        }),
    ))
}
