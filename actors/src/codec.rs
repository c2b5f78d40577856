//! Encodes domain events into store appends (the one place a `DomainEvent` becomes a `NewEvent`).

use serde_json::json;
use uuid::Uuid;

use crate::domain::events::DomainEvent;
use crate::store::{AppendRequest, ExpectedVersion, NewEvent};

/// An append of `events` to `stream_id`, which the writer last saw at `version` (0 = new stream).
pub fn append_request(
    stream_id: String,
    version: i64,
    events: &[DomainEvent],
) -> Result<AppendRequest, serde_json::Error> {
    let events = events
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
    Ok(AppendRequest {
        stream_id,
        expected,
        events,
    })
}
