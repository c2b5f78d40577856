//! Scenario: the canonical conversation plan (steps, repetitions, policies) and its validation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::condition::Condition;
use super::conversation::HistoryPolicy;
use super::faults::{FaultSpec, validate_faults};
use super::load::{LoadSpec, MAX_CONVERSATIONS_PER_NODE, validate_load};
use super::thresholds::validate_thresholds;
use super::validation::{FieldError, Validator};

/// A scenario as stored in events and returned by the API (canonical schema, camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default = "default_category")]
    pub category: String,
    pub flow_config: Vec<Step>,
    #[serde(default = "one")]
    pub repetitions: u32,
    #[serde(default = "one")]
    pub concurrency: u32,
    #[serde(default)]
    pub delay_between_ms: u64,
    /// Custom template variables; they win over built-in ones.
    #[serde(default)]
    pub message_templates: BTreeMap<String, String>,
    #[serde(default)]
    pub verbosity_level: Verbosity,
    #[serde(default)]
    pub error_handling: ErrorHandling,
    /// Per-message timeout; the request is aborted when it passes.
    #[serde(default = "default_timeout")]
    pub message_timeout_ms: u64,
    /// Variables extracted from each reply: name → JSONPath over the reply JSON.
    #[serde(default)]
    pub variable_extractors: BTreeMap<String, String>,
    /// System prompt sent first in every conversation (where the target places history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// How much of the conversation each request carries (see `domain::conversation`).
    #[serde(default, skip_serializing_if = "HistoryPolicy::is_full")]
    pub history: HistoryPolicy,
    /// Load shape; without it `repetitions` × `concurrency` runs (see `domain::load`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadSpec>,
    /// Share of exchanges replaced by injected faults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<FaultSpec>,
    /// Token and cost limits; crossing one fails the session with `budget_exceeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    /// Pass/fail conditions on the summary (`{"latency_p95_ms": "<2000"}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub thresholds: BTreeMap<String, String>,
}

/// `budget`: the session stops when its tokens (in + out) or its cost cross a limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Budget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// In the currency of the model's price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost: Option<f64>,
}

fn default_category() -> String {
    "custom".to_string()
}
fn one() -> u32 {
    1
}
fn default_timeout() -> u64 {
    super::settings::BUILTIN_MESSAGE_TIMEOUT_MS
}

/// One step of a flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(flatten)]
    pub kind: StepKind,
}

/// The four step types. Anything else is rejected at validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "config", rename_all = "lowercase")]
pub enum StepKind {
    Message(MessageStep),
    Delay(DelayStep),
    Loop(LoopStep),
    Conditional(ConditionalStep),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageStep {
    pub content: String,
    /// Deliberate fault for this request: `malformed_json`, `empty_body` or `oversized`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inject: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DelayStep {
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoopStep {
    pub iterations: u32,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalStep {
    pub condition: Condition,
    #[serde(default)]
    pub then_steps: Vec<Step>,
    #[serde(default)]
    pub else_steps: Vec<Step>,
}

/// Suffix appended to every message to make replies longer (or shorter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Verbosity {
    Minimal,
    Basic,
    #[default]
    Normal,
    Verbose,
    Extreme,
}

impl Verbosity {
    /// The text appended to a message (empty for `normal`).
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Minimal => " Answer in one short sentence.",
            Self::Basic => " Answer clearly and concisely.",
            Self::Normal => "",
            Self::Verbose => " Please provide a detailed response with examples and explanations.",
            Self::Extreme => {
                " Please provide an extremely detailed, comprehensive response with code samples, \
                 examples, edge cases and step-by-step explanations. Be as verbose as possible."
            }
        }
    }
}

/// What to do when an exchange fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ErrorAction {
    #[default]
    Skip,
    Abort,
    Retry,
}

impl ErrorAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Skip => "skip",
            Self::Abort => "abort",
            Self::Retry => "retry",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryConfig {
    pub max_retries: u32,
    pub delay_ms: u64,
    pub backoff_multiplier: f64,
    pub max_delay_ms: u64,
    /// Longest `Retry-After` honoured; a bot asking for more waits this long.
    #[serde(default = "default_max_retry_after")]
    pub max_retry_after_ms: u64,
}

