//! What a session report shows, read once and shared by the HTML and the PDF: the headline
//! figures (from the final summary, or the live counters while the session runs), threshold
//! verdicts, errors by kind, the latency/TTFT percentile and throughput charts and the most
//! repeated replies.

use std::str::FromStr;

use actors::domain::summary::SessionSummary;
use projections::queries::{self, RepeatedReply, SessionView, ThroughputBucket};
use sqlx::AnyPool;

use super::chart::{Chart, bar_chart, line_chart};

/// `?format=` of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Html,
    Pdf,
}

impl FromStr for ReportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" => Ok(Self::Html),
            "pdf" => Ok(Self::Pdf),
            _ => Err(format!("must be one of html, pdf, got {s:?}")),
        }
    }
}

/// Throughput buckets aimed at: about this many points on the chart.
const BUCKETS: i64 = 120;
/// Replies listed under "top repeated replies".
const TOP_REPLIES: i64 = 5;

/// A threshold verdict as printed.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub metric: String,
    pub condition: String,
    pub actual: String,
    pub passed: bool,
}

/// Everything a report shows.
#[derive(Debug, Clone)]
pub struct SessionReport {
    pub session: SessionView,
    pub summary: Option<SessionSummary>,
    pub bucket_ms: i64,
    pub throughput: Vec<ThroughputBucket>,
    pub top_replies: Vec<RepeatedReply>,
}

impl SessionReport {
    /// Reads the report's aggregates for `session` (bounded: grouped in SQL).
    pub async fn load(pool: &AnyPool, session: SessionView) -> Result<Self, sqlx::Error> {
        let summary = session
            .summary_metrics
            .clone()
            .and_then(|v| serde_json::from_value::<SessionSummary>(v).ok());
        let (bucket_ms, throughput) = match queries::exchange_span(pool, &session.id).await? {
            Some((first, last)) => {
                let bucket_ms = ((last - first) / BUCKETS).max(1000);
                let buckets = queries::throughput(pool, &session.id, first, bucket_ms).await?;
                (bucket_ms, buckets)
            }
            None => (1000, Vec::new()),
        };
        let top_replies = queries::top_replies(pool, &session.id, TOP_REPLIES).await?;
        Ok(Self {
            session,
            summary,
            bucket_ms,
            throughput,
            top_replies,
        })
    }

    /// `Krawall report — <scenario> on <target>`.
    pub fn title(&self) -> String {
        format!(
            "Krawall report: {} on {}",
            self.session.scenario_name, self.session.target_name
        )
    }

    /// Headline figures as `(label, value)`, in display order.
    pub fn figures(&self) -> Vec<(&'static str, String)> {
        let s = &self.session;
        let ms = |v: u64| format!("{v} ms");
        let summary = self.summary.as_ref();
        let pick = |f: fn(&SessionSummary) -> u64| summary.map_or("–".to_string(), |x| ms(f(x)));
        let rate = s.error_count as f64 / s.message_count.max(1) as f64 * 100.0;
        vec![
            ("Status", s.status.clone()),
            ("Messages", s.message_count.to_string()),
            ("Errors", s.error_count.to_string()),
            ("Error rate", format!("{rate:.2} %")),
            (
                "Retries",
                summary.map_or("–".into(), |x| x.retries.to_string()),
            ),
            ("Tokens in", s.tokens_in.to_string()),
            ("Tokens out", s.tokens_out.to_string()),
            ("Latency avg", format!("{:.1} ms", s.avg_latency_ms)),
            ("Latency p50", pick(|x| x.p50_latency_ms)),
            ("Latency p95", pick(|x| x.p95_latency_ms)),
            ("Latency p99", pick(|x| x.p99_latency_ms)),
            ("Latency max", pick(|x| x.max_latency_ms)),
            ("TTFT p50", pick(|x| x.p50_ttft_ms)),
            ("TTFT p95", pick(|x| x.p95_ttft_ms)),
            ("TTFT p99", pick(|x| x.p99_ttft_ms)),
            ("Cost", self.cost()),
            (
                "Repetition mean",
                score(summary.and_then(|x| x.repetition_mean)),
            ),
            (
                "Repetition max",
                score(summary.and_then(|x| x.repetition_max)),
            ),
            ("Waited (back-off)", pick(|x| x.backoff_ms)),
            ("Queued", s.queued_at.clone()),
            (
                "Completed",
                s.completed_at.clone().unwrap_or_else(|| "–".into()),
            ),
        ]
    }

    /// The cost with its currency, or `–` without a price.
    pub fn cost(&self) -> String {
        match self.summary.as_ref().and_then(|x| x.cost) {
            Some(cost) => format!(
                "{cost:.6} {}",
                self.summary
                    .as_ref()
                    .and_then(|x| x.currency.clone())
                    .unwrap_or_default()
            ),
            None => "–".into(),
        }
    }

    pub fn verdicts(&self) -> Vec<Verdict> {
        let Some(summary) = &self.summary else {
            return Vec::new();
        };
        summary
            .thresholds
            .iter()
            .map(|t| Verdict {
                metric: t.metric.clone(),
                condition: t.condition.clone(),
                actual: format!("{}", (t.actual * 10_000.0).round() / 10_000.0),
                passed: t.passed,
            })
            .collect()
    }

    pub fn errors_by_kind(&self) -> Vec<(String, u64)> {
        self.summary
            .as_ref()
            .map(|s| {
                s.errors_by_kind
                    .iter()
                    .map(|(k, v)| (k.clone(), *v))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Latency and TTFT percentile bars, then throughput over time.
    pub fn charts(&self) -> Vec<Chart> {
        let mut charts = Vec::new();
        if let Some(s) = &self.summary {
            let bars = |v: &[(&str, u64)]| -> Vec<(String, f64)> {
                v.iter().map(|(l, x)| (l.to_string(), *x as f64)).collect()
            };
            let mut latency = vec![("avg".to_string(), s.avg_latency_ms)];
            latency.extend(bars(&[
                ("p50", s.p50_latency_ms),
                ("p95", s.p95_latency_ms),
                ("p99", s.p99_latency_ms),
                ("max", s.max_latency_ms),
            ]));
            charts.push(bar_chart("Latency percentiles", "ms", &latency));
            if s.p99_ttft_ms > 0 {
                let ttft = bars(&[
                    ("p50", s.p50_ttft_ms),
                    ("p95", s.p95_ttft_ms),
                    ("p99", s.p99_ttft_ms),
                ]);
                charts.push(bar_chart("Time to first token", "ms", &ttft));
            }
        }
        if !self.throughput.is_empty() {
            let per_s = self.bucket_ms as f64 / 1000.0;
            let point =
                |b: &ThroughputBucket, v: i64| (b.offset_ms as f64 / 1000.0, v as f64 / per_s);
            let done = self
                .throughput
                .iter()
                .map(|b| point(b, b.exchanges))
                .collect();
            let errors = self.throughput.iter().map(|b| point(b, b.errors)).collect();
            charts.push(line_chart(
                "Throughput (exchanges/s; errors in red)",
                "/s",
                &[done, errors],
            ));
        }
        charts
    }
}

fn score(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.3}"))
}
