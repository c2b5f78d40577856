//! One time bucket of a session's metric aggregates (a `metrics_buckets` row): counters, sums
//! and HDR histograms of latency, TTFT and inter-chunk gaps, how a row is read and written, how
//! buckets merge, and which bucket an instant falls in (1 s, rolled up to 10 s and 60 s).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde_json::{Value, json};
use sqlx::{Row, any::AnyRow};

use crate::bulk::Col;

/// Highest value tracked (1 hour, like the session summary); longer values are clamped.
pub const MAX_TRACKED_MS: u64 = 3_600_000;
/// Offsets from the session's start below which buckets are 1 s wide; then 10 s.
pub const FINE_UNTIL_MS: i64 = 5 * 60 * 1000;
/// Offsets from which buckets are 60 s wide.
pub const COARSE_FROM_MS: i64 = 60 * 60 * 1000;

/// Start and width of the bucket that holds instant `at_ms` of a session started at `start_ms`:
/// 1 s buckets for the first 5 minutes, 10 s buckets up to an hour, 60 s buckets after.
pub fn bucket_of(start_ms: i64, at_ms: i64) -> (i64, i64) {
    let offset = (at_ms - start_ms).max(0);
    let width = if offset < FINE_UNTIL_MS {
        1000
    } else if offset < COARSE_FROM_MS {
        10_000
    } else {
        60_000
    };
    (start_ms + offset / width * width, width)
}

/// An empty histogram with the summary's bounds (1 ms – 1 h, 3 significant digits).
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_TRACKED_MS, 3)
        .unwrap_or_else(|_| unreachable!("constant bounds 1..=1 h with 3 digits are valid"))
}

/// Records `value` clamped to the tracked range.
pub fn record(h: &mut Histogram<u64>, value: u64) {
    h.saturating_record(value.clamp(1, MAX_TRACKED_MS));
}

/// A histogram as JSON `[[value, count], …]` (each recorded bucket's highest equivalent value,
/// so decoding records into the same buckets: lossless at the histogram's precision).
pub fn encode(h: &Histogram<u64>) -> String {
    let pairs: Vec<(u64, u64)> = h
        .iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
}

/// Decodes [`encode`]'s text; anything unreadable is an empty histogram.
pub fn decode(text: &str) -> Histogram<u64> {
    let mut h = histogram();
    let pairs: Vec<(u64, u64)> = serde_json::from_str(text).unwrap_or_default();
    for (value, count) in pairs {
        h.saturating_record_n(value.clamp(1, MAX_TRACKED_MS), count);
    }
    h
}

/// Counters, sums and histograms of one bucket (or of a whole session, merged).
#[derive(Debug, Clone)]
pub struct Bucket {
    pub start_ms: i64,
    pub width_ms: i64,
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
    pub latency: Histogram<u64>,
    pub ttft: Histogram<u64>,
    pub itl: Histogram<u64>,
    /// Position of the last event merged into the row (replays of older events are skipped).
    pub applied_position: i64,
}

impl Bucket {
    pub fn new(start_ms: i64, width_ms: i64) -> Self {
        Self {
            start_ms,
            width_ms,
            replies: 0,
            errors: 0,
            retries: 0,
            rate_limited: 0,
            backoff_ms: 0,
            tokens_in: 0,
            tokens_out: 0,
            cost: None,
            repetition_sum: 0.0,
            repetition_count: 0,
            quality_sum: 0.0,
            quality_count: 0,
            errors_by_kind: BTreeMap::new(),
            latency: histogram(),
            ttft: histogram(),
            itl: histogram(),
            applied_position: 0,
        }
    }

    /// Exchanges that ended: replies plus final failures.
    pub fn exchanges(&self) -> i64 {
        self.replies + self.errors
    }

