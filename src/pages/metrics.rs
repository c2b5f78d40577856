//! `/metrics`: the last completed sessions of a time range (24 h, 7 d, 30 d, all) with their
//! average, p95 and p99 latency, tokens, tokens/s and cost, as interactive charts (`assets/js/charts.js`) and a
//! table, plus totals over the whole range.

use actix_web::{HttpResponse, web};
use projections::queries::{self, CompletedSession, RangeTotals};
use sailfish::TemplateSimple;
use serde::Deserialize;
use serde_json::json;

use super::render::{Layout, PageError, html};
use super::sessions::{fmt_duration, fmt_int, fmt_latency, fmt_time, now_ms};
use crate::routes::AppState;

/// Sessions plotted and listed.
const LAST_N: i64 = 50;
const HOUR_MS: i64 = 3_600_000;
/// `?range=` values: label, key, length (None = everything).
const RANGES: &[(&str, &str, Option<i64>)] = &[
    ("24 hours", "24h", Some(24 * HOUR_MS)),
    ("7 days", "7d", Some(7 * 24 * HOUR_MS)),
    ("30 days", "30d", Some(30 * 24 * HOUR_MS)),
    ("All time", "all", None),
];
const DEFAULT_RANGE: &str = "7d";

#[derive(Debug, Deserialize)]
pub struct MetricsQuery {
    range: Option<String>,
}

/// One table row, preformatted.
struct MetricsRow {
    id: String,
    target_name: String,
    scenario_name: String,
    completed: String,
    duration: String,
    messages: String,
    errors: i64,
    tokens_in: String,
    tokens_out: String,
    avg: String,
    p95: String,
    p99: String,
    tokens_per_second: String,
    cost: String,
}

impl MetricsRow {
    fn of(s: &CompletedSession) -> Self {
        Self {
            id: s.id.clone(),
            target_name: s.target_name.clone(),
            scenario_name: s.scenario_name.clone(),
            completed: fmt_time(s.completed_at_ms),
            duration: s
                .started_at_ms
                .map(|start| fmt_duration(s.completed_at_ms - start))
                .unwrap_or_else(|| "–".into()),
            messages: fmt_int(s.message_count),
            errors: s.error_count,
            tokens_in: fmt_int(s.tokens_in),
            tokens_out: fmt_int(s.tokens_out),
            avg: fmt_latency(s.avg_latency_ms),
            p95: fmt_latency(s.p95_latency_ms.map(|v| v as f64)),
            p99: fmt_latency(s.p99_latency_ms.map(|v| v as f64)),
            tokens_per_second: s
                .tokens_per_second
                .map_or_else(|| "–".into(), |v| format!("{v:.1}")),
            cost: s.cost.map_or_else(|| "–".into(), |c| format!("{c:.4}")),
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "metrics/index.stpl")]
struct MetricsPage {
    page: Layout,
    ranges: Vec<(&'static str, &'static str, bool)>,
    range_label: &'static str,
    totals: RangeTotals,
    avg_latency: String,
    error_rate: String,
    rows: Vec<MetricsRow>,
    /// Chart points, oldest first, as JSON safe to embed in a `<script>` element.
    chart_json: String,
}

/// The chart points oldest first; `<` escaped so the JSON cannot close its `<script>`.
fn chart_json(sessions: &[CompletedSession]) -> String {
    let points: Vec<_> = sessions
        .iter()
        .rev()
        .map(|s| json!({"id": s.id, "t": s.completed_at_ms, "avg": s.avg_latency_ms, "p95": s.p95_latency_ms, "p99": s.p99_latency_ms, "tokensIn": s.tokens_in, "tokensOut": s.tokens_out, "label": s.scenario_name}))
        .collect();
    serde_json::Value::Array(points)
        .to_string()
        .replace('<', "\\u003c")
}

pub async fn show_metrics(
    state: web::Data<AppState>,
    q: web::Query<MetricsQuery>,
) -> Result<HttpResponse, PageError> {
    let key = q
        .range
        .as_deref()
        .filter(|r| RANGES.iter().any(|(_, k, _)| k == r))
        .unwrap_or(DEFAULT_RANGE);
    let (label, _, span) = RANGES
        .iter()
        .find(|(_, k, _)| *k == key)
        .copied()
        .unwrap_or(RANGES[1]);
    let since = span.map_or(0, |span| now_ms() - span);
    let sessions = queries::completed_sessions(&state.read, since, LAST_N).await?;
    let totals = queries::completed_totals(&state.read, since).await?;
    html(MetricsPage {
        page: Layout::new("Metrics", "metrics"),
        ranges: RANGES.iter().map(|(l, k, _)| (*l, *k, *k == key)).collect(),
        range_label: label,
        avg_latency: fmt_latency(totals.avg_latency_ms()),
        error_rate: format!("{:.1} %", totals.error_rate()),
        rows: sessions.iter().map(MetricsRow::of).collect(),
        chart_json: chart_json(&sessions),
        totals,
    })
}
