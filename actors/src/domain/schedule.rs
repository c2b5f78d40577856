//! Schedules: a scenario run against one or more targets on a cron expression (5 fields, or 6
//! with seconds) in an IANA time zone (DST-correct through `croner` + `chrono-tz`), with a
//! missed-run policy; `ScheduleFired {slot}` appended at the expected version records each run.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::batch::validate_target_ids;
use super::events::DomainEvent;
use super::validation::{FieldError, Validator};

/// What to do with slots that passed while no node was running (or the schedule was late).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MissedRunPolicy {
    /// Missed slots are not run; the next slot is.
    #[default]
    Skip,
    /// One run (marked `missed`) makes up for all missed slots.
    RunOnce,
}

impl MissedRunPolicy {
    pub const ALL: [MissedRunPolicy; 2] = [Self::Skip, Self::RunOnce];

    /// The wire name (`skip`, `runOnce`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Skip => "skip",
            Self::RunOnce => "runOnce",
        }
    }
}

/// A slot later than this is missed; an earlier one still runs (late).
pub const MISSED_AFTER_MS: i64 = 60_000;

/// A schedule's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleSpec {
    pub name: String,
    pub scenario_id: Uuid,
    pub target_ids: Vec<Uuid>,
    pub cron_expression: String,
    pub timezone: String,
    /// `executionConfig` overrides applied to every run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_config: Option<Value>,
    #[serde(default)]
    pub missed_run_policy: MissedRunPolicy,
}

/// Full state after a create or update (`ScheduleCreated`, `ScheduleUpdated`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleSnapshot {
    pub schedule_id: Uuid,
    #[serde(flatten)]
    pub spec: ScheduleSpec,
    pub is_enabled: bool,
}

/// `ScheduleEnabled` / `ScheduleDisabled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleToggled {
    pub schedule_id: Uuid,
}

/// A slot ran: its batch (one session per target) was queued under `batchId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleFired {
    pub schedule_id: Uuid,
    /// The cron slot, epoch ms (UTC).
    pub slot_ms: i64,
    pub batch_id: Uuid,
    /// A `runOnce` catch-up for slots missed while no node ran.
    #[serde(default)]
    pub missed: bool,
}

/// Stream id of a schedule.
pub fn schedule_stream(id: Uuid) -> String {
    format!("schedule-{id}")
}

/// Parses a 5- or 6-field cron expression (seconds first when 6).
pub fn parse_cron(expr: &str) -> Result<Cron, String> {
    let fields = expr.split_whitespace().count();
    if !(5..=6).contains(&fields) {
        return Err(format!("must have 5 or 6 fields, got {fields}"));
    }
    CronParser::builder()
        .seconds(Seconds::Optional)
        .build()
        .parse(expr)
        .map_err(|e| e.to_string())
}

/// Parses an IANA time zone name.
pub fn parse_timezone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>()
        .map_err(|_| format!("{name:?} is not an IANA time zone"))
}

/// Every IANA time zone name a schedule accepts, for pickers.
pub fn timezone_names() -> Vec<&'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect()
}

/// Checks a schedule's settings; returns the parsed cron and zone.
pub fn validate_schedule(spec: &ScheduleSpec) -> Result<(Cron, Tz), Vec<FieldError>> {
    let mut v = Validator::default();
    v.length("name", &spec.name, 1, 200);
    if let Err(errors) = validate_target_ids(&spec.target_ids) {
        v.extend(errors);
    }
    let cron = parse_cron(&spec.cron_expression)
        .map_err(|e| v.push("cronExpression", e))
        .ok();
    let tz = parse_timezone(&spec.timezone)
        .map_err(|e| v.push("timezone", e))
        .ok();
    v.finish()?;
    match (cron, tz) {
        (Some(c), Some(t)) => Ok((c, t)),
        _ => Err(Vec::new()),
    }
}

