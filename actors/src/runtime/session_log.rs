//! The write handle of one session stream: decide → append with the expected version → evolve.

use uuid::Uuid;

use crate::codec::append_request;
use crate::domain::events::{DomainEvent, session_stream};
use crate::domain::session::{SessionCommand, SessionError, SessionState, decide, evolve};
use crate::store::{AppendError, RecordedEvent, StoreError};
use crate::store::{BatchedAppender, EventStore};

/// Why a session command could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum SessionLogError {
    #[error(transparent)]
    Rejected(#[from] SessionError),
    #[error(transparent)]
    Append(#[from] AppendError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("event payload could not be encoded")]
    Encode(#[from] serde_json::Error),
}

/// Folded state plus version of one session stream, and where to append.
#[derive(Debug)]
pub struct SessionLog {
    pub id: Uuid,
    pub state: SessionState,
    pub version: i64,
    appender: BatchedAppender,
}

impl SessionLog {
    /// Loads a session stream from the store.
    pub async fn load(
        store: &EventStore,
        appender: BatchedAppender,
        id: Uuid,
    ) -> Result<Self, SessionLogError> {
        let events = store.read_stream(&session_stream(id)).await?;
        let mut log = Self {
            id,
            state: SessionState::default(),
            version: 0,
            appender,
        };
        for recorded in &events {
            log.apply(recorded)?;
        }
        Ok(log)
    }

    fn apply(&mut self, recorded: &RecordedEvent) -> Result<(), serde_json::Error> {
        let event = DomainEvent::from_parts(&recorded.event_type, &recorded.payload)?;
        self.state = evolve(std::mem::take(&mut self.state), &event);
        self.version = recorded.version;
        Ok(())
    }

    /// Decides and appends; returns the global position of the last appended event.
    pub async fn execute(&mut self, cmd: SessionCommand) -> Result<i64, SessionLogError> {
        let events = decide(&self.state, self.id, cmd)?;
        let request = append_request(session_stream(self.id), self.version, &events)?;
        let outcome = self.appender.append(request).await?;
        for e in &events {
            self.state = evolve(std::mem::take(&mut self.state), e);
        }
        self.version = outcome.stream_version;
        Ok(outcome.last_position)
    }
}
