//! HTTP/REST connector: one JSON request per message on a shared `reqwest::Client`.
//!
//! `protocolConfig` keys (all optional): `method` (default POST; GET sends `?message=`), `path`
//! (appended to the endpoint), `headers` (extra headers), `healthCheckPath`, `persona` (sent as
//! `X-Persona` for the mock chatbot) and `timeoutMs` (per-request timeout). Every request carries
//! `X-Session-Id`. Failures are classified into `ErrorKind`s; URLs (which may carry a query API
//! key) never appear in error messages.

use std::error::Error as _;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde_json::Value;

use super::http_config::{HttpPlan, outgoing_text, plan, request_body};
use super::paths::read_path;
use super::usage::usage_or_estimate;
use super::{Connector, ConnectorError, HealthReport, OutboundMessage, Reply, TargetConnection};
use crate::domain::events::ErrorKind;
use crate::domain::target::{RequestTemplate, ResponseTemplate};

/// Largest reply body read into memory.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Longest error detail copied from a reply body.
const MAX_DETAIL_CHARS: usize = 300;
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// A connector for JSON-over-HTTP chatbots (OpenAI, Anthropic, Gemini, custom REST APIs).
#[derive(Clone)]
pub struct HttpConnector {
    pub(super) client: reqwest::Client,
    pub(super) plan: HttpPlan,
    pub(super) request: RequestTemplate,
    response: ResponseTemplate,
}

/// Shows the method and the URL without its query (which may carry an API key).
impl std::fmt::Debug for HttpConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut url = self.plan.url.clone();
        url.set_query(None);
        f.debug_struct("HttpConnector")
            .field("method", &self.plan.method)
            .field("url", &url.as_str())
            .field("timeout", &self.plan.timeout)
            .finish_non_exhaustive()
    }
}

impl HttpConnector {
    /// Validates the target and builds the connector; errors are `Protocol` and name the field.
    pub fn new(conn: &TargetConnection, client: reqwest::Client) -> Result<Self, ConnectorError> {
        Ok(Self {
            client,
            plan: plan(conn)?,
            request: conn.spec.request_template.clone(),
            response: conn.spec.response_template.clone(),
        })
    }

    fn build_request(
        &self,
        message: &OutboundMessage,
        text: &str,
    ) -> Result<RequestBuilder, ConnectorError> {
        let mut url = self.plan.url.clone();
        let builder = if self.plan.method == Method::GET {
            url.query_pairs_mut().append_pair("message", text);
            self.client.get(url)
        } else {
            let body = request_body(&self.request, message, text)?;
            self.client
                .request(self.plan.method.clone(), url)
                .body(body)
        };
        let mut builder = builder
            .headers(self.plan.headers.clone())
            .header("x-session-id", message.session_id.to_string());
        if let Some(timeout) = self.plan.timeout {
            builder = builder.timeout(timeout);
        }
        Ok(builder)
    }

    /// Classifies a non-2xx reply: 429 is `RateLimited`, anything else `HttpStatus`.
    pub(super) fn status_error(
        &self,
        status: StatusCode,
        retry_after_ms: Option<u64>,
        body: &str,
    ) -> ConnectorError {
        let json = serde_json::from_str::<Value>(body).unwrap_or(Value::Null);
        let detail = self
            .error_detail(&json)
            .unwrap_or_else(|| truncate(body.trim(), MAX_DETAIL_CHARS));
        let message = if detail.is_empty() {
            format!("HTTP {}", status.as_u16())
        } else {
            format!("HTTP {}: {detail}", status.as_u16())
        };
        let kind = match status {
            StatusCode::TOO_MANY_REQUESTS => ErrorKind::RateLimited,
            _ => ErrorKind::HttpStatus,
        };
        ConnectorError {
            kind,
            message,
            status: Some(status.as_u16()),
            retry_after_ms,
            partial: None,
        }
    }

    /// The message at `errorPath`, when the template has one and the reply resolves it.
    fn error_detail(&self, json: &Value) -> Option<String> {
        let path = self.response.error_path.as_deref()?;
        let value = read_path(json, path)
            .ok()
            .flatten()
            .filter(|v| !v.is_null())?;
        Some(truncate(&render(value), MAX_DETAIL_CHARS))
    }

    /// Parses a 2xx reply and extracts the text at `responsePath`.
    fn parse_reply(
        &self,
        status: StatusCode,
        raw: String,
        sent: &str,
    ) -> Result<Reply, ConnectorError> {
        if raw.trim().is_empty() {
            return Err(protocol_error(status, "reply body is empty".to_string()));
        }
        let json: Value = serde_json::from_str(&raw)
            .map_err(|e| protocol_error(status, format!("reply body is not JSON: {e}")))?;
        let path = &self.response.response_path;
        let value = read_path(&json, path).map_err(|e| protocol_error(status, e.to_string()))?;
        let text = match value {
            Some(Value::Null) => {
                return Err(protocol_error(
                    status,
                    format!("responsePath `{path}` is null in the reply"),
                ));
            }
            Some(value) => render(value),
            None => {
                let mut message = format!("responsePath `{path}` not found in the reply");
                if let Some(detail) = self.error_detail(&json) {
                    message.push_str(&format!(" (error: {detail})"));
                }
                return Err(protocol_error(status, message));
            }
        };
        let tokens = usage_or_estimate(
            &json,
            self.response.token_usage_path.as_deref(),
            sent,
            &text,
        );
        Ok(Reply {
            text,
            raw,
            status: Some(status.as_u16()),
            tokens,
            json,
            stream: None,
        })
    }

