//! WebSocket connector: one connection per conversation, speaking raw JSON frames or Socket.IO.
//!
//! Design (what upstream got wrong, and how this fixes it):
//! - **Correlation, not FIFO.** Upstream paired any frame with content to the oldest pending
//!   send, so typing indicators, acks, greetings and late replies shifted every answer by one.
//!   Here a reply is the frame carrying the request's fresh id (`idPath`/`replyIdPath`), or one
//!   matching `replyMatcher`, or else the next frame whose `responsePath` resolves; everything
//!   else is skipped. Frames buffered before a request is written are discarded.
//! - **Cancel-safe `send`.** The socket belongs to an I/O task; `send` only queues a frame and
//!   reads a channel, so dropping it mid-reply loses nothing shared. A stale reply is skipped by
//!   its id; without ids the next `send` starts on a fresh connection instead of guessing.
//! - **Always reading.** The task answers WebSocket and Engine.IO pings while the lane sleeps,
//!   detects closes at once, and a dropped connector aborts it (no leaked task or socket).
//! - **Reconnect** on the next `send` with bounded exponential backoff; a frame that was never
//!   written is retried once on the new connection.
//! - **Socket.IO** (Engine.IO v4) is framing only: replies go through the same `responsePath`
//!   and matching rules (upstream ignored `responseTemplate` there). The endpoint is used as
//!   given, so Socket.IO URLs need `/socket.io/?EIO=4&transport=websocket` themselves.
//! - **Errors**: upgrade 401/403 → `HttpStatus`, refused/DNS/TLS/handshake → `Connect`, error
//!   frames (`errorPath` resolves) by their `code` (429 → `RateLimited`, 4xx/5xx → `HttpStatus`),
//!   a close mid-reply → `Protocol` with the partial text. `wss://` uses rustls (webpki roots)
//!   and needs the process-wide CryptoProvider that `main` installs.
//!
//! `protocolConfig` keys (all optional): `connectTimeoutMs` (10 000), `timeoutMs` (none; upstream
//! `timeout`), `subprotocol`, `authInSubprotocol` (false), `headers`, `persona` (`X-Persona`),
//! `idPath`, `replyIdPath` (= `idPath`), `replyMatcher {path, equals?}`, `streaming` (`true` or
//! `{doneMarkerPath?, doneValue?, idleGapMs: 500}`), `reconnect {maxAttempts: 5,
//! initialDelayMs: 200, maxDelayMs: 5000}`, `noReconnect`, `socketIo {enabled (true once the
//! object is given), event: "message", namespace: "/", replyEvent?}`, `protocol: "socket.io"`.

mod collect;
mod config;
mod connector;
mod framing;
mod handshake;
mod link;
mod matching;
mod plan;
mod settings;
#[cfg(test)]
mod tests;

pub use config::validate_config;
pub use connector::WebSocketConnector;
