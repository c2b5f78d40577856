//! `GET /api/compare/{id}` and `GET /api/compare`: a comparison with upstream's `results`
//! (response time, token usage, error rate, message count, winner) plus statistics on the two
//! sessions' reply latencies (Mann–Whitney U, bootstrap interval of the median difference,
//! cost and error-rate differences) and shared-bin histograms for the overlay chart.

use actors::domain::compare::{MannWhitney, MedianDifference, mann_whitney, median_difference};
use serde::Serialize;
use sqlx::{AnyPool, Row, any::AnyRow};

use super::dashboard::{SessionRow, session_row};
use super::session_metrics::Distribution;
use super::time::iso;
use crate::metrics_figures::{histogram, record};

/// Bins of the overlay histogram.
pub const BINS: usize = 20;

/// One figure of both sessions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Side {
    pub a: f64,
    pub b: f64,
    /// b − a.
    pub diff: f64,
    /// (b − a) / a in percent; absent when a is 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff_percent: Option<f64>,
}

impl Side {
    fn of(a: f64, b: f64) -> Self {
        Self {
            a,
            b,
            diff: b - a,
            diff_percent: (a != 0.0).then(|| (b - a) / a * 100.0),
        }
    }
}

/// Which session did better on most of the three lower-is-better figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Winner {
    A,
    B,
    #[serde(rename = "tie")]
    Tie,
}

/// Latency counts of both sessions over shared bins (`edges` has `BINS + 1` bounds, ms).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bins {
    pub edges: Vec<f64>,
    pub a: Vec<u64>,
    pub b: Vec<u64>,
}

/// Statistics beyond upstream's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Statistics {
    pub mann_whitney: Option<MannWhitney>,
    /// Median latency of B − A, with its bootstrap 95 % interval.
    pub median_difference: Option<MedianDifference>,
    pub latency_a: Option<Distribution>,
    pub latency_b: Option<Distribution>,
    pub cost_a: Option<f64>,
    pub cost_b: Option<f64>,
    pub cost_diff: Option<f64>,
    pub error_rate_diff: f64,
    pub distribution: Bins,
}

/// Upstream's `results` plus `statistics`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComparisonResults {
    pub response_time: Side,
    pub token_usage: Side,
    pub error_rate: Side,
    pub message_count: Side,
    pub winner: Winner,
    pub statistics: Statistics,
}

/// A comparison as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComparisonView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub session_a_id: String,
    pub session_b_id: String,
    pub session_a_name: String,
    pub session_b_name: String,
    pub status: &'static str,
    pub created_at: String,
    pub results: Option<ComparisonResults>,
}

async fn latencies(pool: &AnyPool, session: &str) -> Result<Vec<f64>, sqlx::Error> {
    let rows: Vec<i64> = sqlx::query_scalar(
        "SELECT latency_ms FROM session_messages WHERE session_id = $1 AND outcome = 'ok' AND latency_ms IS NOT NULL",
    )
    .bind(session)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|v| v as f64).collect())
}

fn distribution(values: &[f64]) -> Option<Distribution> {
    let mut h = histogram();
    for v in values {
        record(&mut h, *v as u64);
    }
    Distribution::of(&h)
}

/// Counts of `a` and `b` over [`BINS`] equal bins from the smallest to the largest value.
pub fn bins(a: &[f64], b: &[f64]) -> Bins {
    let all = a.iter().chain(b);
    let lo = all.clone().copied().fold(f64::INFINITY, f64::min);
    let hi = all.copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        return Bins {
            edges: vec![],
            a: vec![],
            b: vec![],
        };
    }
    let width = ((hi - lo) / BINS as f64).max(1.0);
    let edges = (0..=BINS).map(|i| lo + width * i as f64).collect();
    let count = |values: &[f64]| {
        let mut c = vec![0u64; BINS];
        for v in values {
            c[(((v - lo) / width) as usize).min(BINS - 1)] += 1;
        }
        c
    };
    Bins {
        edges,
        a: count(a),
        b: count(b),
    }
}

