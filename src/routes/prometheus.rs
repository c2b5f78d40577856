//! `GET /metrics` with `Accept: application/openmetrics-text` or `text/plain`: Prometheus text — exchange counters and histograms per target
//! from the event log, plus gauges read at scrape time.

use actix_web::{HttpResponse, web};
use sqlx::Row;

use super::envelope::ApiError;
use super::state::AppState;

/// Gauges in the OpenMetrics text format: sessions by status, log head, read-model lag.
async fn gauges(state: &AppState) -> Result<String, ApiError> {
    let rows =
        sqlx::query("SELECT status, CAST(COUNT(*) AS BIGINT) AS n FROM sessions GROUP BY status")
            .fetch_all(&state.read)
            .await?;
    let mut out = String::from(
        "# HELP krawall_sessions Sessions by status.\n# TYPE krawall_sessions gauge\n",
    );
    for row in &rows {
        let (status, n): (String, i64) = (row.try_get("status")?, row.try_get("n")?);
        out.push_str(&format!("krawall_sessions{{status=\"{status}\"}} {n}\n"));
    }
    let head = state.store.head_position().await.unwrap_or(0);
    let projected = state.projections.position();
    out.push_str(&format!(
        "# HELP krawall_event_log_head Position of the newest event.\n# TYPE krawall_event_log_head gauge\nkrawall_event_log_head {head}\n\
         # HELP krawall_read_model_lag_events Events not yet in the read models.\n# TYPE krawall_read_model_lag_events gauge\nkrawall_read_model_lag_events {}\n",
        (head - projected).max(0)
    ));
    Ok(out)
}

/// Whether the request asks for a text exposition format (Prometheus sends
/// `application/openmetrics-text` and `text/plain;version=0.0.4`), not for HTML.
pub fn wants_text(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
    ctx.head()
        .headers()
        .get_all(actix_web::http::header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .any(|accept| accept.contains("openmetrics-text") || accept.contains("text/plain"))
}

pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state.metrics.encode(&gauges(&state).await?);
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(text))
}
