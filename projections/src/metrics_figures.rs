//! What a span of exchanges adds up to (one time bucket, or a whole session): counters and sums,
//! HDR histograms of latency, TTFT and inter-chunk gaps, and their percentiles (`Stats`), which
//! the projection stores beside the histograms so reading a span never decodes one.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{Row, any::AnyRow};

use crate::metrics_histogram::{Recorded, SparseHistogram};

/// Highest value tracked (1 hour, like the session summary); longer values are clamped.
pub const MAX_TRACKED_MS: u64 = 3_600_000;

/// An empty histogram with the summary's bounds (1 ms – 1 h, 3 significant digits).
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_TRACKED_MS, 3)
        .unwrap_or_else(|_| unreachable!("constant bounds 1..=1 h with 3 digits are valid"))
}

/// Records `value` clamped to the tracked range.
pub fn record(h: &mut Histogram<u64>, value: u64) {
    h.saturating_record(value.clamp(1, MAX_TRACKED_MS));
}

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
    pub fn of(h: &impl Recorded) -> Option<Self> {
        Self::from_stored(Self::stored(h)?)
    }

    /// The stored form: `[count, min, mean in thousandths, p50, p90, p95, p99, max]`, integers
    /// only, so reading it back gives exactly the figures [`Distribution::of`] computes.
    fn stored(h: &impl Recorded) -> Option<[u64; 8]> {
        (h.len() > 0).then(|| {
            [
                h.len(),
                h.min(),
                (h.mean() * 1000.0).round() as u64,
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.9),
                h.value_at_quantile(0.95),
                h.value_at_quantile(0.99),
                h.max(),
            ]
        })
    }

    fn from_stored(v: [u64; 8]) -> Option<Self> {
        let [count, min, mean_milli, p50, p90, p95, p99, max] = v;
        Some(Self {
            count,
            min,
            mean: mean_milli as f64 / 1000.0,
            p50,
            p90,
            p95,
            p99,
            max,
        })
    }
}

/// Latency, TTFT and ITL percentiles of a span (the `stats` column).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub latency: Option<Distribution>,
    pub ttft: Option<Distribution>,
    pub itl: Option<Distribution>,
}

impl Stats {
    /// Reads the `stats` column (`[latency, ttft, itl]`, each `null` or eight integers);
    /// anything unreadable is no percentiles.
    pub fn decode(text: &str) -> Self {
        let parsed: [Option<[u64; 8]>; 3] = serde_json::from_str(text).unwrap_or_default();
        let [latency, ttft, itl] = parsed.map(|v| v.and_then(Distribution::from_stored));
        Self { latency, ttft, itl }
    }
}

/// Counters and sums of a span.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    /// Replies received.
    pub replies: i64,
    /// Exchanges that finally failed (skipped or aborted; retried attempts are not errors).
    pub errors: i64,
    /// Failed attempts that were retried.
    pub retries: i64,
    /// Attempts answered with 429 (rate_limited), retried or not.
    pub rate_limited: i64,
    pub backoff_ms: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub cost: Option<f64>,
    pub repetition_sum: f64,
    pub repetition_count: i64,
    pub quality_sum: f64,
    pub quality_count: i64,
    /// Every failed attempt by kind (retried or not), like the summary's `errorsByKind`.
    pub errors_by_kind: BTreeMap<String, i64>,
}

/// Column names of [`Counters::values`], in order.
pub const COUNTER_NAMES: &str = "replies, errors, retries, rate_limited, backoff_ms, tokens_in, \
     tokens_out, cost, repetition_sum, repetition_count, quality_sum, quality_count, \
     errors_by_kind";

impl Counters {
    /// Exchanges that ended: replies plus final failures.
    pub fn exchanges(&self) -> i64 {
        self.replies + self.errors
    }

    /// Adds `other`'s counts into these.
    pub fn merge(&mut self, other: &Counters) {
        self.replies = self.replies.saturating_add(other.replies);
        self.errors = self.errors.saturating_add(other.errors);
        self.retries = self.retries.saturating_add(other.retries);
        self.rate_limited = self.rate_limited.saturating_add(other.rate_limited);
        self.backoff_ms = self.backoff_ms.saturating_add(other.backoff_ms);
        self.tokens_in = self.tokens_in.saturating_add(other.tokens_in);
        self.tokens_out = self.tokens_out.saturating_add(other.tokens_out);
        self.cost = match (self.cost, other.cost) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.repetition_sum += other.repetition_sum;
        self.repetition_count += other.repetition_count;
        self.quality_sum += other.quality_sum;
        self.quality_count += other.quality_count;
        for (kind, n) in &other.errors_by_kind {
            *self.errors_by_kind.entry(kind.clone()).or_insert(0) += n;
        }
    }

