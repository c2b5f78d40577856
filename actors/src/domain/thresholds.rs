//! Thresholds as code (k6 style): `{"latency_p95_ms": "<2000", "error_rate": "<0.01"}` in a
//! scenario or `executionConfig`, checked against the final summary; a CI gate for `krawall run`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::events::SessionSummary;
use super::validation::Validator;

/// Metrics a threshold may name, with how each is read from the summary.
pub const METRICS: &[&str] = &[
    "latency_avg_ms",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_max_ms",
    "latency_from_due_p99_ms",
    "ttft_p50_ms",
    "ttft_p95_ms",
    "ttft_p99_ms",
    "error_rate",
    "errors",
    "rate_limited",
    "tokens_total",
    "cost_total",
    "dropped_conversations",
    "repetition_mean",
    "repetition_max",
];

/// A comparison and its bound, parsed from `"<2000"`, `"<=0.5"`, `">10"`, `">=1"` or `"==0"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Condition {
    pub op: Comparison,
    pub bound: f64,
}

/// The comparison of a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Below,
    AtMost,
    Above,
    AtLeast,
    Equal,
}

impl Comparison {
    /// Longest tokens first, so `<=` is not read as `<`.
    const TOKENS: [(&'static str, Comparison); 5] = [
        ("<=", Comparison::AtMost),
        (">=", Comparison::AtLeast),
        ("==", Comparison::Equal),
        ("<", Comparison::Below),
        (">", Comparison::Above),
    ];
}

impl Condition {
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (token, op) = Comparison::TOKENS
            .into_iter()
            .find(|(token, _)| text.starts_with(token))?;
        let bound: f64 = text[token.len()..].trim().parse().ok()?;
        bound.is_finite().then_some(Self { op, bound })
    }

    pub fn holds(&self, actual: f64) -> bool {
        match self.op {
            Comparison::AtMost => actual <= self.bound,
            Comparison::AtLeast => actual >= self.bound,
            Comparison::Equal => (actual - self.bound).abs() < 1e-9,
            Comparison::Below => actual < self.bound,
            Comparison::Above => actual > self.bound,
        }
    }
}

/// The verdict on one threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThresholdResult {
    pub metric: String,
    pub condition: String,
    pub actual: f64,
    pub passed: bool,
}

/// The value of `metric` in a summary (`None` for an unknown metric).
pub fn metric_value(summary: &SessionSummary, metric: &str) -> Option<f64> {
    let s = summary;
    let rate = |n: u64| n as f64 / s.message_count.max(1) as f64;
    Some(match metric {
        "latency_avg_ms" => s.avg_latency_ms,
        "latency_p50_ms" => s.p50_latency_ms as f64,
        "latency_p95_ms" => s.p95_latency_ms as f64,
        "latency_p99_ms" => s.p99_latency_ms as f64,
        "latency_max_ms" => s.max_latency_ms as f64,
        "latency_from_due_p99_ms" => s.p99_latency_from_due_ms as f64,
        "ttft_p50_ms" => s.p50_ttft_ms as f64,
        "ttft_p95_ms" => s.p95_ttft_ms as f64,
        "ttft_p99_ms" => s.p99_ttft_ms as f64,
        "error_rate" => rate(s.error_count),
        "errors" => s.error_count as f64,
        "rate_limited" => s.errors_by_kind.get("rate_limited").copied().unwrap_or(0) as f64,
        "tokens_total" => s.tokens_in.saturating_add(s.tokens_out) as f64,
        "cost_total" => s.cost.unwrap_or(0.0),
        "dropped_conversations" => s.load.as_ref().map_or(0, |l| l.dropped_conversations) as f64,
        "repetition_mean" => s.repetition_mean.unwrap_or(0.0),
        "repetition_max" => s.repetition_max.unwrap_or(0.0),
        _ => return None,
    })
}

/// Checks every threshold against the summary.
pub fn evaluate(
    thresholds: &BTreeMap<String, String>,
    summary: &SessionSummary,
) -> Vec<ThresholdResult> {
    thresholds
        .iter()
        .filter_map(|(metric, text)| {
            let condition = Condition::parse(text)?;
            let actual = metric_value(summary, metric)?;
            Some(ThresholdResult {
                metric: metric.clone(),
                condition: text.trim().to_string(),
                actual,
                passed: condition.holds(actual),
            })
        })
        .collect()
}

/// Unknown metrics and malformed conditions, named `thresholds.<metric>`.
pub fn validate_thresholds(v: &mut Validator, thresholds: &BTreeMap<String, String>) {
    for (metric, text) in thresholds {
        let field = format!("thresholds.{metric}");
        if !METRICS.contains(&metric.as_str()) {
            v.push(
                field,
                format!("unknown metric; one of {}", METRICS.join(", ")),
            );
        } else if Condition::parse(text).is_none() {
            v.push(
                field,
                "must be a comparison such as \"<2000\", \"<=0.01\" or \">10\"",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_parse_and_hold() {
        let c = Condition::parse(" <= 0.5").unwrap();
        assert!(c.holds(0.5) && !c.holds(0.51));
        assert!(Condition::parse(">10").unwrap().holds(11.0));
        assert!(Condition::parse("==0").unwrap().holds(0.0));
        for bad in ["2000", "<", "<abc", "=>1", "<inf"] {
            assert!(Condition::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn evaluates_against_a_summary() {
        let summary = SessionSummary {
            message_count: 200,
            error_count: 4,
            p95_latency_ms: 1800,
            cost: Some(0.25),
            ..SessionSummary::default()
        };
        let t = BTreeMap::from([
            ("latency_p95_ms".to_string(), "<2000".to_string()),
            ("error_rate".to_string(), "<0.01".to_string()),
            ("cost_total".to_string(), "<=0.25".to_string()),
        ]);
        let results = evaluate(&t, &summary);
        let verdicts: Vec<(&str, f64, bool)> = results
            .iter()
            .map(|r| (r.metric.as_str(), r.actual, r.passed))
            .collect();
        assert_eq!(
            verdicts,
            [
                ("cost_total", 0.25, true),
                ("error_rate", 0.02, false),
                ("latency_p95_ms", 1800.0, true)
            ]
        );
    }

    #[test]
    fn unknown_metrics_and_bad_conditions_are_named() {
        let mut v = Validator::default();
        let t = BTreeMap::from([
            ("latency_p42".to_string(), "<1".to_string()),
            ("error_rate".to_string(), "small".to_string()),
        ]);
        validate_thresholds(&mut v, &t);
        let fields: Vec<String> = v
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["thresholds.error_rate", "thresholds.latency_p42"]);
    }
}
