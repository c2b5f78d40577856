//! The write handle of one session stream: decide → append with the expected version → evolve.
//!
//! Commands either wait for their commit ([`SessionLog::execute`]) or are queued
//! ([`SessionLog::enqueue`]): the running session records its exchanges without waiting, with
//! versions assigned here in order, so the group-commit writer commits them in order (often
//! together with other sessions' events) while the next request is already out. A failed
//! queued append makes every later one conflict, so the first error seen is the one to report;
//! [`SessionLog::flush`] waits for everything queued.

use std::collections::VecDeque;

use uuid::Uuid;

use crate::codec::append_request;
use crate::domain::events::{DomainEvent, session_stream};
use crate::domain::session::{SessionCommand, SessionError, SessionState, decide, evolve};
use crate::store::{AppendError, AppendTicket, RecordedEvent, StoreError};
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
    /// Version after every event decided so far (queued ones included).
    pub version: i64,
    store: EventStore,
    appender: BatchedAppender,
    in_flight: VecDeque<AppendTicket>,
}

impl SessionLog {
    /// The store this log appends to.
    pub fn store(&self) -> &EventStore {
        &self.store
    }

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
            store: store.clone(),
            appender,
            in_flight: VecDeque::new(),
        };
        for recorded in &events {
            log.apply(recorded)?;
        }
        Ok(log)
    }

    /// Loads a fresh handle on the same stream (after a failed append); the future does not
    /// borrow `self`, so it can be awaited after a lock on this log is released.
    pub fn reload(
        &self,
    ) -> impl Future<Output = Result<Self, SessionLogError>> + Send + 'static + use<> {
        let (store, appender, id) = (self.store.clone(), self.appender.clone(), self.id);
        async move { Self::load(&store, appender, id).await }
    }

    fn apply(&mut self, recorded: &RecordedEvent) -> Result<(), serde_json::Error> {
        let event = DomainEvent::from_parts(&recorded.event_type, &recorded.payload)?;
        self.state = evolve(std::mem::take(&mut self.state), &event);
        self.version = recorded.version;
        Ok(())
    }

    /// Decides and queues the append without waiting for the commit. Fails at once when the
    /// command is refused or an earlier queued append is known to have failed.
    pub fn enqueue(&mut self, cmd: SessionCommand) -> Result<AppendTicket, SessionLogError> {
        self.reap()?;
        let events = decide(&self.state, self.id, cmd)?;
        let request = append_request(session_stream(self.id), self.version, &events)?;
        let ticket = self.appender.submit(request)?;
        for e in &events {
            self.state = evolve(std::mem::take(&mut self.state), e);
        }
        self.version += events.len() as i64;
        Ok(ticket)
    }

    /// Queues like [`enqueue`](Self::enqueue) and keeps the ticket; returns the oldest
    /// ticket when more than `limit` are in flight, for the caller to wait on (back-pressure).
    pub fn record(
        &mut self,
        cmd: SessionCommand,
        limit: usize,
    ) -> Result<Option<AppendTicket>, SessionLogError> {
        let ticket = self.enqueue(cmd)?;
        self.in_flight.push_back(ticket);
        Ok(if self.in_flight.len() > limit {
            self.in_flight.pop_front()
        } else {
            None
        })
    }

    /// Drops the tickets of committed appends; the first failure among them is returned.
    fn reap(&mut self) -> Result<(), SessionLogError> {
        while let Some(ticket) = self.in_flight.pop_front() {
            match ticket.try_take() {
                Ok(result) => {
                    result?;
                }
                Err(pending) => {
                    self.in_flight.push_front(pending);
                    break;
                }
            }
        }
        Ok(())
    }

    /// The tickets of every queued append, oldest first, for the caller to wait on.
    pub fn take_in_flight(&mut self) -> Vec<AppendTicket> {
        self.in_flight.drain(..).collect()
    }

    /// Waits until every queued append has committed; the first failure is returned.
    pub async fn flush(&mut self) -> Result<(), SessionLogError> {
        wait_all(self.take_in_flight()).await
    }

    /// Decides, appends and waits for the commit; returns the global position of the last
    /// appended event.
    pub async fn execute(&mut self, cmd: SessionCommand) -> Result<i64, SessionLogError> {
        self.flush().await?;
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

/// Waits for every ticket in order; the first failure is returned (after waiting for all).
pub async fn wait_all(tickets: Vec<AppendTicket>) -> Result<(), SessionLogError> {
    let mut first = Ok(());
    for ticket in tickets {
        if let Err(e) = ticket.wait().await
            && first.is_ok()
        {
            first = Err(e.into());
        }
    }
    first
}
