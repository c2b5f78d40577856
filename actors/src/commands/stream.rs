//! Loading and appending domain events of one stream for the command handlers.

use crate::codec::append_request;
use crate::domain::events::DomainEvent;
use crate::store::EventStore;

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
    let request = append_request(stream_id.to_string(), version, events)?;
    Ok(store.append(request).await?.last_position)
}