fn error_rate(s: &SessionRow) -> f64 {
    if s.message_count > 0 {
        s.error_count as f64 / s.message_count as f64
    } else {
        0.0
    }
}

fn cost(s: &SessionRow) -> Option<f64> {
    s.summary.as_ref()?.get("cost")?.as_f64()
}

/// Upstream's figures and winner (majority over response time, tokens and error rate, lower
/// is better) plus the statistics.
pub fn results(a: &SessionRow, b: &SessionRow, lat_a: &[f64], lat_b: &[f64]) -> ComparisonResults {
    let response_time = Side::of(
        a.avg_latency_ms().unwrap_or(0.0),
        b.avg_latency_ms().unwrap_or(0.0),
    );
    let tokens = |s: &SessionRow| s.tokens_in.saturating_add(s.tokens_out) as f64;
    let token_usage = Side::of(tokens(a), tokens(b));
    let mut error = Side::of(error_rate(a), error_rate(b));
    error.diff_percent = None;
    let mut messages = Side::of(a.message_count as f64, b.message_count as f64);
    messages.diff_percent = None;
    let votes: i32 = [&response_time, &token_usage, &error]
        .iter()
        .map(|s| (s.a < s.b) as i32 - (s.b < s.a) as i32)
        .sum();
    let winner = match votes {
        v if v > 0 => Winner::A,
        v if v < 0 => Winner::B,
        _ => Winner::Tie,
    };
    let (cost_a, cost_b) = (cost(a), cost(b));
    let statistics = Statistics {
        mann_whitney: mann_whitney(lat_a, lat_b),
        median_difference: median_difference(lat_a, lat_b),
        latency_a: distribution(lat_a),
        latency_b: distribution(lat_b),
        cost_a,
        cost_b,
        cost_diff: cost_a.zip(cost_b).map(|(a, b)| b - a),
        error_rate_diff: error.diff,
        distribution: bins(lat_a, lat_b),
    };
    ComparisonResults {
        response_time,
        token_usage,
        error_rate: error,
        message_count: messages,
        winner,
        statistics,
    }
}

fn name(s: Option<&SessionRow>) -> String {
    s.map(|s| format!("{} · {}", s.target_name, s.scenario_name))
        .unwrap_or_default()
}

async fn view(
    pool: &AnyPool,
    row: &AnyRow,
    with_results: bool,
) -> Result<ComparisonView, sqlx::Error> {
    let (ida, idb): (String, String) = (row.try_get("session_a_id")?, row.try_get("session_b_id")?);
    let (a, b) = (
        session_row(pool, &ida).await?,
        session_row(pool, &idb).await?,
    );
    let results = match (&a, &b) {
        (Some(a), Some(b)) if with_results => {
            let (la, lb) = (latencies(pool, &ida).await?, latencies(pool, &idb).await?);
            Some(results(a, b, &la, &lb))
        }
        _ => None,
    };
    Ok(ComparisonView {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        session_a_name: name(a.as_ref()),
        session_b_name: name(b.as_ref()),
        session_a_id: ida,
        session_b_id: idb,
        status: "completed",
        created_at: iso(row.try_get("created_at_ms")?),
        results,
    })
}

/// One comparison with its results (`None` when unknown).
pub async fn get_comparison(
    pool: &AnyPool,
    id: &str,
) -> Result<Option<ComparisonView>, sqlx::Error> {
    let row = sqlx::query("SELECT * FROM comparisons WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    match row {
        Some(row) => Ok(Some(view(pool, &row, true).await?)),
        None => Ok(None),
    }
}

/// The latest comparisons (without results), newest first.
pub async fn list_comparisons(
    pool: &AnyPool,
    limit: i64,
    offset: i64,
) -> Result<Vec<ComparisonView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT * FROM comparisons ORDER BY created_at_ms DESC, id DESC LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(view(pool, row, false).await?);
    }
    Ok(out)
}
