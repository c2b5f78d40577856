//! `GET /api/sessions/{id}/metrics`: a session's metric aggregates, merged from its
//! `metrics_buckets` rows (percentiles from the merged HDR histograms), with the buckets as a
//! `timeline`.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;
use sqlx::{AnyPool, Row};

use crate::metrics_bucket::Bucket;

/// Percentiles of one measure (milliseconds); absent when nothing was measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Distribution {
    pub count: u64,
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p95: u64,
    pub p99: u64,
    pub max: u64,
}

impl Distribution {
    pub fn of(h: &Histogram<u64>) -> Option<Self> {
        (!h.is_empty()).then(|| Self {
            count: h.len(),
            min: h.min(),
            mean: (h.mean() * 1000.0).round() / 1000.0,
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p95: h.value_at_quantile(0.95),
            p99: h.value_at_quantile(0.99),
            max: h.max(),
        })
    }
}

/// Counters, rates and distributions of a span of time (a bucket, or the whole session).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Aggregate {
    /// Replies plus exchanges that finally failed (a retried-then-successful message is one).
    pub exchanges: i64,
    pub replies: i64,
    pub errors: i64,
    pub retries: i64,
    /// `errors / exchanges` (0–1).
    pub error_rate: f64,
    /// Every failed attempt by kind, retried or not.
    pub errors_by_kind: BTreeMap<String, i64>,
    /// Attempts answered with 429.
    pub rate_limited: i64,
    pub backoff_ms: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub tokens_per_second: Option<f64>,
    pub exchanges_per_second: Option<f64>,
    pub cost: Option<f64>,
    pub repetition_mean: Option<f64>,
    pub quality_mean: Option<f64>,
    pub latency: Option<Distribution>,
    pub ttft: Option<Distribution>,
    /// Mean inter-chunk gap of each streamed reply.
    pub itl: Option<Distribution>,
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

impl Aggregate {
    /// `b`'s figures, with rates over `duration_ms`.
    pub fn of(b: &Bucket, duration_ms: i64) -> Self {
        let exchanges = b.exchanges();
        let per_second =
            |n: i64| (duration_ms > 0).then(|| round(n as f64 * 1000.0 / duration_ms as f64, 3));
        let mean = |sum: f64, n: i64| (n > 0).then(|| round(sum / n as f64, 4));
        Self {
            exchanges,
            replies: b.replies,
            errors: b.errors,
            retries: b.retries,
            error_rate: if exchanges > 0 {
                round(b.errors as f64 / exchanges as f64, 6)
            } else {
                0.0
            },
            errors_by_kind: b.errors_by_kind.clone(),
            rate_limited: b.rate_limited,
            backoff_ms: b.backoff_ms,
            tokens_in: b.tokens_in,
            tokens_out: b.tokens_out,
            tokens_per_second: per_second(b.tokens_out),
            exchanges_per_second: per_second(exchanges),
            cost: b.cost.map(|c| round(c, 9)),
            repetition_mean: mean(b.repetition_sum, b.repetition_count),
            quality_mean: mean(b.quality_sum, b.quality_count),
            latency: Distribution::of(&b.latency),
            ttft: Distribution::of(&b.ttft),
            itl: Distribution::of(&b.itl),
        }
    }
}

/// One bucket of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineBucket {
    pub start_ms: i64,
    /// Milliseconds from the session's start.
    pub offset_ms: i64,
    pub width_ms: i64,
    #[serde(flatten)]
    pub figures: Aggregate,
}

/// A session's metric aggregates.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionMetrics {
    pub session_id: String,
    pub started_at_ms: Option<i64>,
    /// Time of the last exchange event.
    pub last_at_ms: Option<i64>,
    /// From the start to the last exchange event: the span the session-wide rates use.
    pub duration_ms: i64,
    #[serde(flatten)]
    pub totals: Aggregate,
    pub timeline: Vec<TimelineBucket>,
}

/// The merged buckets of `session_id` and its timeline (no rows: zeros and an empty timeline).
pub async fn session_metrics(
    pool: &AnyPool,
    session_id: &str,
) -> Result<SessionMetrics, sqlx::Error> {
    let span =
        sqlx::query("SELECT started_at_ms, last_at_ms FROM metrics_sessions WHERE session_id = $1")
            .bind(session_id)
            .fetch_optional(pool)
            .await?;
    let (started, last): (Option<i64>, Option<i64>) = match &span {
        Some(row) => (
            Some(row.try_get("started_at_ms")?),
            Some(row.try_get("last_at_ms")?),
        ),
        None => (None, None),
    };
    let rows =
        sqlx::query("SELECT * FROM metrics_buckets WHERE session_id = $1 ORDER BY bucket_start_ms")
            .bind(session_id)
            .fetch_all(pool)
            .await?;
    let mut total = Bucket::new(started.unwrap_or(0), 0);
    let mut timeline = Vec::with_capacity(rows.len());
    for row in &rows {
        let b = Bucket::from_row(row)?;
        total.merge(&b);
        timeline.push(TimelineBucket {
            start_ms: b.start_ms,
            offset_ms: b.start_ms - started.unwrap_or(b.start_ms),
            width_ms: b.width_ms,
            figures: Aggregate::of(&b, b.width_ms),
        });
    }
    let duration_ms = match (started, last) {
        (Some(s), Some(l)) => (l - s).max(0),
        _ => 0,
    };
    Ok(SessionMetrics {
        session_id: session_id.to_owned(),
        started_at_ms: started,
        last_at_ms: last,
        duration_ms,
        totals: Aggregate::of(&total, duration_ms),
        timeline,
    })
}
