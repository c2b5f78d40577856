//! Event builders and read-model probes shared by the read-model tests.

use actors::domain::events::{
    DomainEvent, ErrorKind, ExchangeRef, MessageFailed, MessageSent, ResponseReceived,
    SessionCompleted, SessionQueued, SessionStarted, TargetSnapshot, TokenCounts, session_stream,
    target_stream,
};
use actors::store::{AppendRequest, EventStore, ExpectedVersion, NewEvent};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

pub fn queued(session: Uuid) -> DomainEvent {
    let target = serde_json::from_value(json!({
        "targetId": Uuid::new_v4(), "name": "t", "connectorType": "HTTP_REST", "endpoint": "http://x",
        "authType": "NONE", "requestTemplate": {"messagePath": "message"},
        "responseTemplate": {"responsePath": "response"}, "auth": {"masked": {}}
    }))
    .unwrap();
    let scenario = serde_json::from_value(json!({
        "scenarioId": Uuid::new_v4(), "name": "s",
        "flowConfig": [{"type": "message", "config": {"content": "hi"}}]
    }))
    .unwrap();
    DomainEvent::SessionQueued(Box::new(SessionQueued {
        session_id: session,
        target,
        scenario,
        price: None,
        batch_id: None,
        restarted_from: None,
    }))
}

pub fn target(id: Uuid, name: &str, created: bool) -> DomainEvent {
    let snapshot: TargetSnapshot = serde_json::from_value(json!({
        "targetId": id, "name": name, "connectorType": "HTTP_REST", "endpoint": "http://x",
        "authType": "NONE", "requestTemplate": {"messagePath": "message"},
        "responseTemplate": {"responsePath": "response"}, "auth": {"masked": {}}
    }))
    .unwrap();
    if created {
        DomainEvent::TargetCreated(snapshot)
    } else {
        DomainEvent::TargetUpdated(snapshot)
    }
}

/// Appends target events to the target's stream; returns the last position.
pub async fn append_target(store: &EventStore, id: Uuid, events: &[DomainEvent]) -> i64 {
    let parts = events.iter().map(|e| e.to_parts().unwrap()).collect();
    append_raw(store, &target_stream(id), parts).await
}

pub fn started(session: Uuid) -> DomainEvent {
    DomainEvent::SessionStarted(SessionStarted {
        session_id: session,
        node_id: "node".into(),
    })
}

pub fn failed(session: Uuid, index: u32) -> DomainEvent {
    DomainEvent::MessageFailed(MessageFailed {
        exchange: exchange(session, index),
        kind: ErrorKind::Timeout,
        error: "too slow".into(),
        status: None,
        latency_ms: 7,
        action: actors::domain::scenario::ErrorAction::Skip,
        partial_content: None,
        sealed: None,
    })
}

pub fn completed(session: Uuid) -> DomainEvent {
    DomainEvent::SessionCompleted(SessionCompleted {
        session_id: session,
        summary: Default::default(),
    })
}

fn exchange(session: Uuid, index: u32) -> ExchangeRef {
    ExchangeRef {
        session_id: session,
        message_index: index,
        repetition_index: 0,
        attempt: 0,
    }
}

pub fn sent(session: Uuid, index: u32) -> DomainEvent {
    DomainEvent::MessageSent(MessageSent {
        exchange: exchange(session, index),
        content: format!("message {index}"),
        context_messages: 1,
        context_tokens: 3,
        wait_ms: 0,
        sealed: None,
        backoff_ms: 0,
    })
}

/// A reply with the given token counts and latency.
pub fn reply(session: Uuid, index: u32, input: u64, output: u64, latency_ms: u64) -> DomainEvent {
    DomainEvent::ResponseReceived(ResponseReceived {
        cost: None,
        repetition_score: None,
        quality_score: None,
        exchange: exchange(session, index),
        content: "ok".into(),
        latency_ms,
        status: Some(200),
        tokens: TokenCounts {
            input,
            output,
            estimated: false,
        },
        raw_size: u64::MAX,
        stream: None,
        sealed: None,
    })
}

/// Appends raw `(event_type, payload)` pairs to one stream, as a writer would.
pub async fn append_raw(
    store: &EventStore,
    stream: &str,
    events: Vec<(String, serde_json::Value)>,
) -> i64 {
    let events = events
        .into_iter()
        .map(|(event_type, payload)| NewEvent {
            event_id: Uuid::new_v4(),
            event_type,
            payload,
            metadata: json!({}),
        })
        .collect();
    let request = AppendRequest {
        stream_id: stream.to_owned(),
        expected: ExpectedVersion::Any,
        events,
    };
    store.append(request).await.unwrap().last_position
}

/// Appends domain events to the session's stream; returns the last position.
pub async fn append(store: &EventStore, session: Uuid, events: &[DomainEvent]) -> i64 {
    let parts = events.iter().map(|e| e.to_parts().unwrap()).collect();
    append_raw(store, &session_stream(session), parts).await
}

/// `(message_count, error_count, tokens_in, tokens_out, latency_total_ms)` of a session row.
pub async fn session_counts(store: &EventStore, session: Uuid) -> Option<[i64; 5]> {
    let row = sqlx::query(
        "SELECT message_count, error_count, tokens_in, tokens_out, latency_total_ms
         FROM sessions WHERE id = $1",
    )
    .bind(session.to_string())
    .fetch_optional(store.pool())
    .await
    .unwrap()?;
    let names = [
        "message_count",
        "error_count",
        "tokens_in",
        "tokens_out",
        "latency_total_ms",
    ];
    Some(names.map(|n| row.try_get::<i64, _>(n).unwrap()))
}

/// `(outcome, tokens_in, tokens_out, raw_size)` of each message row, by index.
pub async fn message_rows(store: &EventStore, session: Uuid) -> Vec<(String, i64, i64, i64)> {
    let rows = sqlx::query(
        "SELECT outcome, COALESCE(tokens_in, -1) AS ti, COALESCE(tokens_out, -1) AS tout,
             COALESCE(raw_size, -1) AS rs
         FROM session_messages WHERE session_id = $1 ORDER BY message_index, attempt",
    )
    .bind(session.to_string())
    .fetch_all(store.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get("outcome").unwrap(),
                r.try_get("ti").unwrap(),
                r.try_get("tout").unwrap(),
                r.try_get("rs").unwrap(),
            )
        })
        .collect()
}

/// Status of a session row.
pub async fn session_status(store: &EventStore, session: Uuid) -> String {
    sqlx::query_scalar("SELECT status FROM sessions WHERE id = $1")
        .bind(session.to_string())
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// `(name, version)` of a target row.
pub async fn target_row(store: &EventStore, id: Uuid) -> (String, i64) {
    let row = sqlx::query("SELECT name, version FROM targets WHERE id = $1")
        .bind(id.to_string())
        .fetch_one(store.pool())
        .await
        .unwrap();
    (
        row.try_get("name").unwrap(),
        row.try_get("version").unwrap(),
    )
}
