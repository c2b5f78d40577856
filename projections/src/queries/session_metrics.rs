//! `GET /api/sessions/{id}/metrics`: a session's metric aggregates from its `metrics_totals` row
//! (maintained by the metrics projection: the merge of all its buckets, percentiles stored) and
//! its `metrics_buckets` rows as a `timeline` (counters and stored percentiles: no histogram is
//! decoded or merged on a request). `bucket_totals` recomputes the total by merging the buckets'
//! histograms, the slow way the total row must agree with (tests, `krawall bench --metrics`).

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::{AnyPool, Row};

use crate::metrics_bucket::Bucket;
pub use crate::metrics_figures::Distribution;
use crate::metrics_figures::{COUNTER_NAMES, Counters, Stats};

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
    /// The figures of counters `b` and percentiles `stats`, with rates over `duration_ms`.
    pub fn of(b: &Counters, stats: Stats, duration_ms: i64) -> Self {
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
            latency: stats.latency,
            ttft: stats.ttft,
            itl: stats.itl,
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

/// `(started, last)` of a `metrics_sessions` row and the total's counters and percentiles
/// (`None` before the session's first exchange event).
type Span = (Option<i64>, Option<i64>, Option<(Counters, Stats)>);

async fn span_and_total(pool: &AnyPool, session_id: &str) -> Result<Span, sqlx::Error> {
    let sql = format!(
        "SELECT s.started_at_ms, s.last_at_ms, t.session_id AS total_of, {}, t.stats
         FROM metrics_sessions s LEFT JOIN metrics_totals t ON t.session_id = s.session_id
         WHERE s.session_id = $1",
        prefixed("t.", COUNTER_NAMES)
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(session_id)
        .fetch_optional(pool)
        .await?
    else {
        return Ok((None, None, None));
    };
    let total = match row.try_get::<Option<String>, _>("total_of")? {
        Some(_) => Some((
            Counters::from_row(&row)?,
            Stats::decode(&row.try_get::<String, _>("stats")?),
        )),
        None => None,
    };
    Ok((
        Some(row.try_get("started_at_ms")?),
        Some(row.try_get("last_at_ms")?),
        total,
    ))
}

/// `a, b` → `t.a, t.b`.
fn prefixed(prefix: &str, names: &str) -> String {
    names
        .split(", ")
        .map(|n| format!("{prefix}{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The timeline: each bucket's counters and stored percentiles, rates over its width.
async fn timeline(
    pool: &AnyPool,
    session_id: &str,
    started: Option<i64>,
) -> Result<Vec<TimelineBucket>, sqlx::Error> {
    let sql = format!(
        "SELECT bucket_start_ms, width_ms, {COUNTER_NAMES}, stats FROM metrics_buckets
         WHERE session_id = $1 ORDER BY bucket_start_ms"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(session_id)
        .fetch_all(pool)
        .await?;
    let mut timeline = Vec::with_capacity(rows.len());
    for row in &rows {
        let (start_ms, width_ms): (i64, i64) =
            (row.try_get("bucket_start_ms")?, row.try_get("width_ms")?);
        let stats = Stats::decode(&row.try_get::<String, _>("stats")?);
        timeline.push(TimelineBucket {
            start_ms,
            offset_ms: start_ms - started.unwrap_or(start_ms),
            width_ms,
            figures: Aggregate::of(&Counters::from_row(row)?, stats, width_ms),
        });
    }
    Ok(timeline)
}

/// A session's totals and its timeline (no rows: zeros and an empty timeline).
pub async fn session_metrics(
    pool: &AnyPool,
    session_id: &str,
) -> Result<SessionMetrics, sqlx::Error> {
    let (started, last, total) = span_and_total(pool, session_id).await?;
    let timeline = timeline(pool, session_id, started).await?;
    let duration_ms = match (started, last) {
        (Some(s), Some(l)) => (l - s).max(0),
        _ => 0,
    };
    let (counters, stats) = total.unwrap_or_default();
    Ok(SessionMetrics {
        session_id: session_id.to_owned(),
        started_at_ms: started,
        last_at_ms: last,
        duration_ms,
        totals: Aggregate::of(&counters, stats, duration_ms),
        timeline,
    })
}

/// The whole-session aggregate recomputed by merging every bucket row's histograms and counters
/// (what the `metrics_totals` row must equal; slow on long runs), rates over `duration_ms`.
pub async fn bucket_totals(
    pool: &AnyPool,
    session_id: &str,
    duration_ms: i64,
) -> Result<Aggregate, sqlx::Error> {
    let rows = sqlx::query("SELECT * FROM metrics_buckets WHERE session_id = $1")
        .bind(session_id)
        .fetch_all(pool)
        .await?;
    let mut total = Bucket::new(0, 0);
    for row in &rows {
        total.merge(&Bucket::from_row(row)?);
    }
    let stats = total.histograms.stats();
    Ok(Aggregate::of(&total.counters, stats, duration_ms))
}
