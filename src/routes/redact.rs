//! What the event APIs show of a session whose texts were shredded for retention: its events
//! with every message text blanked (`domain::retention::redact_texts`), metrics untouched.

use actors::domain::events::{DomainEvent, EventType};
use actors::domain::retention::redact_texts;
use actors::store::RecordedEvent;
use serde_json::Value;

/// Blanks the texts of one session's events when its stream holds `SessionTextsShredded`.
pub fn redact_shredded(events: &mut [RecordedEvent]) {
    if !events
        .iter()
        .any(|e| e.event_type == EventType::SessionTextsShredded.as_str())
    {
        return;
    }
    for e in events {
        e.payload = redacted(&e.event_type, &e.payload);
    }
}

/// The payload with its texts blanked; `null` when it cannot be decoded (never the original).
fn redacted(event_type: &str, payload: &Value) -> Value {
    let Ok(mut event) = DomainEvent::from_parts(event_type, payload) else {
        return Value::Null;
    };
    redact_texts(&mut event);
    event.to_parts().map_or(Value::Null, |(_, p)| p)
}