/// The first slot strictly after `after`, in UTC.
pub fn next_after(cron: &Cron, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let local = after.with_timezone(&tz);
    cron.find_next_occurrence(&local, false)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The next `n` slots after `after`, in the schedule's zone.
pub fn next_runs(cron: &Cron, tz: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Tz>> {
    let mut out = Vec::with_capacity(n);
    let mut cursor = after;
    while out.len() < n {
        let Some(next) = next_after(cron, tz, cursor) else {
            break;
        };
        out.push(next.with_timezone(&tz));
        cursor = next;
    }
    out
}

/// What the scheduler should do for one schedule now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Run this slot.
    Fire { slot_ms: i64, missed: bool },
    /// Slots up to this one were missed and are skipped.
    SkipTo(i64),
    /// Nothing before this slot.
    Wait(i64),
    /// The expression has no further slot.
    Never,
}

/// Decides for a schedule whose last run (or activation) was at `since_ms`: the next slot if
/// it has come (late by at most [`MISSED_AFTER_MS`]), else the latest passed slot under the
/// missed-run policy.
pub fn due(cron: &Cron, tz: Tz, since_ms: i64, now_ms: i64, policy: MissedRunPolicy) -> Due {
    let at = |ms: i64| Utc.timestamp_millis_opt(ms).single();
    let Some(next) = at(since_ms).and_then(|s| next_after(cron, tz, s)) else {
        return Due::Never;
    };
    let next = next.timestamp_millis();
    if next > now_ms {
        return Due::Wait(next);
    }
    let latest = at(now_ms)
        .and_then(|now| {
            cron.find_previous_occurrence(&now.with_timezone(&tz), true)
                .ok()
        })
        .map_or(next, |t| t.timestamp_millis().max(next));
    if now_ms - latest <= MISSED_AFTER_MS {
        return Due::Fire {
            slot_ms: latest,
            missed: false,
        };
    }
    match policy {
        MissedRunPolicy::Skip => Due::SkipTo(latest),
        MissedRunPolicy::RunOnce => Due::Fire {
            slot_ms: latest,
            missed: true,
        },
    }
}

/// Folded state of a schedule stream, as the scheduler needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScheduleState {
    pub snapshot: Option<ScheduleSnapshot>,
    pub deleted: bool,
    /// Stream version: the expected version of the next append.
    pub version: i64,
    pub last_slot_ms: Option<i64>,
    pub last_batch: Option<Uuid>,
    /// When the schedule was created, re-enabled or changed: slots before are never run.
    pub active_since_ms: i64,
}

impl ScheduleState {
    /// Applies the event at stream `version` (recorded at `at_ms`); older versions are ignored.
    pub fn apply(&mut self, version: i64, at_ms: i64, event: &DomainEvent) {
        if version <= self.version {
            return;
        }
        self.version = version;
        match event {
            DomainEvent::ScheduleCreated(s) | DomainEvent::ScheduleUpdated(s) => {
                self.snapshot = Some(s.clone());
                self.active_since_ms = at_ms;
            }
            DomainEvent::ScheduleEnabled(_) | DomainEvent::ScheduleDisabled(_) => {
                let enabled = matches!(event, DomainEvent::ScheduleEnabled(_));
                if let Some(s) = self.snapshot.as_mut() {
                    s.is_enabled = enabled;
                }
                self.active_since_ms = at_ms;
            }
            DomainEvent::ScheduleFired(f) => {
                self.last_slot_ms = Some(f.slot_ms);
                self.last_batch = Some(f.batch_id);
            }
            DomainEvent::ScheduleDeleted(_) => self.deleted = true,
            _ => {}
        }
    }

    /// The live settings, `None` when absent or deleted.
    pub fn live(&self) -> Option<&ScheduleSnapshot> {
        self.snapshot.as_ref().filter(|_| !self.deleted)
    }

    /// Where the next slot is searched from: the last run or the last activation.
    pub fn since_ms(&self) -> i64 {
        self.last_slot_ms.unwrap_or(0).max(self.active_since_ms)
    }
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
