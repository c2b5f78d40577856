//! `/batches` (every batch with its progress) and `/batches/{id}`: the batch's sessions side by
//! side, one row per target, to compare how each target handled the same scenario.

use actix_web::{HttpResponse, web};
use projections::queries::{self, BatchDetail, BatchView, SessionView};
use sailfish::TemplateSimple;
use serde_json::Value;

use super::render::{Layout, PageError, html};
use crate::routes::AppState;

#[derive(TemplateSimple)]
#[template(path = "batches/index.stpl")]
struct BatchesPage {
    page: Layout,
    batches: Vec<BatchView>,
}

/// One target's results in the comparison table.
struct Comparison {
    session_id: String,
    target_name: String,
    status: String,
    messages: i64,
    errors: i64,
    error_rate: String,
    avg_latency: String,
    p95_latency: String,
    tokens: String,
    cost: String,
}

#[derive(TemplateSimple)]
#[template(path = "batches/show.stpl")]
struct BatchPage {
    page: Layout,
    batch: BatchView,
    rows: Vec<Comparison>,
}

fn summary_number(summary: &Option<Value>, key: &str) -> Option<f64> {
    summary
        .as_ref()
        .and_then(|s| s.get(key))
        .and_then(Value::as_f64)
}

impl Comparison {
    fn of(s: SessionView) -> Self {
        let p95 = summary_number(&s.summary_metrics, "p95LatencyMs");
        let cost = summary_number(&s.summary_metrics, "cost");
        let rate = if s.message_count > 0 {
            format!(
                "{:.1} %",
                100.0 * s.error_count as f64 / s.message_count as f64
            )
        } else {
            "–".into()
        };
        Self {
            error_rate: rate,
            avg_latency: format!("{:.0} ms", s.avg_latency_ms),
            p95_latency: p95.map_or("–".into(), |v| format!("{v:.0} ms")),
            tokens: format!("{} / {}", s.tokens_in, s.tokens_out),
            cost: cost.map_or("–".into(), |c| format!("{c:.4}")),
            session_id: s.id,
            target_name: s.target_name,
            status: s.status,
            messages: s.message_count,
            errors: s.error_count,
        }
    }
}

pub async fn index(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let batches = queries::list_batches(&state.read, 100, 0).await?;
    html(BatchesPage {
        page: Layout::new("Batches", "batches"),
        batches,
    })
}

pub async fn show(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = uuid::Uuid::parse_str(&path).map_err(|_| PageError::NotFound("batch"))?;
    let BatchDetail { batch, sessions } = queries::get_batch(&state.read, &id.to_string())
        .await?
        .ok_or(PageError::NotFound("batch"))?;
    html(BatchPage {
        page: Layout::new(format!("Batch {}", batch.scenario_name), "batches"),
        batch,
        rows: sessions.into_iter().map(Comparison::of).collect(),
    })
}
