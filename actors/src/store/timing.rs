//! Append latency of this process: a fixed-bucket histogram of group-commit durations, kept in
//! atomics so recording costs a few relaxed increments. The app renders it as
//! `krawall_store_append_seconds` on `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the buckets; a last `+Inf` bucket is implied.
pub const APPEND_BUCKETS: [f64; 12] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Counts of commits per bucket (not cumulative; the last slot is `+Inf`), their sum and count.
#[derive(Debug, Default)]
pub(super) struct AppendTimings {
    buckets: [AtomicU64; APPEND_BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

/// A copy of the histogram at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendLatency {
    /// Cumulative counts per bucket of [`APPEND_BUCKETS`], then `+Inf` (= `count`).
    pub cumulative: Vec<u64>,
    pub sum_seconds: f64,
    pub count: u64,
}

impl AppendTimings {
    pub(super) fn record(&self, took: Duration) {
        let secs = took.as_secs_f64();
        let slot = APPEND_BUCKETS
            .iter()
            .position(|bound| secs <= *bound)
            .unwrap_or(APPEND_BUCKETS.len());
        self.buckets[slot].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub(super) fn snapshot(&self) -> AppendLatency {
        let mut total = 0;
        let cumulative = self
            .buckets
            .iter()
            .map(|b| {
                total += b.load(Ordering::Relaxed);
                total
            })
            .collect();
        AppendLatency {
            cumulative,
            sum_seconds: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
            count: total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_inf_counts_everything() {
        let t = AppendTimings::default();
        t.record(Duration::from_micros(300));
        t.record(Duration::from_millis(3));
        t.record(Duration::from_secs(10));
        let s = t.snapshot();
        assert_eq!(s.cumulative.len(), APPEND_BUCKETS.len() + 1);
        assert_eq!(s.cumulative[0], 1, "0.3 ms ≤ 0.5 ms");
        assert_eq!(s.cumulative[2], 1, "3 ms > 2.5 ms");
        assert_eq!(s.cumulative[3], 2, "3 ms ≤ 5 ms");
        assert_eq!(s.cumulative[APPEND_BUCKETS.len() - 1], 2);
        assert_eq!(s.cumulative[APPEND_BUCKETS.len()], 3);
        assert_eq!(s.count, 3);
        assert!((s.sum_seconds - 10.003_3).abs() < 1e-9);
    }
}
