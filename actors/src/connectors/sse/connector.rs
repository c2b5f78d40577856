//! The SSE connector: sends one request per message and reads the reply as a server-sent event
//! stream (OpenAI and Anthropic `stream: true`, or a GET stream), recording time to first token.
//!
//! URL, method, headers, auth, persona, `X-Session-Id`, body templating and the classification
//! of non-2xx replies are the HTTP connector's. Dropping the `send` future drops the response
//! body, which aborts the request.

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, RequestBuilder, Response, StatusCode};

use super::assembly::{Assembler, RawCapture, Rules, Step};
use super::config::{SseConfig, SseMode};
use crate::connectors::http::{
    HttpConnector, body_error, elapsed_ms, parse_retry_after, protocol_error, read_body,
    transport_error,
};
use crate::connectors::http_config::{config_error, outgoing_text, request_body};
use crate::connectors::{
    Connector, ConnectorError, HealthReport, OutboundMessage, Reply, TargetConnection,
};
use crate::domain::events::ErrorKind;

/// Most bytes of the raw event stream kept in `Reply.raw`.
const MAX_RAW_BYTES: usize = 64 * 1024;
/// The `Accept` header the HTTP plan sets unless the target overrides it.
const DEFAULT_ACCEPT: &str = "application/json, */*";

/// A connector for chatbots that stream their replies as server-sent events.
#[derive(Clone)]
pub struct SseConnector {
    http: HttpConnector,
    config: SseConfig,
    rules: Rules,
}

/// Shows the mode and the HTTP part (URL without its query, which may carry an API key).
impl std::fmt::Debug for SseConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseConnector")
            .field("mode", &self.config.mode.as_str())
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

/// How the body of a 2xx reply ended.
enum End {
    /// `[DONE]` or a stop event.
    Done,
    /// The body closed without `[DONE]` or a stop event.
    Eof,
    /// The provider sent an error event.
    Failed(String),
    /// Reading the body failed mid-stream.
    Broken(ConnectorError),
}

impl SseConnector {
    /// Validates the target and builds the connector; errors are `Protocol` and name the field.
    pub fn new(conn: &TargetConnection, client: reqwest::Client) -> Result<Self, ConnectorError> {
        let config = SseConfig::parse(conn.spec.protocol_config.as_ref()).map_err(|errors| {
            let first = errors.first().map(ToString::to_string).unwrap_or_default();
            config_error(first)
        })?;
        let mut http = HttpConnector::new(conn, client)?;
        let accept = http.plan.headers.get(ACCEPT);
        if accept.is_none_or(|v| v == DEFAULT_ACCEPT) {
            let value = HeaderValue::from_static("text/event-stream");
            http.plan.headers.insert(ACCEPT, value);
        }
        let template = &conn.spec.response_template;
        let rules = Rules {
            response_path: template.response_path.clone(),
            token_usage_path: template.token_usage_path.clone(),
            error_path: template.error_path.clone(),
            stop_events: config.stop_events.clone(),
        };
        Ok(Self {
            http,
            config,
            rules,
        })
    }

    fn build_request(
        &self,
        message: &OutboundMessage,
        text: &str,
    ) -> Result<RequestBuilder, ConnectorError> {
        let plan = &self.http.plan;
        let mut url = plan.url.clone();
        let builder = match self.config.mode {
            SseMode::Get => {
                url.query_pairs_mut()
                    .append_pair(&self.config.message_param, text);
                self.http.client.get(url)
            }
            SseMode::Post => {
                let method = if plan.method == Method::GET {
                    Method::POST
                } else {
                    plan.method.clone()
                };
                let body = request_body(&self.http.request, message, text)?;
                self.http.client.request(method, url).body(body)
            }
        };
        let mut builder = builder
            .headers(plan.headers.clone())
            .header("x-session-id", message.session_id.to_string());
        if let Some(timeout) = plan.timeout {
            builder = builder.timeout(timeout);
        }
        Ok(builder)
    }

