//! `GET /metrics` with `Accept: application/openmetrics-text` or `text/plain`: Prometheus text — exchange counters and histograms per target
//! from the event log, plus the families read at scrape time (gauges, append latency, nodes).

use actix_web::{HttpResponse, web};
use actors::runtime::QueryNodes;
use sqlx::Row;

use super::envelope::ApiError;
use super::state::AppState;
use crate::prometheus::ScrapeText;

/// The scrape-time families (`crate::prometheus::SCRAPED`): sessions by status, log head,
/// read-model lag, this node's append latency, and the nodes sharing the database.
async fn gauges(state: &AppState) -> Result<String, ApiError> {
    let rows =
        sqlx::query("SELECT status, CAST(COUNT(*) AS BIGINT) AS n FROM sessions GROUP BY status")
            .fetch_all(&state.read)
            .await?;
    let mut out = ScrapeText::default();
    out.family("krawall_sessions");
    for row in &rows {
        let (status, n): (String, i64) = (row.try_get("status")?, row.try_get("n")?);
        out.sample("krawall_sessions", &[("status", &status)], n);
    }
    let head = state.store.head_position().await.unwrap_or(0);
    let lag = (head - state.projections.position()).max(0);
    out.family("krawall_event_log_head");
    out.sample("krawall_event_log_head", &[], head);
    out.family("krawall_read_model_lag_events");
    out.sample("krawall_read_model_lag_events", &[], lag);
    out.append_latency(&state.store.append_latency());
    // A database error leaves the node families out of this scrape rather than failing it.
    if let Ok(Ok(nodes)) = state.commands.dispatcher().send(QueryNodes).await {
        out.nodes(&nodes);
    }
    Ok(out.finish())
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
