//! One time bucket of a session's metric aggregates (a `metrics_buckets` row) or a session's
//! running total (a `metrics_totals` row, the merge of all its buckets): counters, histograms
//! with their percentiles and the position of the last event merged; how both rows are read and
//! written, and which bucket an instant falls in (1 s, rolled up to 10 s and 60 s).

use serde_json::{Value, json};
use sqlx::{Row, any::AnyRow};

use crate::bulk::Col;
use crate::metrics_figures::{COUNTER_NAMES, Counters, HISTOGRAM_NAMES, Histograms};

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

/// A bucket, or a session's total (start and width unused), as the projection keeps it.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub start_ms: i64,
    pub width_ms: i64,
    pub counters: Counters,
    pub histograms: Histograms,
    /// Position of the last event merged into the row (replays of older events are skipped).
    pub applied_position: i64,
}

impl Bucket {
    pub fn new(start_ms: i64, width_ms: i64) -> Self {
        Self {
            start_ms,
            width_ms,
            counters: Counters::default(),
            histograms: Histograms::default(),
            applied_position: 0,
        }
    }

    /// Adds `other`'s counts into this bucket (histograms merge bucket by bucket).
    pub fn merge(&mut self, other: &Bucket) {
        self.counters.merge(&other.counters);
        self.histograms.merge(&other.histograms);
        self.applied_position = self.applied_position.max(other.applied_position);
    }

    /// Reads a `metrics_buckets` row.
    pub fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let (start, width) = (row.try_get("bucket_start_ms")?, row.try_get("width_ms")?);
        Self::read(row, start, width)
    }

    /// Reads a `metrics_totals` row.
    pub fn from_total_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Self::read(row, 0, 0)
    }

    fn read(row: &AnyRow, start_ms: i64, width_ms: i64) -> Result<Self, sqlx::Error> {
        Ok(Self {
            start_ms,
            width_ms,
            counters: Counters::from_row(row)?,
            histograms: Histograms::from_row(row)?,
            applied_position: row.try_get("applied_position")?,
        })
    }

    /// The `metrics_buckets` row's values in [`BUCKET_COLUMNS`] order, for `session`.
    pub fn bucket_values(&self, session: &str) -> Vec<Value> {
        let head = [json!(session), json!(self.start_ms), json!(self.width_ms)];
        self.values(&head)
    }

    /// The `metrics_totals` row's values in [`TOTAL_COLUMNS`] order, for `session`.
    pub fn total_values(&self, session: &str) -> Vec<Value> {
        self.values(&[json!(session)])
    }

    fn values(&self, head: &[Value]) -> Vec<Value> {
        let mut values = head.to_vec();
        values.extend(self.counters.values());
        values.extend(self.histograms.values());
        values.push(json!(self.applied_position));
        values
    }
}

/// Column names of a `metrics_buckets` row, in [`Bucket::bucket_values`] order.
pub fn bucket_column_names() -> String {
    format!(
        "session_id, bucket_start_ms, width_ms, {COUNTER_NAMES}, {HISTOGRAM_NAMES}, applied_position"
    )
}

/// Column names of a `metrics_totals` row, in [`Bucket::total_values`] order.
pub fn total_column_names() -> String {
    format!("session_id, {COUNTER_NAMES}, {HISTOGRAM_NAMES}, applied_position")
}

use Col::{Float, Int, Text};

/// SQL types of [`Bucket::bucket_values`].
pub const BUCKET_COLUMNS: [Col; 21] = [
    Text, Int, Int, Int, Int, Int, Int, Int, Int, Int, Float, Float, Int, Float, Int, Text, Text,
    Text, Text, Text, Int,
];

/// SQL types of [`Bucket::total_values`].
pub const TOTAL_COLUMNS: [Col; 19] = [
    Text, Int, Int, Int, Int, Int, Int, Int, Float, Float, Int, Float, Int, Text, Text, Text, Text,
    Text, Int,
];

#[cfg(test)]
mod tests {
    use super::total_column_names;
    use super::{BUCKET_COLUMNS, Bucket, TOTAL_COLUMNS, bucket_column_names, bucket_of};

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
    fn rows_have_a_value_and_a_type_per_column() {
        let b = Bucket::new(1000, 1000);
        let names = |s: String| s.split(", ").count();
        assert_eq!(b.bucket_values("s").len(), names(bucket_column_names()));
        assert_eq!(BUCKET_COLUMNS.len(), names(bucket_column_names()));
        assert_eq!(b.total_values("s").len(), names(total_column_names()));
        assert_eq!(TOTAL_COLUMNS.len(), names(total_column_names()));
    }
}
