//! Accumulates a session's exchange metrics into its [`SessionSummary`]: HDR histograms of
//! latency (as measured, and from when each exchange was due), tokens, errors and waits.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::domain::events::{ErrorKind, LoadReport, SessionSummary, TokenCounts};

/// Highest latency tracked exactly (1 hour); longer values are clamped.
const MAX_TRACKED_MS: u64 = 3_600_000;

/// Running totals of a session; cheap to update per exchange, constant memory.
#[derive(Debug, Clone)]
pub struct SummaryBuilder {
    latency: Option<Histogram<u64>>,
    from_due: Option<Histogram<u64>>,
    ttft: Option<Histogram<u64>>,
    latency_sum: u64,
    errors: BTreeMap<String, u64>,
    failed: u64,
    retries: u64,
    cost: Option<f64>,
    currency: Option<String>,
    repetition_sum: f64,
    repetition_max: f64,
    repetition_count: u64,
    quality_sum: f64,
    tokens_in: u64,
    tokens_out: u64,
    wait_ms: u64,
    backoff_ms: u64,
    load: Option<LoadReport>,
}

impl Default for SummaryBuilder {
    fn default() -> Self {
        let histogram = || Histogram::new_with_bounds(1, MAX_TRACKED_MS, 3).ok();
        Self {
            latency: histogram(),
            from_due: histogram(),
            ttft: histogram(),
            latency_sum: 0,
            errors: BTreeMap::new(),
            failed: 0,
            retries: 0,
            cost: None,
            currency: None,
            repetition_sum: 0.0,
            repetition_max: 0.0,
            repetition_count: 0,
            quality_sum: 0.0,
            tokens_in: 0,
            tokens_out: 0,
            wait_ms: 0,
            backoff_ms: 0,
            load: None,
        }
    }
}

fn record(h: &mut Option<Histogram<u64>>, value: u64) {
    if let Some(h) = h {
        h.saturating_record(value.clamp(1, MAX_TRACKED_MS));
    }
}

impl SummaryBuilder {
    /// A successful reply after `wait_ms` of waiting before it was sent.
    pub fn record_reply(&mut self, latency_ms: u64, wait_ms: u64, tokens: TokenCounts) {
        record(&mut self.latency, latency_ms);
        record(&mut self.from_due, latency_ms.saturating_add(wait_ms));
        self.latency_sum = self.latency_sum.saturating_add(latency_ms);
        self.tokens_in = self.tokens_in.saturating_add(tokens.input);
        self.tokens_out = self.tokens_out.saturating_add(tokens.output);
    }

    /// Time to first token of a streamed reply.
    pub fn record_ttft(&mut self, ttft_ms: u64) {
        record(&mut self.ttft, ttft_ms);
    }

    /// Repetition score of a reply.
    /// Quality score of a reply (one per reply, like the repetition score).
    pub fn record_quality(&mut self, score: f64) {
        self.quality_sum += score;
    }

    pub fn record_repetition(&mut self, score: f64) {
        self.repetition_sum += score;
        self.repetition_max = self.repetition_max.max(score);
        self.repetition_count += 1;
    }

    /// Cost of a reply at the session's model price.
    pub fn record_cost(&mut self, cost: f64, currency: &str) {
        self.cost = Some(self.cost.unwrap_or(0.0) + cost);
        if self.currency.is_none() {
            self.currency = Some(currency.to_string());
        }
    }

    /// A failed attempt: every one counts by kind; one that will be retried counts as a retry,
    /// the others as a failed exchange.
    pub fn record_error(&mut self, kind: ErrorKind, retried: bool) {
        *self.errors.entry(kind.as_str().to_string()).or_default() += 1;
        if retried {
            self.retries += 1;
        } else {
            self.failed += 1;
        }
    }

    /// Tokens in + out and cost so far (for the budget).
    pub fn spent(&self) -> (u64, f64) {
        (
            self.tokens_in.saturating_add(self.tokens_out),
            self.cost.unwrap_or(0.0),
        )
    }

