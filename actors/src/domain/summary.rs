//! The session summary recorded in every terminal event: counts, latency and TTFT percentiles,
//! tokens, cost, waits, threshold verdicts and the load report.

use serde::{Deserialize, Serialize};

use super::load::Executor;
use super::thresholds::ThresholdResult;

/// Totals over a finished session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    pub message_count: u64,
    pub error_count: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub avg_latency_ms: f64,
    pub p50_latency_ms: u64,
    pub p95_latency_ms: u64,
    pub max_latency_ms: u64,
    pub errors_by_kind: std::collections::BTreeMap<String, u64>,
    #[serde(default)]
    pub p99_latency_ms: u64,
    /// Time exchanges waited before being sent (rate limiter, 429 back-off, late starts).
    #[serde(default)]
    pub wait_ms: u64,
    /// Of `wait_ms`, the part spent backing off after 429 replies.
    #[serde(default)]
    pub backoff_ms: u64,
    /// Latency measured from when each exchange was due (corrects coordinated omission).
    #[serde(default)]
    pub p50_latency_from_due_ms: u64,
    #[serde(default)]
    pub p99_latency_from_due_ms: u64,
    /// Attempts that failed and were retried (not counted in `errorCount`).
    #[serde(default)]
    pub retries: u64,
    /// Time to first token of streamed replies.
    #[serde(default)]
    pub p50_ttft_ms: u64,
    #[serde(default)]
    pub p95_ttft_ms: u64,
    #[serde(default)]
    pub p99_ttft_ms: u64,
    /// Cost of the replies at the frozen model price (absent when the model has no price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Mean and highest repetition score of the replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetition_mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetition_max: Option<f64>,
    /// Mean quality score of the replies (`domain::quality`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_mean: Option<f64>,
    /// Verdicts of the scenario's `thresholds`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<ThresholdResult>,
    /// `false` when any threshold failed; absent without thresholds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds_passed: Option<bool>,
    /// Present when the session ran a load shape (`executionConfig.load`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadReport>,
}

/// What a load shape achieved against what it intended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    pub executor: Executor,
    /// Conversations the schedule meant to start (open model: the integral of the rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intended_conversations: Option<u64>,
    pub started_conversations: u64,
    pub completed_conversations: u64,
    /// Arrivals that could not start on time (concurrency cap or node budget reached).
    pub dropped_conversations: u64,
    pub peak_concurrent: u64,
    pub duration_ms: u64,
    pub stop_reason: StopReason,
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Every planned conversation ran (repetitions, or the stages/duration elapsed).
    #[default]
    Completed,
    Duration,
    MaxConversations,
    Cancelled,
    AbortOnErrorRate,
    BudgetExceeded,
    Aborted,
}
