//! Session commands: execute (freeze the plan, append `SessionQueued`, hand it to the dispatcher),
//! restart, cancel and delete.

use std::collections::BTreeMap;

use serde::Deserialize;
use uuid::Uuid;

use crate::domain::conversation::HistoryPolicy;
use crate::domain::events::{
    DomainEvent, ScenarioSnapshot, SessionQueued, TargetSnapshot, scenario_stream, session_stream,
    target_stream,
};
use crate::domain::faults::FaultSpec;
use crate::domain::idempotency::{IdempotencyKey, IdempotencyKeyRecorded, KeyDecision};
use crate::domain::lifecycle::Lifecycle;
use crate::domain::load::LoadSpec;
use crate::domain::scenario::{
    Budget, ErrorHandling, MessageStep, ScenarioSpec, Step, StepKind, Verbosity, validate_scenario,
};
use crate::domain::session::{SessionCommand, SessionState, decide};
use crate::runtime::{CancelOutcome, CancelSession, EnqueueSession, SessionLog, SessionLogError};

use super::catalog::{fold_scenario, fold_target, invalid};
use super::settings::{default_rate_limit, default_timeout};
use super::stream::{append, load};
use super::{CommandError, Commands};

/// Per-run overrides of scenario settings (upstream's `executionConfig`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionOverrides {
    pub repetitions: Option<u32>,
    pub concurrency: Option<u32>,
    pub delay_between_ms: Option<u64>,
    pub message_templates: Option<BTreeMap<String, String>>,
    pub verbosity_level: Option<Verbosity>,
    pub message_timeout_ms: Option<u64>,
    /// Run these messages instead of a scenario's flow.
    pub custom_messages: Option<Vec<String>>,
    pub system_prompt: Option<String>,
    pub history: Option<HistoryPolicy>,
    pub load: Option<LoadSpec>,
    pub faults: Option<FaultSpec>,
    pub error_handling: Option<ErrorHandling>,
    pub budget: Option<Budget>,
    /// Laid over the scenario's thresholds (same metric: this one wins).
    pub thresholds: Option<BTreeMap<String, String>>,
}

