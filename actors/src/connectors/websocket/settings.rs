//! Resolved settings of a WebSocket target (what `protocolConfig` means once defaults are
//! applied); parsed and validated by `config`.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;

/// How a reply frame is told apart from typing indicators, acks and other requests' replies.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Correlation {
    /// A fresh id is written at `write` and must come back at `read`.
    Id { write: String, read: String },
    /// The frame must have `path` (equal to `equals` when given).
    Matcher { path: String, equals: Option<Value> },
    /// The next frame whose `responsePath` resolves.
    Next,
}

/// A reply spread over several frames.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Streaming {
    pub done_path: Option<String>,
    pub done_value: Option<Value>,
    pub idle_gap: Duration,
}

/// Bounded exponential backoff for reconnects.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Reconnect {
    pub max_attempts: u32,
    pub initial: Duration,
    pub max: Duration,
}

impl Reconnect {
    /// The wait before retry `n` (1-based): `initial × 2^(n-1)`, capped at `max`.
    pub fn delay(&self, n: u32) -> Duration {
        let factor = 2u32.saturating_pow(n.saturating_sub(1));
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// Socket.IO (Engine.IO v4) framing.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SocketIo {
    pub event: String,
    /// `/` for the main namespace.
    pub namespace: String,
    /// Only events with this name are replies (any event when `None`).
    pub reply_event: Option<String>,
}

/// Everything from `protocolConfig`, resolved with defaults (no credentials in here).
#[derive(Debug, Clone)]
pub(super) struct WsSettings {
    pub connect_timeout: Duration,
    pub message_timeout: Option<Duration>,
    pub subprotocol: Option<String>,
    pub auth_in_subprotocol: bool,
    /// Extra upgrade headers, including `X-Persona`.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub correlation: Correlation,
    pub streaming: Option<Streaming>,
    pub reconnect: Reconnect,
    pub socket_io: Option<SocketIo>,
}
