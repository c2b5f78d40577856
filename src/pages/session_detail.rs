//! `/sessions/{id}`: a session's header (status, timings, counts, latency summary, errors by
//! kind), its actions, the live log and the replay (tabs), and its latency/token charts. The
//! page renders the read model; `assets/js/session-live.js` then follows the session's event
//! stream and `assets/js/replay.js` steps through the recorded events.

use actix_web::{HttpResponse, web};
use projections::queries::{self, SessionRow};
use sailfish::TemplateSimple;
use serde_json::Value;
use uuid::Uuid;

use super::render::{Layout, PageError, html};
use super::sessions::{RowView, fmt_latency, now_ms};
use crate::routes::AppState;

/// p50 / p95 / p99 / max and the load report from the final summary (or `–` while the session runs).
struct SummaryView {
    p50: String,
    p95: String,
    p99: String,
    max: String,
    errors_by_kind: Vec<(String, i64)>,
    /// What a load shape achieved (empty without `executionConfig.load`).
    load: String,
    /// Cost with its currency, or `–`.
    cost: String,
    /// Threshold verdicts: label and whether it passed.
    thresholds: Vec<(String, bool)>,
}

fn cost_text(summary: Option<&Value>) -> String {
    let Some(s) = summary else {
        return "–".into();
    };
    match s.get("cost").and_then(Value::as_f64) {
        Some(cost) => format!(
            "{cost:.4} {}",
            s.get("currency").and_then(Value::as_str).unwrap_or("")
        ),
        None => "–".into(),
    }
}

fn threshold_badges(summary: Option<&Value>) -> Vec<(String, bool)> {
    let items = summary
        .and_then(|s| s.get("thresholds"))
        .and_then(Value::as_array);
    items
        .into_iter()
        .flatten()
        .map(|t| {
            let text = |k: &str| {
                t.get(k)
                    .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
                    .unwrap_or_default()
            };
            let label = format!(
                "{} {} ({})",
                text("metric"),
                text("condition"),
                text("actual")
            );
            (
                label,
                t.get("passed").and_then(Value::as_bool).unwrap_or(false),
            )
        })
        .collect()
}

/// "constant-arrival-rate (duration): 198 of 200 intended started, 2 dropped, peak 40 at once".
fn load_line(summary: Option<&Value>) -> String {
    let Some(load) = summary
        .and_then(|s| s.get("load"))
        .filter(|l| l.is_object())
    else {
        return String::new();
    };
    let n = |key: &str| load.get(key).and_then(Value::as_u64).unwrap_or(0);
    let intended = load
        .get("intendedConversations")
        .and_then(Value::as_u64)
        .map_or(String::new(), |i| format!(" of {i} intended"));
    format!(
        "{} ({}): {} conversations started{intended}, {} completed, {} dropped, peak {} at once",
        load.get("executor").and_then(Value::as_str).unwrap_or("?"),
        load.get("stopReason")
            .and_then(Value::as_str)
            .unwrap_or("?"),
        n("startedConversations"),
        n("completedConversations"),
        n("droppedConversations"),
        n("peakConcurrent"),
    )
}

impl SummaryView {
    fn of(summary: Option<&Value>) -> Self {
        let ms = |key: &str| fmt_latency(summary.and_then(|s| s.get(key)).and_then(Value::as_f64));
        let errors_by_kind = summary
            .and_then(|s| s.get("errorsByKind"))
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            p50: ms("p50LatencyMs"),
            p95: ms("p95LatencyMs"),
            p99: ms("p99LatencyMs"),
            max: ms("maxLatencyMs"),
            errors_by_kind,
            load: load_line(summary),
            cost: cost_text(summary),
            thresholds: threshold_badges(summary),
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "sessions/show.stpl")]
struct SessionPage {
    page: Layout,
    s: RowView,
    summary: SummaryView,
    short_id: String,
    completed_ms: i64,
    failure: String,
    restarted_from: String,
    has_replies: bool,
}

fn failure(row: &SessionRow) -> String {
    match (&row.failure_reason, &row.error) {
        (Some(reason), Some(error)) => format!("{reason}: {error}"),
        (Some(reason), None) => reason.clone(),
        (None, Some(error)) => error.clone(),
        (None, None) => String::new(),
    }
}

pub async fn show_session(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = Uuid::parse_str(&path)
        .map_err(|_| PageError::NotFound("session"))?
        .to_string();
    let row = queries::session_row(&state.read, &id)
        .await?
        .ok_or(PageError::NotFound("session"))?;
    let s = RowView::of(&row, now_ms());
    html(SessionPage {
        page: Layout::new(format!("Session {}", &id[..8]), "sessions"),
        summary: SummaryView::of(row.summary.as_ref().filter(|_| !row.is_active())),
        short_id: id[..8].to_string(),
        completed_ms: row.completed_at_ms.unwrap_or(0),
        failure: failure(&row),
        restarted_from: row.restarted_from.clone().unwrap_or_default(),
        has_replies: row.message_count > row.error_count,
        s,
    })
}
