//! Load model (`executionConfig.load`, k6 semantics): closed-model users (constant or ramping)
//! and open-model arrival rates (constant or ramping), stop conditions and their validation.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::validation::Validator;

/// Most concurrent conversations one session (and one node) may run.
pub const MAX_CONVERSATIONS_PER_NODE: u32 = 10_000;
/// Highest arrival rate, conversations per second.
pub const MAX_ARRIVALS_PER_SECOND: f64 = 10_000.0;
const MAX_RUN: Duration = Duration::from_secs(24 * 3600);

/// A duration written as text (`"30s"`, `"5m"`, `"1h30m"`, `"500ms"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span(pub Duration);

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(text.trim())
            .map(Span)
            .map_err(|e| serde::de::Error::custom(format!("not a duration like \"30s\" ({e})")))
    }
}

/// The four executors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Executor {
    ConstantUsers,
    RampingUsers,
    ConstantArrivalRate,
    RampingArrivalRate,
}

impl Executor {
    pub fn is_open(self) -> bool {
        matches!(self, Self::ConstantArrivalRate | Self::RampingArrivalRate)
    }
}

/// How arrivals are spaced in the open model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    #[default]
    Uniform,
    Poisson,
}

/// One ramp stage: reach `target` (users, or arrivals per `timeUnit`) linearly over `duration`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stage {
    pub duration: Span,
    pub target: f64,
}

/// Ends a run early when the error rate passes a limit after a warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AbortOn {
    /// Share of failed exchanges (0–1) above which the session fails with `abort_on_error_rate`.
    pub error_rate: f64,
    /// Time from the start during which the rule is not checked.
    #[serde(default)]
    pub warmup: Span,
    /// Finished exchanges needed before the rule is checked.
    #[serde(default = "default_min_exchanges")]
    pub min_exchanges: u64,
}

fn default_min_exchanges() -> u64 {
    10
}

/// `executionConfig.load`. Which fields apply depends on `executor` (see `docs/load.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadSpec {
    pub executor: Executor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Span>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<Stage>,
    /// Users (ramping-users) or rate (ramping-arrival-rate) before the first stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// Arrivals per `timeUnit` (constant-arrival-rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_unit: Option<Span>,
    #[serde(default)]
    pub distribution: Distribution,
    /// Seed of the Poisson arrival process (deterministic runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Pause between the conversations of one user (closed model).
    #[serde(default)]
    pub think_time_ms: u64,
    /// Conversations to start in all; reaching it ends the run (`max_conversations`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_conversations: Option<u64>,
    /// Open model: conversations running at once; an arrival beyond it is dropped and counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_on: Option<AbortOn>,
}

impl LoadSpec {
    /// Length of the run: `duration`, or the sum of the stages.
    pub fn total_duration(&self) -> Duration {
        match self.executor {
            Executor::ConstantUsers | Executor::ConstantArrivalRate => {
                self.duration.unwrap_or_default().0
            }
            _ => self.stages.iter().map(|s| s.duration.0).sum(),
        }
    }

    /// The time unit of rates (default one second).
    pub fn unit(&self) -> Duration {
        self.time_unit
            .map_or(Duration::from_secs(1), |u| u.0)
            .max(Duration::from_millis(1))
    }

    /// Users (closed) or arrivals per `timeUnit` (open) wanted at `t` from the start.
    pub fn level_at(&self, t: Duration) -> f64 {
        match self.executor {
            Executor::ConstantUsers => f64::from(self.users.unwrap_or(0)),
            Executor::ConstantArrivalRate => self.rate.unwrap_or(0.0),
            _ => ramp_level(self.start.unwrap_or(0.0), &self.stages, t),
        }
    }

    /// Arrivals per second wanted at `t` (open model).
    pub fn rate_per_second_at(&self, t: Duration) -> f64 {
        self.level_at(t) / self.unit().as_secs_f64()
    }

    /// Highest number of users the run reaches (closed model).
    pub fn peak_users(&self) -> u32 {
        match self.executor {
            Executor::ConstantUsers => self.users.unwrap_or(0),
            _ => self
                .stages
                .iter()
                .map(|s| s.target)
                .fold(self.start.unwrap_or(0.0), f64::max)
                .ceil() as u32,
        }
    }

    /// Conversations the schedule intends to start in the open model (integral of the rate).
    pub fn intended_arrivals(&self) -> f64 {
        let unit = self.unit().as_secs_f64();
        match self.executor {
            Executor::ConstantArrivalRate => {
                self.rate.unwrap_or(0.0) * self.total_duration().as_secs_f64() / unit
            }
            _ => {
                let mut from = self.start.unwrap_or(0.0);
                let mut total = 0.0;
                for stage in &self.stages {
                    total += (from + stage.target) / 2.0 * stage.duration.0.as_secs_f64() / unit;
                    from = stage.target;
                }
                total
            }
        }
    }
}

