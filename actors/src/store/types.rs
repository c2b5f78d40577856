//! Value types of the event-store port.

use serde_json::Value;
use uuid::Uuid;

/// What the writer believes the stream's version is. Version = number of events in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the current version is.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be at exactly this version (0 = empty).
    Exact(i64),
}

/// An event to append. `event_id` makes appends idempotent: the same id twice is stored once.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub payload: Value,
    pub metadata: Value,
}

/// An event as stored, with its global position (strictly increasing, gap-free order of commit).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub position: i64,
    pub stream_id: String,
    /// 1-based position inside the stream.
    pub version: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub payload: Value,
    pub metadata: Value,
    /// Unix epoch milliseconds when the store committed the event.
    pub recorded_at_ms: i64,
}

/// Events of some types read from a stretch of the log (see `EventStore::subscribe_types`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypedPage {
    /// The stretch's events of the asked types, in position order.
    pub events: Vec<RecordedEvent>,
    /// The log was read through this position: the stretch's end, or the last event's
    /// position when the page limit cut the read short.
    pub reached: i64,
}

/// One stream's append inside a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendRequest {
    pub stream_id: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

/// Where the stream and the global log stand after an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Stream version after the append.
    pub stream_version: i64,
    /// Global position of the last event of this append (of the stored copy for a duplicate).
    pub last_position: i64,
}