    /// One health probe: `Ok` with the report when it answered 2xx.
    async fn probe(&self, url: &Url) -> Result<HealthReport, (HealthReport, bool)> {
        let started = Instant::now();
        let result = self
            .client
            .get(url.clone())
            .headers(self.plan.headers.clone())
            .timeout(HEALTH_TIMEOUT)
            .send()
            .await;
        let latency_ms = elapsed_ms(started);
        let path = url.path();
        match result {
            Ok(response) => {
                let status = response.status();
                let report = HealthReport {
                    healthy: status.is_success(),
                    latency_ms,
                    detail: format!("GET {path} answered {}", status.as_u16()),
                };
                if report.healthy {
                    Ok(report)
                } else {
                    Err((report, true))
                }
            }
            Err(err) => {
                let detail = format!("GET {path} failed: {}", describe(err));
                Err((
                    HealthReport {
                        healthy: false,
                        latency_ms,
                        detail,
                    },
                    false,
                ))
            }
        }
    }
}

#[async_trait::async_trait]
impl Connector for HttpConnector {
    async fn connect(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }

    async fn send(&mut self, message: &OutboundMessage) -> Result<Reply, ConnectorError> {
        let text = outgoing_text(message);
        let response = self
            .build_request(message, &text)?
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let retry_after_ms = parse_retry_after(response.headers());
        let body = read_body(response).await?;
        if !status.is_success() {
            return Err(self.status_error(status, retry_after_ms, &body));
        }
        self.parse_reply(status, body, &text)
    }

    async fn health(&mut self) -> HealthReport {
        let mut last = HealthReport {
            healthy: false,
            latency_ms: 0,
            detail: "no health probe configured".to_string(),
        };
        for url in &self.plan.health_urls {
            match self.probe(url).await {
                Ok(report) => return report,
                Err((report, reachable)) => {
                    last = report;
                    if !reachable {
                        break;
                    }
                }
            }
        }
        last
    }

    async fn disconnect(&mut self) {}
}

pub(super) fn protocol_error(status: StatusCode, message: String) -> ConnectorError {
    ConnectorError {
        status: Some(status.as_u16()),
        ..ConnectorError::new(ErrorKind::Protocol, message)
    }
}

fn render(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

pub(super) fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// `Retry-After` as milliseconds: delta-seconds (integer or decimal) or an HTTP date.
pub(super) fn parse_retry_after(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| (seconds * 1000.0).round() as u64);
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = date.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(u64::try_from(delta.num_milliseconds()).unwrap_or(0))
}

pub(super) async fn read_body(mut response: Response) -> Result<String, ConnectorError> {
    let status = response.status();
    let mut buffer = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(body_error)? {
        if buffer.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(protocol_error(
                status,
                format!("reply body exceeds {MAX_BODY_BYTES} bytes"),
            ));
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8(buffer)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// Send failures: timeouts, connection problems (DNS, refused, reset) and invalid requests.
pub(super) fn transport_error(err: reqwest::Error) -> ConnectorError {
    let kind = if err.is_timeout() {
        ErrorKind::Timeout
    } else if err.is_builder() || err.is_redirect() {
        ErrorKind::Protocol
    } else {
        ErrorKind::Connect
    };
    ConnectorError::new(kind, describe(err))
}

pub(super) fn body_error(err: reqwest::Error) -> ConnectorError {
    let kind = if err.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Protocol
    };
    ConnectorError::new(
        kind,
        format!("reading the reply body failed: {}", describe(err)),
    )
}

/// The error and its causes, without the URL (it may carry a query API key).
fn describe(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(parse_retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(parse_retry_after(&h), Some(3000));
        h.insert(RETRY_AFTER, HeaderValue::from_static("1.5"));
        assert_eq!(parse_retry_after(&h), Some(1500));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(parse_retry_after(&h), Some(0));
        let future = (chrono::Utc::now() + chrono::Duration::seconds(60)).to_rfc2822();
        h.insert(RETRY_AFTER, HeaderValue::from_str(&future).unwrap());
        let ms = parse_retry_after(&h).unwrap();
        assert!((55_000..=60_000).contains(&ms), "{ms}");
        h.insert(RETRY_AFTER, HeaderValue::from_static("-1"));
        assert_eq!(parse_retry_after(&h), None);
    }
}
