//! Schedule commands: create, update (settings and enabled/disabled), delete, and the
//! scheduler's two steps for a slot: record `ScheduleFired` at the expected version (the
//! exactly-once gate: a second node or a restart gets a conflict) and queue its batch.

use uuid::Uuid;

use crate::domain::events::{Deleted, DomainEvent};
use crate::domain::schedule::{
    ScheduleFired, ScheduleSnapshot, ScheduleSpec, ScheduleState, ScheduleToggled, schedule_stream,
    validate_schedule,
};
use crate::domain::validation::FieldError;
use crate::store::AppendError;

use super::catalog::invalid;
use super::stream::append;
use super::{BatchRequest, CommandError, Commands, ExecutionOverrides};

/// A schedule's settings plus whether it runs.
#[derive(Debug, Clone)]
pub struct ScheduleInput {
    pub spec: ScheduleSpec,
    pub is_enabled: bool,
}

fn overrides(spec: &ScheduleSpec) -> Result<ExecutionOverrides, CommandError> {
    let Some(value) = spec.execution_config.clone() else {
        return Ok(ExecutionOverrides::default());
    };
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "executionConfig".to_string()
        } else {
            format!("executionConfig.{path}")
        };
        CommandError::Invalid(vec![FieldError {
            field,
            rule: e.inner().to_string(),
        }])
    })
}

impl Commands {
    /// The folded state of a schedule stream.
    pub async fn schedule_state(&self, id: Uuid) -> Result<ScheduleState, CommandError> {
        let recorded = self.store.read_stream(&schedule_stream(id)).await?;
        let mut state = ScheduleState::default();
        for r in &recorded {
            let event = DomainEvent::from_parts(&r.event_type, &r.payload)?;
            state.apply(r.version, r.recorded_at_ms, &event);
        }
        Ok(state)
    }

    /// Validates the settings and that the scenario and every target exist.
    async fn check_schedule(&self, spec: &ScheduleSpec) -> Result<(), CommandError> {
        validate_schedule(spec).map_err(CommandError::Invalid)?;
        overrides(spec)?;
        if let Err(CommandError::NotFound(_)) = self.active_scenario(spec.scenario_id).await {
            return Err(invalid("scenarioId", "no such scenario"));
        }
        for (i, id) in spec.target_ids.iter().enumerate() {
            if let Err(CommandError::NotFound(_)) = self.active_target(*id).await {
                return Err(invalid(&format!("targetIds[{i}]"), "no such target"));
            }
        }
        Ok(())
    }

    pub async fn create_schedule(&self, input: ScheduleInput) -> Result<(Uuid, i64), CommandError> {
        self.check_schedule(&input.spec).await?;
        let id = Uuid::now_v7();
        let event = DomainEvent::ScheduleCreated(ScheduleSnapshot {
            schedule_id: id,
            spec: input.spec,
            is_enabled: input.is_enabled,
        });
        let position = append(&self.store, &schedule_stream(id), 0, &[event]).await?;
        Ok((id, position))
    }

    /// Records a change of settings (`ScheduleUpdated`) and of the enabled flag
    /// (`ScheduleEnabled` / `ScheduleDisabled`); nothing when nothing changed.
    pub async fn update_schedule(
        &self,
        id: Uuid,
        input: ScheduleInput,
    ) -> Result<i64, CommandError> {
        self.check_schedule(&input.spec).await?;
        let state = self.schedule_state(id).await?;
        let current = state.live().ok_or(CommandError::NotFound("schedule"))?;
        let mut events = Vec::new();
        if current.is_enabled != input.is_enabled {
            let toggled = ScheduleToggled { schedule_id: id };
            events.push(if input.is_enabled {
                DomainEvent::ScheduleEnabled(toggled)
            } else {
                DomainEvent::ScheduleDisabled(toggled)
            });
        }
        if current.spec != input.spec {
            events.push(DomainEvent::ScheduleUpdated(ScheduleSnapshot {
                schedule_id: id,
                spec: input.spec,
                is_enabled: input.is_enabled,
            }));
        }
        if events.is_empty() {
            return Ok(self.store.head_position().await?);
        }
        append(&self.store, &schedule_stream(id), state.version, &events).await
    }

    pub async fn delete_schedule(&self, id: Uuid) -> Result<i64, CommandError> {
        let state = self.schedule_state(id).await?;
        state.live().ok_or(CommandError::NotFound("schedule"))?;
        let event = DomainEvent::ScheduleDeleted(Deleted { id });
        append(&self.store, &schedule_stream(id), state.version, &[event]).await
    }

    /// Records that `slot_ms` fired, if the stream is still at `version`; `None` when another
    /// writer (a second node, or a change to the schedule) got there first.
    pub async fn record_fire(
        &self,
        id: Uuid,
        version: i64,
        slot_ms: i64,
        missed: bool,
    ) -> Result<Option<Uuid>, CommandError> {
        let batch_id = Uuid::now_v7();
        let event = DomainEvent::ScheduleFired(ScheduleFired {
            schedule_id: id,
            slot_ms,
            batch_id,
            missed,
        });
        let request = crate::codec::append_request(schedule_stream(id), version, &[event])?;
        match self.store.append(request).await {
            Ok(_) => Ok(Some(batch_id)),
            Err(AppendError::Conflict { .. }) => Ok(None),
            Err(AppendError::Store(e)) => Err(e.into()),
        }
    }

    /// Queues a fired slot's batch under the id `ScheduleFired` recorded.
    pub async fn run_fired(&self, spec: &ScheduleSpec, batch_id: Uuid) -> Result<(), CommandError> {
        let req = BatchRequest {
            scenario_id: spec.scenario_id,
            target_ids: spec.target_ids.clone(),
            overrides: overrides(spec)?,
            batch_id: Some(batch_id),
        };
        self.execute_batch(req).await.map(|_| ())
    }
}
