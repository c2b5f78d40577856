//! Loading and appending domain events of one stream for the command handlers.

use serde_json::json;
use uuid::Uuid;

use crate::domain::events::DomainEvent;
use crate::store::{AppendRequest, EventStore, ExpectedVersion, NewEvent};

use super::CommandError;

/// Reads a stream as domain events plus its version.
pub async fn load(
    store: &EventStore,
    stream_id: &str,
) -> Result<(Vec<DomainEvent>, i64), CommandError> {
    let recorded = store.read_stream(stream_id).await?;
    let version = recorded.last().map_or(0, |r| r.version);
    let events = recorded
        .iter()
        .map(|r| DomainEvent::from_parts(&r.event_type, &r.payload))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((events, version))
}

/// Appends events at the expected version; returns the global position of the last one.
pub async fn append(
    store: &EventStore,
    stream_id: &str,
    version: i64,
    events: &[DomainEvent],
) -> Result<i64, CommandError> {
    let new_events = events
        .iter()
        .map(|e| {
            let (event_type, payload) = e.to_parts()?;
            Ok(NewEvent {
                event_id: Uuid::now_v7(),
                event_type,
                payload,
                metadata: json!({}),
            })
        })
        .collect::<Result<Vec<_>, serde_json::Error>>()?;
    let expected = if version == 0 {
        ExpectedVersion::NoStream
    } else {
        ExpectedVersion::Exact(version)
    };
    let outcome = store
        .append(AppendRequest {
            stream_id: stream_id.to_string(),
            expected,
            events: new_events,
        })
        .await?;
    Ok(outcome.last_position)
}
