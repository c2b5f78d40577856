//! Follows one session's events live until its terminal event (for `krawall run` and the bench).

use actors::domain::events::{DomainEvent, SessionSummary, session_stream};
use anyhow::bail;
use futures_util::StreamExt;
use uuid::Uuid;

use crate::startup::Core;

/// Calls `on_event` for each event of the session after position `from` until the terminal one;
/// returns the terminal event's summary and position.
pub async fn follow_session(
    core: &Core,
    session_id: Uuid,
    from: i64,
    mut on_event: impl FnMut(&DomainEvent),
) -> anyhow::Result<(SessionSummary, i64)> {
    let stream_id = session_stream(session_id);
    let mut events = std::pin::pin!(core.store.subscribe(from));
    while let Some(recorded) = events.next().await {
        let mut recorded = recorded?;
        if recorded.stream_id != stream_id {
            continue;
        }
        core.store
            .open_recorded(std::slice::from_mut(&mut recorded))
            .await?;
        let event = DomainEvent::from_parts(&recorded.event_type, &recorded.payload)?;
        on_event(&event);
        let summary = match event {
            DomainEvent::SessionCompleted(c) => c.summary,
            DomainEvent::SessionFailed(f) => f.summary,
            DomainEvent::SessionCancelled(c) => c.summary,
            _ => continue,
        };
        return Ok((summary, recorded.position));
    }
    bail!("event subscription ended before the session finished")
}