    /// Reads the event stream of a 2xx reply into a `Reply`.
    async fn read_stream(
        &self,
        response: Response,
        started: Instant,
        sent: &str,
    ) -> Result<Reply, ConnectorError> {
        let status = response.status();
        let mut raw = RawCapture::new(MAX_RAW_BYTES);
        let mut assembler = Assembler::new(&self.rules);
        let end = pump(response, &mut raw, &mut assembler, started).await;
        let partial = || Some(assembler.text().to_string()).filter(|t| !t.is_empty());
        let failure = match end {
            End::Done => None,
            End::Eof if self.config.require_done && !assembler.ended() => Some(protocol_error(
                status,
                "the event stream closed before [DONE] or a stop event".to_string(),
            )),
            End::Eof => None,
            End::Failed(detail) => Some(protocol_error(
                status,
                format!("the stream sent an error event: {detail}"),
            )),
            End::Broken(err) => Some(ConnectorError {
                status: Some(status.as_u16()),
                ..err
            }),
        };
        if let Some(err) = failure {
            return Err(ConnectorError {
                partial: partial(),
                ..err
            });
        }
        let done = assembler
            .finish(sent, elapsed_ms(started))
            .map_err(|message| protocol_error(status, message))?;
        Ok(Reply {
            text: done.text,
            raw: raw.into_text(),
            status: Some(status.as_u16()),
            tokens: done.tokens,
            json: done.json,
            stream: Some(done.metrics),
        })
    }
}

/// Feeds the body's events to the assembler until the stream ends.
async fn pump(
    response: Response,
    raw: &mut RawCapture,
    assembler: &mut Assembler<'_>,
    started: Instant,
) -> End {
    let total = AtomicUsize::new(0);
    let bytes = response
        .bytes_stream()
        .inspect(|chunk| {
            if let Ok(chunk) = chunk {
                raw.push(chunk);
            }
        })
        // A bot that streams without end (or one endless event) is cut at the cap.
        .take_while(|chunk| {
            let len = chunk.as_ref().map_or(0, |c| c.len());
            let seen = total.fetch_add(len, Ordering::Relaxed) + len;
            std::future::ready(seen <= MAX_SSE_REPLY_BYTES)
        });
    let mut events = pin!(bytes.eventsource());
    let over_cap = || {
        ConnectorError::new(
            ErrorKind::Protocol,
            format!("SSE reply exceeds {MAX_SSE_REPLY_BYTES} bytes"),
        )
    };
    while let Some(item) = events.next().await {
        let event = match item {
            Ok(event) => event,
            Err(EventStreamError::Transport(err)) => return End::Broken(body_error(err)),
            Err(err) => {
                let message = format!("invalid event stream: {err}");
                return End::Broken(ConnectorError::new(ErrorKind::Protocol, message));
            }
        };
        match assembler.push(&event.event, &event.data, elapsed_ms(started)) {
            Step::Continue => {}
            Step::End => return End::Done,
            Step::Failed(detail) => return End::Failed(detail),
        }
    }
    if total.load(Ordering::Relaxed) > MAX_SSE_REPLY_BYTES {
        return End::Broken(over_cap());
    }
    End::Eof
}

/// Largest streamed reply read, in bytes (the whole stream, events and framing).
pub const MAX_SSE_REPLY_BYTES: usize = 16 * 1024 * 1024;

/// Whether the reply declares itself JSON (an error or a non-streamed reply), not a stream.
fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"))
}

#[async_trait::async_trait]
impl Connector for SseConnector {
    async fn connect(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }

    async fn send(&mut self, message: &OutboundMessage) -> Result<Reply, ConnectorError> {
        let text = outgoing_text(message);
        let started = Instant::now();
        let response = self
            .build_request(message, &text)?
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        if !status.is_success() {
            let retry_after_ms = parse_retry_after(response.headers());
            let body = read_body(response).await?;
            return Err(self.http.status_error(status, retry_after_ms, &body));
        }
        if is_json(&response) {
            return Err(not_a_stream(status));
        }
        self.read_stream(response, started, &text).await
    }

    async fn health(&mut self) -> HealthReport {
        self.http.health().await
    }

    async fn disconnect(&mut self) {}
}

fn not_a_stream(status: StatusCode) -> ConnectorError {
    protocol_error(
        status,
        "the reply is JSON, not an event stream (does the request body set \"stream\": true?)"
            .to_string(),
    )
}
