//! Target and scenario aggregates: pure decide/evolve over create → update* → delete.
//! Their streams are the audit trail of every change.

use uuid::Uuid;

use super::events::{Deleted, DomainEvent, ScenarioSnapshot, TargetSnapshot, TargetTested};

/// State of a target or scenario stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lifecycle {
    #[default]
    Absent,
    Active,
    Deleted,
}

/// Commands on a target or scenario; `S` is its snapshot type.
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceCommand<S> {
    Create(S),
    Update(S),
    Delete(Uuid),
}

/// Why a command on a target or scenario was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    #[error("already exists")]
    AlreadyExists,
    #[error("not found")]
    NotFound,
}

fn decide<S>(
    state: Lifecycle,
    cmd: ResourceCommand<S>,
    wrap: [fn(S) -> DomainEvent; 2],
    deleted: fn(Deleted) -> DomainEvent,
) -> Result<Vec<DomainEvent>, ResourceError> {
    match (state, cmd) {
        (Lifecycle::Absent, ResourceCommand::Create(s)) => Ok(vec![wrap[0](s)]),
        (_, ResourceCommand::Create(_)) => Err(ResourceError::AlreadyExists),
        (Lifecycle::Active, ResourceCommand::Update(s)) => Ok(vec![wrap[1](s)]),
        (Lifecycle::Active, ResourceCommand::Delete(id)) => Ok(vec![deleted(Deleted { id })]),
        _ => Err(ResourceError::NotFound),
    }
}

/// Decides a target command.
pub fn decide_target(
    state: Lifecycle,
    cmd: ResourceCommand<TargetSnapshot>,
) -> Result<Vec<DomainEvent>, ResourceError> {
    decide(
        state,
        cmd,
        [DomainEvent::TargetCreated, DomainEvent::TargetUpdated],
        DomainEvent::TargetDeleted,
    )
}

/// Records a connection test; only active targets can be tested.
pub fn decide_target_tested(
    state: Lifecycle,
    tested: TargetTested,
) -> Result<Vec<DomainEvent>, ResourceError> {
    match state {
        Lifecycle::Active => Ok(vec![DomainEvent::TargetTested(tested)]),
        _ => Err(ResourceError::NotFound),
    }
}

/// Decides a scenario command.
pub fn decide_scenario(
    state: Lifecycle,
    cmd: ResourceCommand<ScenarioSnapshot>,
) -> Result<Vec<DomainEvent>, ResourceError> {
    decide(
        state,
        cmd,
        [DomainEvent::ScenarioCreated, DomainEvent::ScenarioUpdated],
        DomainEvent::ScenarioDeleted,
    )
}

/// Applies a stored target or scenario event.
pub fn evolve(state: Lifecycle, event: &DomainEvent) -> Lifecycle {
    match event {
        DomainEvent::TargetCreated(_) | DomainEvent::ScenarioCreated(_) => Lifecycle::Active,
        DomainEvent::TargetDeleted(_) | DomainEvent::ScenarioDeleted(_) => Lifecycle::Deleted,
        _ => state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_update_delete_then_nothing() {
        let id = Uuid::nil();
        let mut state = Lifecycle::Absent;
        assert_eq!(
            decide_target(state, ResourceCommand::Delete(id)),
            Err(ResourceError::NotFound)
        );
        let created = decide_scenario(state, ResourceCommand::Delete(id));
        assert!(created.is_err());
        state = evolve(state, &DomainEvent::TargetDeleted(Deleted { id }));
        assert_eq!(state, Lifecycle::Deleted);
        assert_eq!(
            decide_target(state, ResourceCommand::Delete(id)),
            Err(ResourceError::NotFound)
        );
    }
}
