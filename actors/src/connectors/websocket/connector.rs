//! `WebSocketConnector`: one connection per conversation, id-correlated (or matched) replies,
//! streamed replies, reconnect with backoff, ping/pong health.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_tungstenite::tungstenite::Bytes;

use super::collect::Accumulator;
use super::framing::encode_event;
use super::link::{Event, Link};
use super::matching::{FrameClass, ReplyRules};
use super::plan::WsPlan;
use super::settings::Correlation;
use crate::connectors::egress::EgressPolicy;
use crate::connectors::history::request_value;
use crate::connectors::http_config::{OVERSIZED_BYTES, malformed_body, pad_to};
use crate::connectors::paths::write_path;
use crate::connectors::{
    Connector, ConnectorError, HealthReport, OutboundMessage, Reply, TargetConnection,
};
use crate::domain::events::ErrorKind;
use crate::domain::target::RequestTemplate;

const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// A connector for chatbots spoken to over a WebSocket (raw JSON frames or Socket.IO).
pub struct WebSocketConnector {
    plan: WsPlan,
    /// Every connection (and reconnection) is dialled under it.
    egress: Arc<EgressPolicy>,
    rules: ReplyRules,
    request: RequestTemplate,
    usage_path: Option<String>,
    link: Option<Link>,
    /// A request frame was queued but its exchange never finished (the caller dropped `send`,
    /// or `timeoutMs` expired): its reply may still arrive.
    in_flight: bool,
    /// Whether a connection was ever open (a later open is a reconnect).
    connected_once: bool,
}

/// Shows the endpoint without its query (which may carry an API key).
impl std::fmt::Debug for WebSocketConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketConnector")
            .field("url", &self.plan.display_url)
            .field("connected", &self.link.is_some())
            .finish_non_exhaustive()
    }
}

/// The internal per-message deadline (`protocolConfig.timeoutMs`).
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: Instant,
    limit: Duration,
}

impl Deadline {
    fn error(self, partial: Option<String>) -> ConnectorError {
        ConnectorError {
            partial,
            ..ConnectorError::new(
                ErrorKind::Timeout,
                format!("no complete reply within {} ms", self.limit.as_millis()),
            )
        }
    }
}

/// Runs `work`, failing with `Timeout` at the deadline.
async fn within<T>(
    deadline: Option<Deadline>,
    work: impl Future<Output = Result<T, ConnectorError>>,
) -> Result<T, ConnectorError> {
    match deadline {
        None => work.await,
        Some(d) => tokio::time::timeout_at(d.at.into(), work)
            .await
            .unwrap_or_else(|_| Err(d.error(None))),
    }
}

impl WebSocketConnector {
    /// Validates the target and builds the connector (no I/O); errors are `Protocol` and name
    /// the field. Connections are opened under `egress`.
    pub fn new(conn: &TargetConnection, egress: Arc<EgressPolicy>) -> Result<Self, ConnectorError> {
        let plan = WsPlan::build(conn)?;
        let response = &conn.spec.response_template;
        let rules = ReplyRules::new(
            plan.settings.correlation.clone(),
            response,
            plan.settings.streaming.clone(),
        );
        Ok(Self {
            plan,
            egress,
            rules,
            request: conn.spec.request_template.clone(),
            usage_path: response.token_usage_path.clone(),
            link: None,
            in_flight: false,
            connected_once: false,
        })
    }

    /// The request frame for `text` and its correlation id.
    fn frame(
        &self,
        message: &OutboundMessage,
        text: &str,
    ) -> Result<(Option<String>, String), ConnectorError> {
        let correlation = &self.plan.settings.correlation;
        let id =
            matches!(correlation, Correlation::Id { .. }).then(|| uuid::Uuid::new_v4().to_string());
        match message.inject.as_deref() {
            Some("malformed_json") => return Ok((id, malformed_body(text))),
            Some("empty_body") => return Ok((id, String::new())),
            _ => {}
        }
        let config_error = |field: &str, e: &dyn std::fmt::Display| {
            ConnectorError::new(ErrorKind::Protocol, format!("{field}: {e}"))
        };
        let mut body = request_value(&self.request, message, text)?;
        if let (Some(id), Correlation::Id { write, .. }) = (&id, correlation) {
            write_path(&mut body, write, Value::String(id.clone()))
                .map_err(|e| config_error("protocolConfig.idPath", &e))?;
        }
        let frame = match &self.plan.settings.socket_io {
            Some(sio) => encode_event(&sio.namespace, &sio.event, &body),
            None => body.to_string(),
        };
        Ok((id, frame))
    }