/// Linear interpolation through the stages; after the last stage, its target.
fn ramp_level(start: f64, stages: &[Stage], t: Duration) -> f64 {
    let mut from = start;
    let mut elapsed = Duration::ZERO;
    for stage in stages {
        let end = elapsed + stage.duration.0;
        if t < end {
            let part = (t - elapsed).as_secs_f64() / stage.duration.0.as_secs_f64();
            return from + (stage.target - from) * part;
        }
        from = stage.target;
        elapsed = end;
    }
    from
}

/// Checks `load` (field names under `prefix`, e.g. `load`); errors name the field and the rule.
pub fn validate_load(v: &mut Validator, prefix: &str, load: &LoadSpec) {
    let f = |name: &str| format!("{prefix}.{name}");
    match load.executor {
        Executor::ConstantUsers => {
            match load.users {
                None => v.push(f("users"), "is required for constant-users"),
                Some(u) => v.range(&f("users"), u.into(), 1, MAX_CONVERSATIONS_PER_NODE.into()),
            }
            check_duration(v, &f("duration"), load.duration);
        }
        Executor::ConstantArrivalRate => {
            match load.rate {
                None => v.push(f("rate"), "is required for constant-arrival-rate"),
                Some(r) => check_rate(v, &f("rate"), r, load.unit()),
            }
            check_duration(v, &f("duration"), load.duration);
        }
        Executor::RampingUsers | Executor::RampingArrivalRate => check_stages(v, prefix, load),
    }
    check_options(v, prefix, load);
}

fn check_duration(v: &mut Validator, field: &str, d: Option<Span>) {
    match d {
        None => v.push(field, "is required (e.g. \"5m\")"),
        Some(Span(d)) if d.is_zero() || d > MAX_RUN => {
            v.push(field, "must be longer than 0 and at most 24h")
        }
        Some(_) => {}
    }
}

fn check_rate(v: &mut Validator, field: &str, rate: f64, unit: Duration) {
    let per_second = rate / unit.as_secs_f64();
    if !rate.is_finite() || rate < 0.0 || per_second > MAX_ARRIVALS_PER_SECOND {
        v.push(
            field,
            format!("must be 0 or more and at most {MAX_ARRIVALS_PER_SECOND} per second"),
        );
    }
}

fn check_stages(v: &mut Validator, prefix: &str, load: &LoadSpec) {
    let open = load.executor.is_open();
    if load.stages.is_empty() {
        v.push(
            format!("{prefix}.stages"),
            "must contain at least one stage",
        );
    }
    let mut total = Duration::ZERO;
    for (i, stage) in load.stages.iter().enumerate() {
        let field = format!("{prefix}.stages[{i}].target");
        if open {
            check_rate(v, &field, stage.target, load.unit());
        } else if !(0.0..=f64::from(MAX_CONVERSATIONS_PER_NODE)).contains(&stage.target) {
            v.push(
                field,
                format!("must be between 0 and {MAX_CONVERSATIONS_PER_NODE}"),
            );
        }
        total += stage.duration.0;
    }
    if total.is_zero() && !load.stages.is_empty() || total > MAX_RUN {
        v.push(
            format!("{prefix}.stages"),
            "durations must add up to more than 0 and at most 24h",
        );
    }
    if let Some(start) = load.start {
        let field = format!("{prefix}.start");
        if open {
            check_rate(v, &field, start, load.unit());
        } else if !(0.0..=f64::from(MAX_CONVERSATIONS_PER_NODE)).contains(&start) {
            v.push(
                field,
                format!("must be between 0 and {MAX_CONVERSATIONS_PER_NODE}"),
            );
        }
    }
}

fn check_options(v: &mut Validator, prefix: &str, load: &LoadSpec) {
    let f = |name: &str| format!("{prefix}.{name}");
    if let Some(n) = load.max_conversations
        && n == 0
    {
        v.push(f("maxConversations"), "must be at least 1");
    }
    if let Some(n) = load.max_concurrent {
        if !load.executor.is_open() {
            v.push(f("maxConcurrent"), "applies only to arrival-rate executors");
        }
        v.range(
            &f("maxConcurrent"),
            n.into(),
            1,
            MAX_CONVERSATIONS_PER_NODE.into(),
        );
    }
    if load.executor.is_open() && load.think_time_ms > 0 {
        v.push(f("thinkTimeMs"), "applies only to the users executors");
    }
    v.range(&f("thinkTimeMs"), load.think_time_ms as i64, 0, 300_000);
    if let Some(unit) = load.time_unit
        && unit.0.is_zero()
    {
        v.push(f("timeUnit"), "must be longer than 0");
    }
    if let Some(a) = &load.abort_on {
        if !(0.0..=1.0).contains(&a.error_rate) {
            v.push(f("abortOn.errorRate"), "must be between 0 and 1");
        }
        if a.min_exchanges == 0 {
            v.push(f("abortOn.minExchanges"), "must be at least 1");
        }
    }
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