    /// Reads the [`COUNTER_NAMES`] columns of a row.
    pub fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let kinds: String = row.try_get("errors_by_kind")?;
        Ok(Self {
            replies: row.try_get("replies")?,
            errors: row.try_get("errors")?,
            retries: row.try_get("retries")?,
            rate_limited: row.try_get("rate_limited")?,
            backoff_ms: row.try_get("backoff_ms")?,
            tokens_in: row.try_get("tokens_in")?,
            tokens_out: row.try_get("tokens_out")?,
            cost: row.try_get("cost")?,
            repetition_sum: row.try_get("repetition_sum")?,
            repetition_count: row.try_get("repetition_count")?,
            quality_sum: row.try_get("quality_sum")?,
            quality_count: row.try_get("quality_count")?,
            errors_by_kind: serde_json::from_str(&kinds).unwrap_or_default(),
        })
    }

    /// The [`COUNTER_NAMES`] values.
    pub fn values(&self) -> Vec<Value> {
        vec![
            json!(self.replies),
            json!(self.errors),
            json!(self.retries),
            json!(self.rate_limited),
            json!(self.backoff_ms),
            json!(self.tokens_in),
            json!(self.tokens_out),
            json!(self.cost),
            json!(self.repetition_sum),
            json!(self.repetition_count),
            json!(self.quality_sum),
            json!(self.quality_count),
            json!(serde_json::to_string(&self.errors_by_kind).unwrap_or_else(|_| "{}".into())),
        ]
    }
}

/// The HDR histograms of a span.
#[derive(Debug, Clone, Default)]
pub struct Histograms {
    pub latency: SparseHistogram,
    pub ttft: SparseHistogram,
    pub itl: SparseHistogram,
}

/// Column names of [`Histograms::values`], in order.
pub const HISTOGRAM_NAMES: &str = "latency, ttft, itl, stats";

impl Histograms {
    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &Histograms) {
        self.latency.merge(&other.latency);
        self.ttft.merge(&other.ttft);
        self.itl.merge(&other.itl);
    }

    /// Reads the `latency`, `ttft` and `itl` columns of a row.
    pub fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let decode =
            |name| Ok::<_, sqlx::Error>(SparseHistogram::decode(&row.try_get::<String, _>(name)?));
        Ok(Self {
            latency: decode("latency")?,
            ttft: decode("ttft")?,
            itl: decode("itl")?,
        })
    }

    /// The percentiles of each histogram.
    pub fn stats(&self) -> Stats {
        Stats {
            latency: Distribution::of(&self.latency),
            ttft: Distribution::of(&self.ttft),
            itl: Distribution::of(&self.itl),
        }
    }

    /// The [`HISTOGRAM_NAMES`] values: the encoded histograms and their percentiles.
    pub fn values(&self) -> Vec<Value> {
        let stored = [&self.latency, &self.ttft, &self.itl].map(Distribution::stored);
        vec![
            json!(self.latency.encode()),
            json!(self.ttft.encode()),
            json!(self.itl.encode()),
            json!(serde_json::to_string(&stored).unwrap_or_else(|_| "[null,null,null]".into())),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::{Distribution, Histograms, Stats};

    #[test]
    fn stored_percentiles_read_back_exactly() {
        let mut h = Histograms::default();
        for v in [3, 7, 7, 1999, 2000] {
            h.latency.record(v);
        }
        h.itl.record(12);
        let values = h.values();
        let stats = Stats::decode(values[3].as_str().unwrap());
        assert_eq!(stats, h.stats());
        assert_eq!(stats.latency, Distribution::of(&h.latency));
        assert_eq!(stats.ttft, None);
        assert_eq!(
            stats.latency.unwrap().mean,
            803.2,
            "(3 + 7 + 7 + 1999 + 2000) / 5"
        );
        assert_eq!(Stats::decode("garbage"), Stats::default());
    }
}