    fn is_live(&self) -> bool {
        self.link.as_ref().is_some_and(|l| !l.is_closed())
    }

    /// Discards buffered frames: they arrived before the next request, so none is its reply.
    fn drain(&mut self) {
        if let Some(link) = self.link.as_mut() {
            while link.try_next().is_some() {}
        }
    }

    /// Without ids, a late reply to an abandoned request cannot be told from the next reply, so
    /// the next exchange starts on a fresh connection. With ids the stale reply is just skipped.
    fn settle_abandoned(&mut self) {
        if std::mem::take(&mut self.in_flight) && !self.rules.has_ids() {
            self.link = None;
        }
    }

    /// Opens a connection if there is no live one: reconnects with bounded exponential backoff
    /// (the first attempt at once), giving up with `Connect` when the attempts are exhausted.
    async fn ensure_link(&mut self) -> Result<(), ConnectorError> {
        if self.is_live() {
            return Ok(());
        }
        let lost = self.link.take().map(|l| l.close_reason());
        let policy = self.plan.settings.reconnect.clone();
        let attempts = if self.connected_once {
            policy.max_attempts
        } else {
            policy.max_attempts.max(1)
        };
        if attempts == 0 {
            let reason = lost.unwrap_or_else(|| "the connection closed".into());
            return Err(ConnectorError::new(
                ErrorKind::Connect,
                format!("{reason}; reconnecting is disabled"),
            ));
        }
        let mut last = None;
        for attempt in 1..=attempts {
            if attempt > 1 {
                tokio::time::sleep(policy.delay(attempt - 1)).await;
            }
            match Link::open(&self.plan, &self.egress).await {
                Ok(link) => {
                    self.link = Some(link);
                    self.connected_once = true;
                    return Ok(());
                }
                Err(e) if e.kind != ErrorKind::Connect => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        let last = last.unwrap_or_else(|| ConnectorError::new(ErrorKind::Connect, "no attempt"));
        Err(ConnectorError {
            message: format!(
                "gave up after {attempts} connection attempts: {}",
                last.message
            ),
            ..last
        })
    }

    /// Writes the frame and awaits its reply; retries once on a fresh connection when the frame
    /// could not be written.
    async fn exchange(
        &mut self,
        id: Option<&str>,
        frame: &str,
        sent_text: &str,
        deadline: Option<Deadline>,
    ) -> Result<Reply, ConnectorError> {
        for _ in 0..2 {
            self.drain();
            within(deadline, self.ensure_link()).await?;
            let sent_at = Instant::now();
            let written = self
                .link
                .as_ref()
                .and_then(|l| l.queue_text(frame.to_string()));
            let Some(written) = written else {
                self.link = None;
                continue;
            };
            self.in_flight = true;
            if within(deadline, async { Ok(written.await.is_ok()) }).await? {
                let result = self.await_reply(id, sent_text, sent_at, deadline).await;
                self.in_flight = matches!(&result, Err(e) if e.kind == ErrorKind::Timeout);
                return result;
            }
            self.in_flight = false;
            self.link = None;
        }
        Err(ConnectorError::new(
            ErrorKind::Connect,
            "the connection was lost before the message could be written",
        ))
    }

    /// Reads frames until the reply is complete: one matching frame, or for streaming the done
    /// marker / an idle gap after the last chunk.
    async fn await_reply(
        &mut self,
        id: Option<&str>,
        sent_text: &str,
        sent_at: Instant,
        deadline: Option<Deadline>,
    ) -> Result<Reply, ConnectorError> {
        let streamed = self.rules.streaming.is_some();
        let idle_gap = self.rules.streaming.as_ref().map(|s| s.idle_gap);
        let usage_path = self.usage_path.as_deref();
        let mut acc = Accumulator::new(sent_at);
        let Some(link) = self.link.as_mut() else {
            return Err(ConnectorError::new(ErrorKind::Protocol, "no connection"));
        };
        loop {
            let idle_at = idle_gap.zip(acc.last_chunk_at()).map(|(gap, at)| at + gap);
            let frame = match wait(link, idle_at, deadline.map(|d| d.at)).await {
                Wait::Event(Event::Frame(frame)) => frame,
                Wait::Event(Event::Closed(reason)) => {
                    return Err(ConnectorError {
                        partial: acc.partial(),
                        ..ConnectorError::new(
                            ErrorKind::Protocol,
                            format!("{reason} before the reply was complete"),
                        )
                    });
                }
                Wait::IdleGap => return Ok(acc.into_reply(sent_text, usage_path, streamed)),
                Wait::Deadline => return Err(timeout_error(deadline, acc.partial())),
            };
            let complete = match self.rules.classify(&frame.json, id) {
                FrameClass::Skip => false,
                FrameClass::Content { text, done } => {
                    acc.push(&text, &frame);
                    !streamed || done
                }
                FrameClass::Done => {
                    acc.finish_with(&frame);
                    true
                }
                FrameClass::Failure(e) => {
                    let partial = acc.partial();
                    return Err(ConnectorError { partial, ..e });
                }
            };
            if complete {
                return Ok(acc.into_reply(sent_text, usage_path, streamed));
            }
        }
    }
}

/// What ended a wait for the next frame.
enum Wait {
    Event(Event),
    /// No chunk for the streaming idle gap: the streamed reply is complete.
    IdleGap,
    /// `timeoutMs` expired.
    Deadline,
}

async fn wait(link: &mut Link, idle_at: Option<Instant>, deadline: Option<Instant>) -> Wait {
    let wake = match (idle_at, deadline) {
        (Some(a), Some(b)) => a.min(b),
        (Some(at), None) | (None, Some(at)) => at,
        (None, None) => return Wait::Event(link.next().await),
    };
    match tokio::time::timeout_at(wake.into(), link.next()).await {
        Ok(event) => Wait::Event(event),
        Err(_) if idle_at.is_some_and(|at| at <= Instant::now()) => Wait::IdleGap,
        Err(_) => Wait::Deadline,
    }
}

fn timeout_error(deadline: Option<Deadline>, partial: Option<String>) -> ConnectorError {
    match deadline {
        Some(d) => d.error(partial),
        None => ConnectorError::new(ErrorKind::Timeout, "timed out"),
    }
}

fn report(healthy: bool, latency_ms: u64, detail: impl Into<String>) -> HealthReport {
    HealthReport {
        healthy,
        latency_ms,
        detail: detail.into(),
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[async_trait::async_trait]
impl Connector for WebSocketConnector {
    /// Opens the connection once (no retries); a no-op when already connected.
    async fn connect(&mut self) -> Result<(), ConnectorError> {
        if self.is_live() {
            return Ok(());
        }
        self.link = None;
        self.link = Some(Link::open(&self.plan, &self.egress).await?);
        self.connected_once = true;
        Ok(())
    }

    async fn send(&mut self, message: &OutboundMessage) -> Result<Reply, ConnectorError> {
        let deadline = self.plan.settings.message_timeout.map(|limit| Deadline {
            at: Instant::now() + limit,
            limit,
        });
        let text: Cow<'_, str> = match message.inject.as_deref() {
            Some("oversized") => Cow::Owned(pad_to(&message.text, OVERSIZED_BYTES)),
            _ => Cow::Borrowed(&message.text),
        };
        let (id, frame) = self.frame(message, &text)?;
        self.settle_abandoned();
        self.exchange(id.as_deref(), &frame, &text, deadline).await
    }

    /// A WebSocket ping answered by a pong within 5 s (connecting first if needed).
    async fn health(&mut self) -> HealthReport {
        self.drain();
        if !self.is_live()
            && let Err(e) = self.connect().await
        {
            return report(false, 0, format!("connect failed: {}", e.message));
        }
        let started = Instant::now();
        let payload = Bytes::from(format!("krawall-{}", uuid::Uuid::new_v4().simple()));
        let Some(pong) = self.link.as_ref().and_then(|l| l.ping(payload)) else {
            return report(false, 0, "could not send a ping");
        };
        match tokio::time::timeout(HEALTH_TIMEOUT, pong).await {
            Ok(Ok(())) => {
                let ms = elapsed_ms(started);
                report(true, ms, format!("pong after {ms} ms"))
            }
            Ok(Err(_)) => report(
                false,
                elapsed_ms(started),
                "the connection closed before the pong",
            ),
            Err(_) => report(false, elapsed_ms(started), "no pong within 5 s"),
        }
    }

    /// Sends a Close frame, waits briefly for the server's, and ends the I/O task.
    async fn disconnect(&mut self) {
        self.in_flight = false;
        if let Some(link) = self.link.take() {
            link.close().await;
        }
    }
}
