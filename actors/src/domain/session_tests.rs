//! Given/when/then tests of the session aggregate.

use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::domain::events::{ExchangeRef, MessageSent, ScenarioSnapshot, TargetSnapshot};

fn queued() -> SessionQueued {
    let target: TargetSnapshot = serde_json::from_value(json!({
        "targetId": Uuid::nil(), "name": "t", "connectorType": "HTTP_REST", "endpoint": "http://x",
        "authType": "NONE", "requestTemplate": {"messagePath": "message"},
        "responseTemplate": {"responsePath": "response"}, "auth": {"masked": {}}
    }))
    .unwrap();
    let scenario: ScenarioSnapshot = serde_json::from_value(json!({
        "scenarioId": Uuid::nil(), "name": "s", "flowConfig": [{"type": "message", "config": {"content": "hi"}}]
    }))
    .unwrap();
    SessionQueued {
        session_id: Uuid::nil(),
        target,
        scenario,
        price: None,
        batch_id: None,
        restarted_from: None,
    }
}

fn given(events: &[DomainEvent]) -> SessionState {
    events.iter().fold(SessionState::default(), evolve)
}

fn sent() -> DomainEvent {
    DomainEvent::MessageSent(MessageSent {
        context_messages: 0,
        context_tokens: 0,
        wait_ms: 0,
        backoff_ms: 0,
        exchange: ExchangeRef {
            session_id: Uuid::nil(),
            message_index: 0,
            repetition_index: 0,
            attempt: 0,
        },
        content: "hi".into(),
        sealed: None,
    })
}

#[test]
fn full_lifecycle() {
    let id = Uuid::nil();
    let q = decide(
        &SessionState::default(),
        id,
        SessionCommand::Queue(Box::new(queued())),
    )
    .unwrap();
    let state = given(&q);
    assert_eq!(state.status, Some(SessionStatus::Queued));
    assert!(matches!(
        decide(&state, id, SessionCommand::Record(Box::new(sent()))),
        Err(SessionError::NotRunning(_))
    ));
    let started = decide(
        &state,
        id,
        SessionCommand::Start {
            node_id: "n".into(),
        },
    )
    .unwrap();
    let state = given(&[q, started].concat());
    assert_eq!(
        decide(&state, id, SessionCommand::Record(Box::new(sent())))
            .unwrap()
            .len(),
        1
    );
    let done = decide(
        &state,
        id,
        SessionCommand::Complete(SessionSummary::default()),
    )
    .unwrap();
    let state = evolve(state, &done[0]);
    assert_eq!(state.status, Some(SessionStatus::Completed));
}

#[test]
fn no_status_overwrite_after_cancel() {
    let id = Uuid::nil();
    let state = given(&[DomainEvent::SessionQueued(Box::new(queued()))]);
    let cancelled = decide(
        &state,
        id,
        SessionCommand::Cancel(SessionSummary::default()),
    )
    .unwrap();
    let state = evolve(state, &cancelled[0]);
    assert_eq!(
        decide(
            &state,
            id,
            SessionCommand::Complete(SessionSummary::default())
        ),
        Err(SessionError::AlreadyFinished("CANCELLED"))
    );
    assert!(
        decide(
            &state,
            id,
            SessionCommand::Start {
                node_id: "n".into()
            }
        )
        .is_err()
    );
}

#[test]
fn delete_only_when_finished_and_only_once() {
    let id = Uuid::nil();
    let state = given(&[DomainEvent::SessionQueued(Box::new(queued()))]);
    assert!(matches!(
        decide(&state, id, SessionCommand::Delete),
        Err(SessionError::StillActive(_))
    ));
    let state = given(&[
        DomainEvent::SessionQueued(Box::new(queued())),
        DomainEvent::SessionCancelled(SessionCancelled {
            session_id: id,
            summary: SessionSummary::default(),
        }),
    ]);
    let deleted = decide(&state, id, SessionCommand::Delete).unwrap();
    let state = evolve(state, &deleted[0]);
    assert_eq!(
        decide(&state, id, SessionCommand::Delete),
        Err(SessionError::NotFound)
    );
}

#[test]
fn only_exchange_events_are_recorded() {
    let id = Uuid::nil();
    let state = given(&[
        DomainEvent::SessionQueued(Box::new(queued())),
        DomainEvent::SessionStarted(SessionStarted {
            session_id: id,
            node_id: "n".into(),
        }),
    ]);
    let r = decide(
        &state,
        id,
        SessionCommand::Record(Box::new(DomainEvent::SessionDeleted(Deleted { id }))),
    );
    assert_eq!(r, Err(SessionError::NotAnExchange("SessionDeleted")));
}
