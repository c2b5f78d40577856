//! `batch.completed`: when a session of a batch ends and every session of that batch has
//! ended, the trigger with the batch's counts and status, keyed by the batch id (so however
//! many of its sessions end at once, or are seen again after a restart, it is queued once).

use serde_json::{Value, json};

use crate::domain::batch::{BatchCounts, batch_stream};
use crate::domain::events::{DomainEvent, EventType, session_stream};
use crate::domain::webhook::WebhookEvent;
use crate::store::{EventStore, StoreError};

fn decoded(e: Option<crate::store::RecordedEvent>) -> Option<DomainEvent> {
    e.and_then(|e| DomainEvent::from_parts(&e.event_type, &e.payload).ok())
}

/// The `batch.completed` trigger `(event, payload, key)` if `event` ended a batch's last session.
pub async fn batch_completion(
    store: &EventStore,
    event: &DomainEvent,
) -> Result<Option<(WebhookEvent, Value, String)>, StoreError> {
    let session = match event {
        DomainEvent::SessionCompleted(c) => c.session_id,
        DomainEvent::SessionFailed(f) => f.session_id,
        DomainEvent::SessionCancelled(c) => c.session_id,
        _ => return Ok(None),
    };
    let first = decoded(store.stream_end(&session_stream(session), false).await?);
    let Some(DomainEvent::SessionQueued(q)) = first else {
        return Ok(None);
    };
    let Some(batch) = q.batch_id else {
        return Ok(None);
    };
    let Some(DomainEvent::BatchCreated(b)) =
        decoded(store.stream_end(&batch_stream(batch), false).await?)
    else {
        return Ok(None);
    };
    let mut counts = BatchCounts {
        total: b.sessions.len() as i64,
        ..BatchCounts::default()
    };
    for member in &b.sessions {
        let last = store
            .stream_end(&session_stream(member.session_id), true)
            .await?;
        match last.as_ref().and_then(|e| EventType::parse(&e.event_type)) {
            Some(EventType::SessionCompleted) => counts.completed += 1,
            Some(EventType::SessionFailed) => counts.failed += 1,
            Some(EventType::SessionCancelled) => counts.cancelled += 1,
            Some(EventType::SessionDeleted) => {}
            _ => return Ok(None),
        }
    }
    let payload = json!({
        "batchId": batch, "scenarioId": b.scenario_id, "scenarioName": b.scenario_name,
        "status": counts.status(), "counts": counts,
    });
    Ok(Some((
        WebhookEvent::BatchCompleted,
        payload,
        batch.to_string(),
    )))
}
