//! `GET /socket.io/?EIO=4&transport=websocket`: a minimal Engine.IO v4 / Socket.IO server.
//!
//! Sends the open packet `0{"sid",…}` and a ping `2` right away, answers `40[/ns,]` with
//! `40[/ns,]{"sid"}`, client pings with pongs, and an event `42[/ns,]["<event>", payload]`
//! (payload `{"message", "persona"?}` or a plain string) with
//! `42[/ns,]["message", {"data":{"content"},"usage"}]` (or `{"error":{…}}`). `41` ends the session.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::Session;
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{Handled, LiveGuard, State, answer, serve, usage};
use crate::mock::Persona;
use crate::mock::server::MockState;

#[derive(Debug, Deserialize)]
pub(super) struct SocketIoQuery {
    #[serde(rename = "EIO")]
    eio: Option<String>,
    transport: Option<String>,
    persona: Option<String>,
}

#[derive(Clone)]
struct Conn {
    state: Arc<MockState>,
    persona: Persona,
    sid: String,
}

pub(super) async fn socket_io(
    req: HttpRequest,
    body: web::Payload,
    state: State,
    query: web::Query<SocketIoQuery>,
) -> actix_web::Result<HttpResponse> {
    state.record_request(&req);
    if query.eio.as_deref() != Some("4") || query.transport.as_deref() != Some("websocket") {
        return Ok(
            HttpResponse::BadRequest().json(json!({"code": 0, "message": "Transport unknown"}))
        );
    }
    let (response, mut session, stream) = actix_ws::handle(&req, body)?;
    let conn = Conn {
        persona: state.persona(&req, query.persona.as_deref()),
        state: state.into_inner(),
        sid: uuid::Uuid::new_v4().simple().to_string(),
    };
    let guard = LiveGuard::new(&req);
    actix_web::rt::spawn(async move {
        let _guard = guard;
        let open = json!({
            "sid": conn.sid, "upgrades": [], "pingInterval": 25_000, "pingTimeout": 20_000,
            "maxPayload": 1_000_000,
        });
        if session.text(format!("0{open}")).await.is_err() || session.text("2").await.is_err() {
            return;
        }
        let replies = session.clone();
        serve(session, stream, None, move |text| {
            conn.clone().handle(replies.clone(), text)
        })
        .await;
    });
    Ok(response)
}

/// `(namespace prefix, rest)` of a Socket.IO packet body: `"/chat,…"` → `("/chat,", "…")`.
fn split_namespace(body: &str) -> (&str, &str) {
    if body.starts_with('/') {
        match body.find(',') {
            Some(i) => (&body[..=i], &body[i + 1..]),
            None => (body, ""),
        }
    } else {
        ("", body)
    }
}

impl Conn {
    async fn handle(self, mut session: Session, text: String) -> Handled {
        if let Some(payload) = text.strip_prefix('2') {
            let _ = session.text(format!("3{payload}")).await;
            return Handled::Quiet;
        }
        if let Some(body) = text.strip_prefix("40") {
            let (namespace, _) = split_namespace(body);
            let prefix = match namespace {
                "" => String::new(),
                ns if ns.ends_with(',') => ns.to_string(),
                ns => format!("{ns},"),
            };
            let ack = json!({"sid": self.sid});
            let _ = session.text(format!("40{prefix}{ack}")).await;
            return Handled::Quiet;
        }
        if text.starts_with("41") {
            return Handled::Close;
        }
        match text.strip_prefix("42") {
            Some(body) => self.event(&mut session, body).await,
            None => Handled::Quiet,
        }
    }

    async fn event(&self, session: &mut Session, body: &str) -> Handled {
        let (namespace, rest) = split_namespace(body);
        let data = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        let Ok(Value::Array(args)) = serde_json::from_str::<Value>(data) else {
            return Handled::Quiet;
        };
        let payload = args.get(1).cloned().unwrap_or(Value::Null);
        let message = match &payload {
            Value::String(s) => s.clone(),
            other => other
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        };
        let persona = payload
            .get("persona")
            .and_then(Value::as_str)
            .and_then(Persona::parse)
            .unwrap_or(self.persona);
        let reply = match answer(&self.state, persona, &self.sid, &message).await {
            Ok(text) => json!({"data": {"content": text}, "usage": usage(&message, &text)}),
            Err(failure) => json!({"error": failure.json()}),
        };
        let packet = json!(["message", reply]);
        let _ = session.text(format!("42{namespace}{packet}")).await;
        Handled::Reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces() {
        assert_eq!(split_namespace("[\"m\"]"), ("", "[\"m\"]"));
        assert_eq!(split_namespace("/chat,[\"m\"]"), ("/chat,", "[\"m\"]"));
        assert_eq!(split_namespace("/chat"), ("/chat", ""));
    }
}
