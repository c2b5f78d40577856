//! Batch command: one scenario against up to 50 targets, one session per target, committed
//! together with the `BatchCreated` event and then handed to the dispatcher.

use uuid::Uuid;

use crate::codec::append_request;
use crate::domain::batch::{
    BatchCreated, BatchMember, batch_stream, member_session_id, validate_target_ids,
};
use crate::domain::events::{DomainEvent, ScenarioSnapshot, SessionQueued, session_stream};
use crate::domain::scenario::validate_scenario;
use crate::domain::session::{SessionCommand, SessionState, decide};
use crate::runtime::{EnqueueSession, SessionLogError};

use super::catalog::invalid;
use super::execute::apply_overrides;
use super::settings::{default_rate_limit, default_timeout};
use super::{CommandError, Commands, ExecutionOverrides};
use crate::domain::settings::NodeSettings;

/// What to run as a batch.
#[derive(Debug, Clone)]
pub struct BatchRequest {
    pub scenario_id: Uuid,
    pub target_ids: Vec<Uuid>,
    pub overrides: ExecutionOverrides,
    /// Id to give the batch (a schedule fixes it in `ScheduleFired`); a new one when `None`.
    pub batch_id: Option<Uuid>,
}

/// A queued batch: its id, one session per target (request order) and the commit's position.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchQueued {
    pub batch_id: Uuid,
    pub session_ids: Vec<Uuid>,
    pub position: i64,
}

impl Commands {
    /// Freezes the scenario and every target into one plan per target, appends `BatchCreated`
    /// and the sessions' `SessionQueued` in one commit, then queues the sessions.
    pub async fn execute_batch(&self, req: BatchRequest) -> Result<BatchQueued, CommandError> {
        validate_target_ids(&req.target_ids).map_err(CommandError::Invalid)?;
        let base = match self.active_scenario(req.scenario_id).await {
            Err(CommandError::NotFound(_)) => Err(invalid("scenarioId", "no such scenario")),
            other => other,
        }?;
        let settings = self.settings().await?;
        let timeout_overridden = req.overrides.message_timeout_ms.is_some();
        let mut spec = apply_overrides(base.spec, req.overrides);
        default_timeout(&settings, &mut spec, timeout_overridden);
        validate_scenario(&spec).map_err(CommandError::Invalid)?;
        let scenario = ScenarioSnapshot {
            scenario_id: base.scenario_id,
            spec,
        };
        let batch_id = req.batch_id.unwrap_or_else(Uuid::now_v7);
        let plans = self
            .batch_plans(batch_id, &scenario, &req.target_ids, &settings)
            .await?;
        let created = BatchCreated {
            batch_id,
            scenario_id: scenario.scenario_id,
            scenario_name: scenario.spec.name.clone(),
            sessions: plans
                .iter()
                .map(|p| BatchMember {
                    session_id: p.session_id,
                    target_id: p.target.target_id,
                    target_name: p.target.spec.name.clone(),
                })
                .collect(),
        };
        let session_ids: Vec<Uuid> = plans.iter().map(|p| p.session_id).collect();
        let position = self.commit_batch(created, plans).await?;
        for id in &session_ids {
            self.dispatcher
                .send(EnqueueSession(*id))
                .await
                .map_err(|_| CommandError::Dispatcher)?;
        }
        Ok(BatchQueued {
            batch_id,
            session_ids,
            position,
        })
    }

    /// One frozen plan per target; an unknown target is a 400 naming its index.
    async fn batch_plans(
        &self,
        batch_id: Uuid,
        scenario: &ScenarioSnapshot,
        target_ids: &[Uuid],
        settings: &NodeSettings,
    ) -> Result<Vec<SessionQueued>, CommandError> {
        let mut plans = Vec::with_capacity(target_ids.len());
        for (i, id) in target_ids.iter().enumerate() {
            let target = match self.active_target(*id).await {
                Err(CommandError::NotFound(_)) => {
                    Err(invalid(&format!("targetIds[{i}]"), "no such target"))
                }
                other => other,
            }?;
            let mut target = target;
            default_rate_limit(settings, &mut target);
            let price = self.price_of(&target.spec).await?;
            plans.push(SessionQueued {
                session_id: member_session_id(batch_id, i),
                target,
                scenario: scenario.clone(),
                restarted_from: None,
                price,
                batch_id: Some(batch_id),
            });
        }
        Ok(plans)
    }

    /// Appends the batch and its sessions in one transaction; returns the last position.
    async fn commit_batch(
        &self,
        created: BatchCreated,
        plans: Vec<SessionQueued>,
    ) -> Result<i64, CommandError> {
        let stream = batch_stream(created.batch_id);
        let mut requests = vec![append_request(
            stream,
            0,
            &[DomainEvent::BatchCreated(created)],
        )?];
        for plan in plans {
            let id = plan.session_id;
            let command = SessionCommand::Queue(Box::new(plan));
            let events =
                decide(&SessionState::default(), id, command).map_err(SessionLogError::from)?;
            self.store.create_text_key(id).await?;
            requests.push(append_request(session_stream(id), 0, &events)?);
        }
        let mut position = 0;
        for outcome in self.store.append_batch(requests).await? {
            position = position.max(outcome?.last_position);
        }
        Ok(position)
    }
}