    /// Adds `other`'s counts into this bucket (histograms merge bucket by bucket).
    pub fn merge(&mut self, other: &Bucket) {
        self.replies = self.replies.saturating_add(other.replies);
        self.errors = self.errors.saturating_add(other.errors);
        self.retries = self.retries.saturating_add(other.retries);
        self.rate_limited = self.rate_limited.saturating_add(other.rate_limited);
        self.backoff_ms = self.backoff_ms.saturating_add(other.backoff_ms);
        self.tokens_in = self.tokens_in.saturating_add(other.tokens_in);
        self.tokens_out = self.tokens_out.saturating_add(other.tokens_out);
        self.cost = add_cost(self.cost, other.cost);
        self.repetition_sum += other.repetition_sum;
        self.repetition_count += other.repetition_count;
        self.quality_sum += other.quality_sum;
        self.quality_count += other.quality_count;
        for (kind, n) in &other.errors_by_kind {
            *self.errors_by_kind.entry(kind.clone()).or_insert(0) += n;
        }
        // Same bounds on both sides, so `add` cannot fail.
        let _ = self.latency.add(&other.latency);
        let _ = self.ttft.add(&other.ttft);
        let _ = self.itl.add(&other.itl);
        self.applied_position = self.applied_position.max(other.applied_position);
    }

    /// Reads a `metrics_buckets` row.
    pub fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let kinds: String = row.try_get("errors_by_kind")?;
        Ok(Self {
            start_ms: row.try_get("bucket_start_ms")?,
            width_ms: row.try_get("width_ms")?,
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
            latency: decode(&row.try_get::<String, _>("latency")?),
            ttft: decode(&row.try_get::<String, _>("ttft")?),
            itl: decode(&row.try_get::<String, _>("itl")?),
            applied_position: row.try_get("applied_position")?,
        })
    }

    /// The row's values in [`COLUMNS`] order, for `session`.
    pub fn values(&self, session: &str) -> Vec<Value> {
        vec![
            json!(session),
            json!(self.start_ms),
            json!(self.width_ms),
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
            json!(encode(&self.latency)),
            json!(encode(&self.ttft)),
            json!(encode(&self.itl)),
            json!(self.applied_position),
        ]
    }
}

fn add_cost(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

/// Column names of a `metrics_buckets` row, in [`Bucket::values`] order.
pub const COLUMN_NAMES: &str = "session_id, bucket_start_ms, width_ms, replies, errors, retries, \
     rate_limited, backoff_ms, tokens_in, tokens_out, cost, repetition_sum, repetition_count, \
     quality_sum, quality_count, errors_by_kind, latency, ttft, itl, applied_position";

use Col::{Float, Int, Text};

/// SQL types of [`Bucket::values`].
pub const COLUMNS: [Col; 20] = [
    Text, Int, Int, Int, Int, Int, Int, Int, Int, Int, Float, Float, Int, Float, Int, Text, Text,
    Text, Text, Int,
];

#[cfg(test)]
mod tests {
    use super::{bucket_of, decode, encode, histogram, record};

    #[test]
    fn buckets_roll_up_after_five_minutes_and_after_an_hour() {
        assert_eq!(bucket_of(10_000, 10_000), (10_000, 1000));
        assert_eq!(bucket_of(10_000, 11_999), (11_000, 1000));
        assert_eq!(bucket_of(10_000, 5_000), (10_000, 1000));
        assert_eq!(bucket_of(0, 300_000), (300_000, 10_000));
        assert_eq!(bucket_of(0, 309_999), (300_000, 10_000));
        assert_eq!(bucket_of(0, 3_600_000), (3_600_000, 60_000));
        assert_eq!(bucket_of(0, 3_719_000), (3_660_000, 60_000));
    }

    #[test]
    fn histograms_survive_the_round_trip() {
        let mut h = histogram();
        for v in [1, 100, 100, 2047, 5000, 123_456, 3_600_000] {
            record(&mut h, v);
        }
        let back = decode(&encode(&h));
        assert_eq!(back.len(), h.len());
        for q in [0.0, 0.5, 0.9, 0.99, 1.0] {
            assert_eq!(back.value_at_quantile(q), h.value_at_quantile(q));
        }
        assert_eq!(encode(&back), encode(&h));
    }
}
