//! Session aggregate: pure decide/evolve over the session lifecycle
//! (queued → running → completed | failed | cancelled; deleted hides it).

use uuid::Uuid;

use super::events::{
    Deleted, DomainEvent, FailureReason, SessionCancelled, SessionCompleted, SessionFailed,
    SessionQueued, SessionStarted, SessionSummary,
};

/// Lifecycle status (upstream names on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            Self::Running => "RUNNING",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Cancelled => "CANCELLED",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// Folded state of one session stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionState {
    pub status: Option<SessionStatus>,
    pub deleted: bool,
    pub plan: Option<Box<SessionQueued>>,
    /// `SessionTextsShredded` was recorded (retention).
    pub texts_shredded: bool,
}

/// Commands on a session.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionCommand {
    Queue(Box<SessionQueued>),
    Start {
        node_id: String,
    },
    /// Record an exchange event (sent, received, failed, injected) while running.
    Record(Box<DomainEvent>),
    Complete(SessionSummary),
    Fail {
        reason: FailureReason,
        error: String,
        summary: SessionSummary,
    },
    Cancel(SessionSummary),
    Delete,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("session already exists")]
    AlreadyExists,
    #[error("session not found")]
    NotFound,
    #[error("session is {0}, expected QUEUED")]
    NotQueued(&'static str),
    #[error("session is {0}, not RUNNING")]
    NotRunning(&'static str),
    #[error("session already finished as {0}")]
    AlreadyFinished(&'static str),
    #[error("session is still {0}; cancel it first")]
    StillActive(&'static str),
    #[error("event {0} is not an exchange event")]
    NotAnExchange(&'static str),
}

/// Decides which events a command produces, or refuses it. Never does I/O.
pub fn decide(
    state: &SessionState,
    id: Uuid,
    cmd: SessionCommand,
) -> Result<Vec<DomainEvent>, SessionError> {
    let status = match (state.status, state.deleted, &cmd) {
        (None, _, SessionCommand::Queue(q)) => {
            return Ok(vec![DomainEvent::SessionQueued(q.clone())]);
        }
        (Some(_), _, SessionCommand::Queue(_)) => return Err(SessionError::AlreadyExists),
        (None, _, _) | (_, true, _) => return Err(SessionError::NotFound),
        (Some(s), false, _) => s,
    };
    let label = status.as_str();
    let events = match cmd {
        SessionCommand::Queue(_) => return Err(SessionError::AlreadyExists),
        SessionCommand::Delete if status.is_terminal() => {
            vec![DomainEvent::SessionDeleted(Deleted { id })]
        }
        SessionCommand::Delete => return Err(SessionError::StillActive(label)),
        _ if status.is_terminal() => return Err(SessionError::AlreadyFinished(label)),
        SessionCommand::Start { node_id } if status == SessionStatus::Queued => {
            vec![DomainEvent::SessionStarted(SessionStarted {
                session_id: id,
                node_id,
            })]
        }
        SessionCommand::Start { .. } => return Err(SessionError::NotQueued(label)),
        SessionCommand::Cancel(summary) => vec![DomainEvent::SessionCancelled(SessionCancelled {
            session_id: id,
            summary,
        })],
        SessionCommand::Fail {
            reason,
            error,
            summary,
        } => {
            vec![DomainEvent::SessionFailed(SessionFailed {
                session_id: id,
                reason,
                error,
                summary,
            })]
        }
        _ if status != SessionStatus::Running => return Err(SessionError::NotRunning(label)),
        SessionCommand::Record(event) => match *event {
            DomainEvent::MessageSent(_)
            | DomainEvent::ResponseReceived(_)
            | DomainEvent::MessageFailed(_)
            | DomainEvent::ErrorInjected(_) => vec![*event],
            other => return Err(SessionError::NotAnExchange(other.event_type())),
        },
        SessionCommand::Complete(summary) => {
            vec![DomainEvent::SessionCompleted(SessionCompleted {
                session_id: id,
                summary,
            })]
        }
    };
    Ok(events)
}

/// Applies one stored event to the state.
pub fn evolve(mut state: SessionState, event: &DomainEvent) -> SessionState {
    match event {
        DomainEvent::SessionQueued(q) => {
            state.status = Some(SessionStatus::Queued);
            state.plan = Some(q.clone());
        }
        DomainEvent::SessionStarted(_) => state.status = Some(SessionStatus::Running),
        DomainEvent::SessionCompleted(_) => state.status = Some(SessionStatus::Completed),
        DomainEvent::SessionFailed(_) => state.status = Some(SessionStatus::Failed),
        DomainEvent::SessionCancelled(_) => state.status = Some(SessionStatus::Cancelled),
        DomainEvent::SessionDeleted(_) => state.deleted = true,
        DomainEvent::SessionTextsShredded(_) => state.texts_shredded = true,
        _ => {}
    }
    state
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
