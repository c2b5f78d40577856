//! `GET /ws`: the mock's JSON chat protocol.
//!
//! Client frames are `{"message", "id"?, "persona"?}`. Per frame the server sends
//! `{"type":"typing"}` and `{"type":"ack","id"}`, then after the latency knobs either
//! `{"type":"message","id","data":{"content"},"usage"}` or, with `?stream=1`, several
//! `{"type":"chunk","id","data":{"content"}}` and `{"type":"done","id","usage"}`. Errors are
//! `{"type":"error","id","error":{"message","code","retryAfter"?}}`. Frames of one connection are
//! answered concurrently, so with jitter replies can overtake each other. `?drop_after=N` closes
//! the connection after N replies, `?persona=` picks the persona (as does `X-Persona` or a
//! frame's `persona`); the upgrade request is recorded for `GET /__last_request`.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::Session;
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{
    CHUNK_GAP, Failure, Handled, LiveGuard, State, answer, offered_protocol, serve, usage,
};
use crate::mock::Persona;
use crate::mock::server::MockState;

/// Most chunks a streamed reply is cut into.
const MAX_CHUNKS: usize = 6;

#[derive(Debug, Deserialize)]
pub(super) struct ChatQuery {
    stream: Option<String>,
    drop_after: Option<u64>,
    persona: Option<String>,
}

/// One connection's settings, cloned into each in-flight reply.
#[derive(Clone)]
struct Conn {
    state: Arc<MockState>,
    persona: Persona,
    /// The mock session of this connection.
    key: String,
    stream: bool,
}

pub(super) async fn chat(
    req: HttpRequest,
    body: web::Payload,
    state: State,
    query: web::Query<ChatQuery>,
) -> actix_web::Result<HttpResponse> {
    state.record_request(&req);
    let offered = offered_protocol(&req);
    let protocols: Vec<&str> = offered.iter().map(String::as_str).collect();
    let (response, session, stream) = actix_ws::handle_with_protocols(&req, body, &protocols)?;
    let conn = Conn {
        persona: state.persona(&req, query.persona.as_deref()),
        state: state.into_inner(),
        key: format!("ws-{}", uuid::Uuid::new_v4().simple()),
        stream: matches!(query.stream.as_deref(), Some("1" | "true")),
    };
    let guard = LiveGuard::new(&req);
    let drop_after = query.drop_after;
    actix_web::rt::spawn(async move {
        let _guard = guard;
        let replies = session.clone();
        serve(session, stream, drop_after, move |text| {
            conn.clone().reply(replies.clone(), text)
        })
        .await;
    });
    Ok(response)
}

async fn send(session: &mut Session, frame: Value) {
    let _ = session.text(frame.to_string()).await;
}

impl Conn {
    async fn reply(self, mut session: Session, text: String) -> Handled {
        let frame: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let id = frame.get("id").cloned().unwrap_or(Value::Null);
        let Some(message) = frame
            .get("message")
            .and_then(Value::as_str)
            .filter(|m| !m.trim().is_empty())
        else {
            let failure = Failure::new(400, "message is required");
            send(&mut session, error_frame(&id, &failure)).await;
            return Handled::Reply;
        };
        let persona = frame
            .get("persona")
            .and_then(Value::as_str)
            .and_then(Persona::parse)
            .unwrap_or(self.persona);
        send(&mut session, json!({"type": "typing"})).await;
        send(&mut session, json!({"type": "ack", "id": id})).await;
        match answer(&self.state, persona, &self.key, message).await {
            Ok(reply) if self.stream => stream_reply(&mut session, &id, message, &reply).await,
            Ok(reply) => {
                let frame = json!({
                    "type": "message", "id": id, "data": {"content": reply},
                    "usage": usage(message, &reply),
                });
                send(&mut session, frame).await;
            }
            Err(failure) => send(&mut session, error_frame(&id, &failure)).await,
        }
        Handled::Reply
    }
}

fn error_frame(id: &Value, failure: &Failure) -> Value {
    json!({"type": "error", "id": id, "error": failure.json()})
}

async fn stream_reply(session: &mut Session, id: &Value, message: &str, reply: &str) {
    for (i, part) in chunks(reply).into_iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(CHUNK_GAP).await;
        }
        let frame = json!({"type": "chunk", "id": id, "data": {"content": part}});
        send(session, frame).await;
    }
    tokio::time::sleep(CHUNK_GAP).await;
    let done = json!({"type": "done", "id": id, "usage": usage(message, reply)});
    send(session, done).await;
}

/// `text` cut at word boundaries into at most [`MAX_CHUNKS`] parts that join back to `text`.
fn chunks(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    if words.is_empty() {
        return Vec::new();
    }
    let per_chunk = words.len().div_ceil(MAX_CHUNKS);
    words.chunks(per_chunk).map(|c| c.concat()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_join_back() {
        assert!(chunks("").is_empty());
        assert_eq!(chunks("one"), vec!["one"]);
        let text = "a b c d e f g h i j k l m n";
        let parts = chunks(text);
        assert_eq!(parts.len(), MAX_CHUNKS - 1);
        assert_eq!(parts.concat(), text);
        assert_eq!(chunks("x y ").concat(), "x y ");
    }
}
