//! Accumulates a session's exchange metrics into its [`SessionSummary`].

use std::collections::BTreeMap;

use crate::domain::events::{ErrorKind, SessionSummary, TokenCounts};

/// Running totals of a session; cheap to update per exchange.
#[derive(Debug, Default, Clone)]
pub struct SummaryBuilder {
    latencies: Vec<u64>,
    errors: BTreeMap<String, u64>,
    tokens_in: u64,
    tokens_out: u64,
}

impl SummaryBuilder {
    pub fn record_reply(&mut self, latency_ms: u64, tokens: TokenCounts) {
        self.latencies.push(latency_ms);
        self.tokens_in += tokens.input;
        self.tokens_out += tokens.output;
    }

    pub fn record_error(&mut self, kind: ErrorKind) {
        *self.errors.entry(kind.as_str().to_string()).or_default() += 1;
    }

    /// Percentiles by nearest rank over the successful replies.
    pub fn build(&self) -> SessionSummary {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let pct = |p: f64| -> u64 {
            if sorted.is_empty() {
                return 0;
            }
            let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
            sorted[rank.min(sorted.len()) - 1]
        };
        let error_count: u64 = self.errors.values().sum();
        let sum: u64 = sorted.iter().sum();
        SessionSummary {
            message_count: sorted.len() as u64 + error_count,
            error_count,
            tokens_in: self.tokens_in,
            tokens_out: self.tokens_out,
            avg_latency_ms: if sorted.is_empty() {
                0.0
            } else {
                sum as f64 / sorted.len() as f64
            },
            p50_latency_ms: pct(50.0),
            p95_latency_ms: pct(95.0),
            max_latency_ms: sorted.last().copied().unwrap_or(0),
            errors_by_kind: self.errors.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_counts() {
        let mut b = SummaryBuilder::default();
        for l in 1..=100 {
            b.record_reply(
                l,
                TokenCounts {
                    input: 1,
                    output: 2,
                    estimated: false,
                },
            );
        }
        b.record_error(ErrorKind::Timeout);
        let s = b.build();
        assert_eq!(
            (s.p50_latency_ms, s.p95_latency_ms, s.max_latency_ms),
            (50, 95, 100)
        );
        assert_eq!(
            (s.message_count, s.error_count, s.tokens_in, s.tokens_out),
            (101, 1, 100, 200)
        );
        assert_eq!(s.errors_by_kind["timeout"], 1);
    }
}
