//! Shared parts of the mock's WebSocket endpoints: routes, the live-connection counter behind
//! `GET /__ws_connections`, the per-connection serve loop and the persona answer.
//!
//! Connection state lives in the connection's task: in-flight replies are futures owned by it,
//! so closing the connection drops them and nothing outlives the socket.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use actix_web::http::header::SEC_WEBSOCKET_PROTOCOL;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, MessageStream, Session};
use actors::connectors::usage::estimate_tokens;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde_json::{Value, json};

use crate::mock::server::MockState;
use crate::mock::{Outcome, Persona};

/// Largest accepted frame (the `oversized` fault injection sends 1 MiB), as for HTTP bodies.
const MAX_FRAME_BYTES: usize = 4 * 1024 * 1024;

pub(super) type State = web::Data<MockState>;

/// Open WebSocket connections per mock server, keyed by its port (an entry disappears at zero,
/// so the map never holds more than the servers with open connections).
static LIVE: Mutex<BTreeMap<u16, usize>> = Mutex::new(BTreeMap::new());

/// Registers the WebSocket routes.
pub(in crate::mock) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ws", web::get().to(super::chat::chat))
        .route("/socket.io/", web::get().to(super::socket_io::socket_io))
        .route("/socket.io", web::get().to(super::socket_io::socket_io))
        .route("/__ws_connections", web::get().to(connections));
}

/// `{"connections": n}`: WebSocket connections currently open on this mock server.
async fn connections(req: HttpRequest) -> HttpResponse {
    let port = req.app_config().local_addr().port();
    let open = LIVE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&port)
        .copied()
        .unwrap_or(0);
    HttpResponse::Ok().json(json!({"connections": open}))
}

/// Counts one open connection until dropped (when the connection task ends).
pub(super) struct LiveGuard(u16);

impl LiveGuard {
    pub(super) fn new(req: &HttpRequest) -> Self {
        let port = req.app_config().local_addr().port();
        *LIVE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(port)
            .or_default() += 1;
        Self(port)
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(open) = live.get_mut(&self.0) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                live.remove(&self.0);
            }
        }
    }
}

/// The first subprotocol the client offered (echoed back so the handshake succeeds).
pub(super) fn offered_protocol(req: &HttpRequest) -> Option<String> {
    let offered = req.headers().get(SEC_WEBSOCKET_PROTOCOL)?.to_str().ok()?;
    offered
        .split(',')
        .map(str::trim)
        .find(|p| !p.is_empty())
        .map(str::to_string)
}

/// What handling one client frame amounted to.
pub(super) enum Handled {
    /// A reply (or error reply) was sent: counts towards `drop_after`.
    Reply,
    /// A control frame or nothing.
    Quiet,
    /// The client asked to end the session.
    Close,
}

/// Runs one connection: text frames are handled concurrently by `on_text`, pings answered;
/// closes after `drop_after` replies, on the client's close or when the client goes away.
pub(super) async fn serve<F, Fut>(
    mut session: Session,
    stream: MessageStream,
    drop_after: Option<u64>,
    mut on_text: F,
) where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Handled>,
{
    let mut stream = stream
        .max_frame_size(MAX_FRAME_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME_BYTES);
    let mut in_flight = FuturesUnordered::new();
    let mut replies = 0u64;
    loop {
        tokio::select! {
            message = stream.recv() => match message {
                Some(Ok(AggregatedMessage::Text(text))) => in_flight.push(on_text(text.to_string())),
                Some(Ok(AggregatedMessage::Ping(bytes))) => {
                    if session.pong(&bytes).await.is_err() {
                        break;
                    }
                }
                Some(Ok(AggregatedMessage::Binary(_) | AggregatedMessage::Pong(_))) => {}
                Some(Ok(AggregatedMessage::Close(_)) | Err(_)) | None => break,
            },
            Some(handled) = in_flight.next(), if !in_flight.is_empty() => match handled {
                Handled::Reply => {
                    replies += 1;
                    if drop_after.is_some_and(|n| replies >= n) {
                        break;
                    }
                }
                Handled::Quiet => {}
                Handled::Close => break,
            },
        }
    }
    drop(in_flight);
    let _ = session.close(None).await;
}

/// An error reply: `{message, code, retryAfter?}`.
pub(super) struct Failure {
    pub message: String,
    pub code: u16,
    pub retry_after_secs: Option<u64>,
}

impl Failure {
    pub(super) fn new(code: u16, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code,
            retry_after_secs: None,
        }
    }

    pub(super) fn json(&self) -> Value {
        let mut error = json!({"message": self.message, "code": self.code});
        if let Some(secs) = self.retry_after_secs {
            error["retryAfter"] = json!(secs);
        }
        error
    }
}

/// OpenAI-style usage for one exchange.
pub(super) fn usage(message: &str, reply: &str) -> Value {
    let (prompt, completion) = (estimate_tokens(message), estimate_tokens(reply));
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

/// Records the message in session `key`, applies the latency and error knobs, then lets the
/// persona answer.
pub(super) async fn answer(
    state: &MockState,
    persona: Persona,
    key: &str,
    message: &str,
) -> Result<String, Failure> {
    let session = state.session_for(Some(key), message);
    state.delay().await;
    if state.roll_error() {
        return Err(Failure::new(500, "Simulated server error"));
    }
    match state.respond(persona, message, &session) {
        Outcome::Reply(text) => Ok(text),
        Outcome::Empty => Ok(String::new()),
        Outcome::RateLimited { retry_after_secs } => Err(Failure {
            message: format!("Rate limit exceeded. Please retry after {retry_after_secs} seconds."),
            code: 429,
            retry_after_secs: Some(retry_after_secs),
        }),
        Outcome::ServerError => Err(Failure::new(
            500,
            "The server had an error while processing your request",
        )),
        Outcome::HangThenGatewayTimeout(wait) => {
            tokio::time::sleep(wait).await;
            Err(Failure::new(504, "Gateway timeout"))
        }
    }
}

/// Pause between streamed chunks.
pub(super) const CHUNK_GAP: Duration = Duration::from_millis(15);