/// The earlier answer for a key, `None` when the request should queue a session.
fn replayed(
    key: &IdempotencyKey,
    events: &[DomainEvent],
    now_ms: i64,
) -> Result<Option<(Uuid, i64, bool)>, CommandError> {
    let latest = events.iter().rev().find_map(|e| match e {
        DomainEvent::IdempotencyKeyRecorded(r) => Some(r),
        _ => None,
    });
    match key.decide(latest, now_ms) {
        KeyDecision::Queue => Ok(None),
        KeyDecision::Replay(id) => Ok(Some((id, 0, true))),
        KeyDecision::Mismatch => Err(CommandError::Refused(
            "Idempotency-Key was already used with another request body in the last 24 h".into(),
        )),
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct ExecuteRequest {
    pub target_id: Uuid,
    pub scenario_id: Option<Uuid>,
    pub overrides: ExecutionOverrides,
}

pub(super) fn apply_overrides(mut spec: ScenarioSpec, o: ExecutionOverrides) -> ScenarioSpec {
    if let Some(messages) = o.custom_messages {
        spec.flow_config = messages
            .into_iter()
            .map(|content| Step {
                id: None,
                kind: StepKind::Message(MessageStep {
                    content,
                    inject: None,
                }),
            })
            .collect();
    }
    spec.repetitions = o.repetitions.unwrap_or(spec.repetitions);
    spec.concurrency = o.concurrency.unwrap_or(spec.concurrency);
    spec.delay_between_ms = o.delay_between_ms.unwrap_or(spec.delay_between_ms);
    spec.verbosity_level = o.verbosity_level.unwrap_or(spec.verbosity_level);
    spec.message_timeout_ms = o.message_timeout_ms.unwrap_or(spec.message_timeout_ms);
    if let Some(templates) = o.message_templates {
        spec.message_templates.extend(templates);
    }
    spec.system_prompt = o.system_prompt.or(spec.system_prompt);
    spec.history = o.history.unwrap_or(spec.history);
    spec.load = o.load.or(spec.load);
    spec.faults = o.faults.or(spec.faults);
    if let Some(policy) = o.error_handling {
        spec.error_handling = policy;
    }
    spec.budget = o.budget.or(spec.budget);
    spec.thresholds.extend(o.thresholds.unwrap_or_default());
    spec
}

fn ad_hoc_scenario() -> ScenarioSpec {
    ScenarioSpec {
        name: "ad-hoc".into(),
        description: None,
        category: "custom".into(),
        flow_config: Vec::new(),
        repetitions: 1,
        concurrency: 1,
        delay_between_ms: 0,
        message_templates: BTreeMap::new(),
        verbosity_level: Verbosity::Normal,
        error_handling: Default::default(),
        message_timeout_ms: crate::domain::settings::BUILTIN_MESSAGE_TIMEOUT_MS,
        variable_extractors: BTreeMap::new(),
        system_prompt: None,
        history: HistoryPolicy::Full,
        load: None,
        faults: None,
        budget: None,
        thresholds: BTreeMap::new(),
    }
}

impl Commands {
    pub(super) async fn active_target(&self, id: Uuid) -> Result<TargetSnapshot, CommandError> {
        let (events, _) = load(&self.store, &target_stream(id)).await?;
        match fold_target(&events) {
            (Lifecycle::Active, Some(t)) => Ok(t),
            _ => Err(CommandError::NotFound("target")),
        }
    }

    pub(super) async fn active_scenario(&self, id: Uuid) -> Result<ScenarioSnapshot, CommandError> {
        let (events, _) = load(&self.store, &scenario_stream(id)).await?;
        match fold_scenario(&events) {
            (Lifecycle::Active, Some(s)) => Ok(s),
            _ => Err(CommandError::NotFound("scenario")),
        }
    }

    /// Freezes target + scenario into a plan and queues it; returns the session id and position.
    pub async fn execute(&self, req: ExecuteRequest) -> Result<(Uuid, i64), CommandError> {
        let plan = self.plan_session(req).await?;
        self.queue(plan).await
    }

    /// Freezes target + scenario into a session plan (validated, not yet queued).
    async fn plan_session(&self, req: ExecuteRequest) -> Result<SessionQueued, CommandError> {
        let target = self.active_target(req.target_id).await?;
        let base = match req.scenario_id {
            Some(id) => self.active_scenario(id).await?,
            None if req.overrides.custom_messages.is_some() => ScenarioSnapshot {
                scenario_id: Uuid::nil(),
                spec: ad_hoc_scenario(),
            },
            None => {
                return Err(invalid(
                    "scenarioId",
                    "is required unless customMessages is given",
                ));
            }
        };
        let settings = self.settings().await?;
        let timeout_overridden = req.overrides.message_timeout_ms.is_some();
        let mut spec = apply_overrides(base.spec, req.overrides);
        default_timeout(&settings, &mut spec, timeout_overridden);
        validate_scenario(&spec).map_err(CommandError::Invalid)?;
        let scenario = ScenarioSnapshot {
            scenario_id: base.scenario_id,
            spec,
        };
        let mut target = target;
        default_rate_limit(&settings, &mut target);
        let price = self.price_of(&target.spec).await?;
        Ok(SessionQueued {
            session_id: Uuid::now_v7(),
            target,
            scenario,
            restarted_from: None,
            price,
            batch_id: None,
        })
    }

    /// `execute` at most once per `Idempotency-Key` (24 h): returns the session id, the
    /// position to wait for and whether the answer replays an earlier request.
    pub async fn execute_once(
        &self,
        req: ExecuteRequest,
        key: IdempotencyKey,
    ) -> Result<(Uuid, i64, bool), CommandError> {
        let stream = key.stream();
        let (events, version) = load(&self.store, &stream).await?;
        let now = chrono::Utc::now().timestamp_millis();
        if let Some(answer) = replayed(&key, &events, now)? {
            return Ok(answer);
        }
        let plan = self.plan_session(req).await?;
        let record = DomainEvent::IdempotencyKeyRecorded(IdempotencyKeyRecorded {
            key_hash: key.key_hash.clone(),
            body_hash: key.body_hash.clone(),
            session_id: plan.session_id,
            recorded_at_ms: now,
        });
        match append(&self.store, &stream, version, &[record]).await {
            // A concurrent request with the same key won: answer with its session.
            Err(CommandError::Conflict) => {
                let (events, _) = load(&self.store, &stream).await?;
                replayed(&key, &events, now)?.ok_or(CommandError::Conflict)
            }
            Err(e) => Err(e),
            Ok(_) => {
                let (id, position) = self.queue(plan).await?;
                Ok((id, position, false))
            }
        }
    }

    async fn queue(&self, plan: SessionQueued) -> Result<(Uuid, i64), CommandError> {
        let id = plan.session_id;
        let events = decide(
            &SessionState::default(),
            id,
            SessionCommand::Queue(Box::new(plan)),
        )
        .map_err(SessionLogError::from)?;
        self.store.create_text_key(id).await?;
        let position = append(&self.store, &session_stream(id), 0, &events).await?;
        self.dispatcher
            .send(EnqueueSession(id))
            .await
            .map_err(|_| CommandError::Dispatcher)?;
        Ok((id, position))
    }

    /// Runs a finished session's frozen plan again as a new session.
    pub async fn restart(&self, id: Uuid) -> Result<(Uuid, i64), CommandError> {
        let log = SessionLog::load(&self.store, self.appender.clone(), id).await?;
        let status = log
            .state
            .status
            .filter(|_| !log.state.deleted)
            .ok_or(CommandError::NotFound("session"))?;
        if !status.is_terminal() {
            return Err(CommandError::Refused(format!(
                "session is {}; only finished sessions can be restarted",
                status.as_str()
            )));
        }
        let mut plan = log
            .state
            .plan
            .as_deref()
            .cloned()
            .ok_or(CommandError::NotFound("session"))?;
        plan.restarted_from = Some(id);
        plan.session_id = Uuid::now_v7();
        self.queue(plan).await
    }

    /// Cancels a queued or running session.
    pub async fn cancel(&self, id: Uuid) -> Result<CancelOutcome, CommandError> {
        let outcome = self
            .dispatcher
            .send(CancelSession(id))
            .await
            .map_err(|_| CommandError::Dispatcher)?;
        Ok(outcome?)
    }

    /// Deletes a finished session from the read models (its events stay for audit).
    pub async fn delete_session(&self, id: Uuid) -> Result<i64, CommandError> {
        let mut log = SessionLog::load(&self.store, self.appender.clone(), id).await?;
        Ok(log.execute(SessionCommand::Delete).await?)
    }
}