    /// Time an exchange waited before it was sent, and how much of it was a 429 back-off.
    pub fn record_wait(&mut self, wait_ms: u64, backoff_ms: u64) {
        self.wait_ms = self.wait_ms.saturating_add(wait_ms);
        self.backoff_ms = self.backoff_ms.saturating_add(backoff_ms);
    }

    pub fn set_load(&mut self, report: LoadReport) {
        self.load = Some(report);
    }

    /// Successful replies and failed exchanges (retried attempts not included) so far.
    pub fn counts(&self) -> (u64, u64) {
        let replies = self.latency.as_ref().map_or(0, Histogram::len);
        (replies, self.failed)
    }

    pub fn build(&self) -> SessionSummary {
        let pct = |h: &Option<Histogram<u64>>, q: f64| {
            h.as_ref()
                .filter(|h| !h.is_empty())
                .map_or(0, |h| h.value_at_quantile(q))
        };
        let (replies, error_count) = self.counts();
        SessionSummary {
            message_count: replies + error_count,
            error_count,
            tokens_in: self.tokens_in,
            tokens_out: self.tokens_out,
            avg_latency_ms: if replies == 0 {
                0.0
            } else {
                self.latency_sum as f64 / replies as f64
            },
            p50_latency_ms: pct(&self.latency, 0.5),
            p95_latency_ms: pct(&self.latency, 0.95),
            p99_latency_ms: pct(&self.latency, 0.99),
            max_latency_ms: self
                .latency
                .as_ref()
                .map_or(0, |h| if h.is_empty() { 0 } else { h.max() }),
            errors_by_kind: self.errors.clone(),
            wait_ms: self.wait_ms,
            backoff_ms: self.backoff_ms,
            p50_latency_from_due_ms: pct(&self.from_due, 0.5),
            p99_latency_from_due_ms: pct(&self.from_due, 0.99),
            retries: self.retries,
            p50_ttft_ms: pct(&self.ttft, 0.5),
            p95_ttft_ms: pct(&self.ttft, 0.95),
            p99_ttft_ms: pct(&self.ttft, 0.99),
            cost: self.cost,
            currency: self.currency.clone(),
            repetition_mean: (self.repetition_count > 0)
                .then(|| self.repetition_sum / self.repetition_count as f64),
            repetition_max: (self.repetition_count > 0).then_some(self.repetition_max),
            quality_mean: (self.repetition_count > 0)
                .then(|| self.quality_sum / self.repetition_count as f64),
            thresholds: Vec::new(),
            thresholds_passed: None,
            load: self.load.clone(),
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
            let tokens = TokenCounts {
                input: 1,
                output: 2,
                estimated: false,
            };
            b.record_reply(l, if l == 100 { 900 } else { 0 }, tokens);
        }
        b.record_error(ErrorKind::Timeout, false);
        b.record_error(ErrorKind::RateLimited, true);
        let s = b.build();
        assert_eq!(s.retries, 1, "a retried attempt is not a failed message");
        assert_eq!(s.errors_by_kind["rate_limited"], 1);
        assert_eq!(
            (
                s.p50_latency_ms,
                s.p95_latency_ms,
                s.p99_latency_ms,
                s.max_latency_ms
            ),
            (50, 95, 99, 100)
        );
        assert_eq!(s.p99_latency_from_due_ms, 99);
        assert_eq!(s.avg_latency_ms, 50.5);
        assert_eq!(
            (s.message_count, s.error_count, s.tokens_in, s.tokens_out),
            (101, 1, 100, 200)
        );
        assert_eq!(s.errors_by_kind["timeout"], 1);
    }

    #[test]
    fn huge_token_counts_saturate() {
        let mut b = SummaryBuilder::default();
        let huge = TokenCounts {
            input: u64::MAX - 1,
            output: u64::MAX - 1,
            estimated: false,
        };
        b.record_reply(10, 0, huge);
        b.record_reply(10, 0, huge);
        assert_eq!(b.build().tokens_in, u64::MAX);
    }
}