fn default_max_retry_after() -> u64 {
    60_000
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 3,
            delay_ms: 1000,
            backoff_multiplier: 1.5,
            max_delay_ms: 30_000,
            max_retry_after_ms: default_max_retry_after(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCodeRule {
    pub codes: Vec<u16>,
    pub action: ErrorAction,
}

/// Error policy: the first status-code rule containing the status wins, else `onError`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ErrorHandling {
    #[serde(default)]
    pub on_error: ErrorAction,
    #[serde(default)]
    pub retry_config: RetryConfig,
    #[serde(default)]
    pub status_code_rules: Vec<StatusCodeRule>,
}

impl ErrorHandling {
    /// The action for a failure with this HTTP status (if any).
    pub fn action_for(&self, status: Option<u16>) -> ErrorAction {
        status
            .and_then(|s| self.status_code_rules.iter().find(|r| r.codes.contains(&s)))
            .map_or(self.on_error, |r| r.action)
    }

    /// Backoff before retry `attempt` (1-based), honouring a server's `Retry-After` when longer
    /// (bounded by `maxRetryAfterMs`).
    pub fn retry_delay_ms(&self, attempt: u32, retry_after_ms: Option<u64>) -> u64 {
        let c = &self.retry_config;
        let exp = c.backoff_multiplier.powi(attempt.saturating_sub(1) as i32);
        let backoff = ((c.delay_ms as f64) * exp).min(c.max_delay_ms as f64) as u64;
        retry_after_ms.map_or(backoff, |ra| backoff.max(self.bounded_retry_after(ra)))
    }

    /// A server's `Retry-After`, capped at `maxRetryAfterMs`.
    pub fn bounded_retry_after(&self, retry_after_ms: u64) -> u64 {
        retry_after_ms.min(self.retry_config.max_retry_after_ms)
    }
}

/// Checks ranges and nested steps of a parsed scenario; errors name the field and the rule.
pub fn validate_scenario(spec: &ScenarioSpec) -> Result<(), Vec<FieldError>> {
    let mut v = Validator::default();
    v.length("name", &spec.name, 1, 200);
    v.range("repetitions", spec.repetitions.into(), 1, 1_000_000);
    v.range(
        "concurrency",
        spec.concurrency.into(),
        1,
        MAX_CONVERSATIONS_PER_NODE.into(),
    );
    v.range("delayBetweenMs", spec.delay_between_ms as i64, 0, 300_000);
    v.range(
        "messageTimeoutMs",
        spec.message_timeout_ms as i64,
        100,
        600_000,
    );
    if spec.flow_config.is_empty() {
        v.push("flowConfig", "must contain at least one step");
    }
    validate_steps(&mut v, "flowConfig", &spec.flow_config, 0);
    validate_plan_size(&mut v, spec);
    validate_conversation_and_load(&mut v, spec);
    validate_error_handling(&mut v, &spec.error_handling);
    v.finish()
}

/// Ranges of the retry policy and the status-code rules.
fn validate_error_handling(v: &mut Validator, policy: &ErrorHandling) {
    let r = &policy.retry_config;
    v.range(
        "errorHandling.retryConfig.maxRetryAfterMs",
        r.max_retry_after_ms as i64,
        0,
        3_600_000,
    );
    v.range(
        "errorHandling.retryConfig.maxRetries",
        r.max_retries.into(),
        0,
        100,
    );
    v.range(
        "errorHandling.retryConfig.delayMs",
        r.delay_ms as i64,
        0,
        60_000,
    );
    if !(1.0..=10.0).contains(&r.backoff_multiplier) {
        v.push(
            "errorHandling.retryConfig.backoffMultiplier",
            "must be between 1 and 10",
        );
    }
    v.range(
        "errorHandling.retryConfig.maxDelayMs",
        r.max_delay_ms as i64,
        0,
        300_000,
    );
    for (i, rule) in policy.status_code_rules.iter().enumerate() {
        if rule.codes.is_empty() || rule.codes.iter().any(|c| !(100..=599).contains(c)) {
            v.push(
                format!("errorHandling.statusCodeRules[{i}].codes"),
                "must be 1+ codes in 100..=599",
            );
        }
    }
}

/// The conversation policy, load shape and fault shares.
fn validate_conversation_and_load(v: &mut Validator, spec: &ScenarioSpec) {
    if let Some(system) = &spec.system_prompt {
        v.length("systemPrompt", system, 0, 100_000);
    }
    match spec.history {
        HistoryPolicy::Window(0) => v.push("history.window", "must be at least 1"),
        HistoryPolicy::MaxTokens(0) => v.push("history.maxTokens", "must be at least 1"),
        _ => {}
    }
    if let Some(load) = &spec.load {
        validate_load(v, "load", load);
    }
    if let Some(faults) = &spec.faults {
        validate_faults(v, "faults", faults);
    }
    if let Some(cost) = spec.budget.and_then(|b| b.max_cost)
        && !(cost.is_finite() && cost >= 0.0)
    {
        v.push("budget.maxCost", "must be a number of 0 or more");
    }
    validate_thresholds(v, &spec.thresholds);
}

const MAX_DEPTH: usize = 8;

fn validate_steps(v: &mut Validator, path: &str, steps: &[Step], depth: usize) {
    if depth > MAX_DEPTH {
        v.push(path, format!("steps may nest at most {MAX_DEPTH} levels"));
        return;
    }
    for (i, step) in steps.iter().enumerate() {
        let here = format!("{path}[{i}].config");
        match &step.kind {
            StepKind::Message(m) => {
                if let Some(f) = m
                    .inject
                    .as_ref()
                    .filter(|f| !INJECTABLE_FAULTS.contains(&f.as_str()))
                {
                    v.push(
                        format!("{here}.inject"),
                        format!("must be one of {INJECTABLE_FAULTS:?}, got {f:?}"),
                    );
                }
            }
            StepKind::Delay(d) => v.range(
                &format!("{here}.durationMs"),
                d.duration_ms as i64,
                0,
                300_000,
            ),
            StepKind::Loop(l) => {
                v.range(&format!("{here}.iterations"), l.iterations.into(), 1, 1000);
                if l.steps.is_empty() {
                    v.push(format!("{here}.steps"), "must contain at least one step");
                }
                validate_steps(v, &format!("{here}.steps"), &l.steps, depth + 1);
            }
            StepKind::Conditional(c) => {
                validate_steps(v, &format!("{here}.thenSteps"), &c.then_steps, depth + 1);
                validate_steps(v, &format!("{here}.elseSteps"), &c.else_steps, depth + 1);
            }
        }
    }
}

/// Faults a message step may inject.
pub const INJECTABLE_FAULTS: &[&str] = &["malformed_json", "empty_body", "oversized"];

/// Most steps (messages, delays, loop and branch entries) one conversation may run.
pub const MAX_STEPS_PER_CONVERSATION: u64 = 1_000_000;
/// Most exchanges one session may plan (repetitions × messages per conversation).
pub const MAX_PLANNED_EXCHANGES: u64 = 10_000_000;

/// Nested loops multiply: a flow of 8 nested loops of 1 000 iterations would never end.
fn validate_plan_size(v: &mut Validator, spec: &ScenarioSpec) {
    let steps = max_steps_per_repetition(&spec.flow_config);
    if steps > MAX_STEPS_PER_CONVERSATION {
        v.push(
            "flowConfig",
            format!(
                "plans {steps} steps per conversation (loops multiply); at most \
                 {MAX_STEPS_PER_CONVERSATION}"
            ),
        );
        return;
    }
    let exchanges =
        max_messages_per_repetition(&spec.flow_config).saturating_mul(u64::from(spec.repetitions));
    if spec.load.is_none() && exchanges > MAX_PLANNED_EXCHANGES {
        v.push(
            "repetitions",
            format!(
                "plans {exchanges} exchanges per session (repetitions × messages per \
                 conversation); at most {MAX_PLANNED_EXCHANGES}"
            ),
        );
    }
}

/// Number of messages one repetition sends when every conditional takes its longer branch.
pub fn max_messages_per_repetition(steps: &[Step]) -> u64 {
    steps
        .iter()
        .map(|s| match &s.kind {
            StepKind::Message(_) => 1,
            StepKind::Delay(_) => 0,
            StepKind::Loop(l) => {
                u64::from(l.iterations).saturating_mul(max_messages_per_repetition(&l.steps))
            }
            StepKind::Conditional(c) => max_messages_per_repetition(&c.then_steps)
                .max(max_messages_per_repetition(&c.else_steps)),
        })
        .fold(0, u64::saturating_add)
}

/// Number of steps one repetition runs when every conditional takes its longer branch.
pub fn max_steps_per_repetition(steps: &[Step]) -> u64 {
    steps
        .iter()
        .map(|s| match &s.kind {
            StepKind::Message(_) | StepKind::Delay(_) => 1,
            StepKind::Loop(l) => u64::from(l.iterations)
                .saturating_mul(max_steps_per_repetition(&l.steps))
                .saturating_add(1),
            StepKind::Conditional(c) => max_steps_per_repetition(&c.then_steps)
                .max(max_steps_per_repetition(&c.else_steps))
                .saturating_add(1),
        })
        .fold(0, u64::saturating_add)
}
