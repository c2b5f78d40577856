//! HTTP connector configuration: `protocolConfig` parsing, URLs, headers and request bodies.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::Value;

use super::auth::AuthPlacement;
use super::paths::{validate_read_path, validate_write_path};
use super::{ConnectorError, OutboundMessage, TargetConnection};
use crate::domain::events::ErrorKind;
use crate::domain::target::{RequestTemplate, ResponseTemplate};

/// Size of the message sent by the `oversized` fault injection.
pub(super) const OVERSIZED_BYTES: usize = 1024 * 1024;
const MESSAGE_PLACEHOLDER: &str = "{{message}}";

/// `protocolConfig` of an HTTP target.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpProtocolConfig {
    method: Option<String>,
    path: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, Value>,
    health_check_path: Option<String>,
    persona: Option<String>,
    timeout_ms: Option<u64>,
}

/// Everything an HTTP connector needs besides the templates, derived once from the target.
#[derive(Clone)]
pub(super) struct HttpPlan {
    /// Endpoint plus `path` plus auth query parameters.
    pub url: Url,
    pub method: Method,
    /// Content type, auth, extra headers and persona, in that order of precedence (last wins).
    pub headers: HeaderMap,
    /// Health probes to try in order.
    pub health_urls: Vec<Url>,
    pub timeout: Option<Duration>,
}

/// Validates the target and derives the plan; errors are `Protocol` and name the field.
pub(super) fn plan(conn: &TargetConnection) -> Result<HttpPlan, ConnectorError> {
    let spec = &conn.spec;
    let config: HttpProtocolConfig = match &spec.protocol_config {
        None | Some(Value::Null) => HttpProtocolConfig::default(),
        Some(value) => HttpProtocolConfig::deserialize(value)
            .map_err(|e| config_error(format!("protocolConfig: {e}")))?,
    };
    let auth = AuthPlacement::build(spec.auth_type, &conn.auth_config)
        .map_err(|e| config_error(e.to_string()))?;
    validate_templates(&spec.request_template, &spec.response_template)?;
    let url = endpoint_url(&spec.endpoint, config.path.as_deref(), &auth.query)?;
    let method = match config.method.as_deref().map(str::trim) {
        None | Some("") => Method::POST,
        Some(m) => Method::from_bytes(m.to_ascii_uppercase().as_bytes())
            .map_err(|_| config_error("protocolConfig.method: not a valid HTTP method"))?,
    };
    Ok(HttpPlan {
        health_urls: health_urls(&url, config.health_check_path.as_deref(), &auth.query)?,
        headers: build_headers(&auth, &config)?,
        url,
        method,
        timeout: config.timeout_ms.map(Duration::from_millis),
    })
}

pub(super) fn config_error(message: impl Into<String>) -> ConnectorError {
    ConnectorError::new(ErrorKind::Protocol, message)
}

fn validate_templates(
    request: &RequestTemplate,
    response: &ResponseTemplate,
) -> Result<(), ConnectorError> {
    validate_write_path(&request.message_path)
        .map_err(|e| config_error(format!("requestTemplate.messagePath: {e}")))?;
    validate_read_path(&response.response_path)
        .map_err(|e| config_error(format!("responseTemplate.responsePath: {e}")))?;
    let optional = [
        ("tokenUsagePath", &response.token_usage_path),
        ("errorPath", &response.error_path),
    ];
    for (field, path) in optional {
        if let Some(path) = path {
            validate_read_path(path)
                .map_err(|e| config_error(format!("responseTemplate.{field}: {e}")))?;
        }
    }
    Ok(())
}

/// The endpoint with `path` appended (one slash between) and the auth query parameters.
fn endpoint_url(
    endpoint: &str,
    path: Option<&str>,
    query: &[(String, String)],
) -> Result<Url, ConnectorError> {
    let endpoint = endpoint.trim();
    let joined = match path.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => format!(
            "{}/{}",
            endpoint.trim_end_matches('/'),
            p.trim_start_matches('/')
        ),
        None => endpoint.to_string(),
    };
    let mut url = Url::parse(&joined)
        .map_err(|e| config_error(format!("endpoint: not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(config_error("endpoint: must be an http or https URL"));
    }
    append_query(&mut url, query);
    Ok(url)
}

fn append_query(url: &mut Url, query: &[(String, String)]) {
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (name, value) in query {
            pairs.append_pair(name, value);
        }
    }
}

/// `healthCheckPath` (absolute, or relative to the origin), else the origin's `/health` then `/`.
fn health_urls(
    endpoint: &Url,
    check_path: Option<&str>,
    query: &[(String, String)],
) -> Result<Vec<Url>, ConnectorError> {
    let origin = Url::parse(&endpoint.origin().ascii_serialization())
        .map_err(|e| config_error(format!("endpoint: no usable origin ({e})")))?;
    let join = |path: &str| {
        Url::parse(path)
            .or_else(|_| origin.join(path))
            .map_err(|e| {
                config_error(format!(
                    "protocolConfig.healthCheckPath: not a valid path ({e})"
                ))
            })
    };
    let mut urls = match check_path.map(str::trim).filter(|p| !p.is_empty()) {
        Some(path) => {
            let url = join(path)?;
            if url.origin() != endpoint.origin() {
                return Err(config_error(
                    "protocolConfig.healthCheckPath: must stay on the endpoint's origin \
                     (a path, or a URL with the same scheme, host and port)",
                ));
            }
            vec![url]
        }
        None => vec![join("/health")?, origin.clone()],
    };
    for url in &mut urls {
        append_query(url, query);
    }
    Ok(urls)
}

fn build_headers(
    auth: &AuthPlacement,
    config: &HttpProtocolConfig,
) -> Result<HeaderMap, ConnectorError> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(ACCEPT, HeaderValue::from_static("application/json, */*"));
    for (name, value) in &auth.headers {
        headers.insert(name.clone(), value.clone());
    }
    for (name, value) in &config.headers {
        let field = format!("protocolConfig.headers.{name}");
        let value = value
            .as_str()
            .ok_or_else(|| config_error(format!("{field}: must be a string")))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| config_error(format!("{field}: not a valid header name")))?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            config_error(format!(
                "{field}: contains characters not allowed in a header"
            ))
        })?;
        headers.insert(name, value);
    }
    if let Some(persona) = config
        .persona
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let value = HeaderValue::from_str(persona).map_err(|_| {
            config_error("protocolConfig.persona: contains characters not allowed in a header")
        })?;
        headers.insert(HeaderName::from_static("x-persona"), value);
    }
    Ok(headers)
}

/// The text to send: the message, or padded to 1 MiB for the `oversized` fault injection.
pub(super) fn outgoing_text(message: &OutboundMessage) -> Cow<'_, str> {
    match message.inject.as_deref() {
        Some("oversized") => Cow::Owned(pad_to(&message.text, OVERSIZED_BYTES)),
        _ => Cow::Borrowed(&message.text),
    }
}

/// The request body for `text`: the structure with `{{message}}` filled in and the message
/// written at `messagePath`, or the `malformed_json` / `empty_body` fault injection.
pub(super) fn request_body(
    request: &RequestTemplate,
    message: &OutboundMessage,
    text: &str,
) -> Result<String, ConnectorError> {
    match message.inject.as_deref() {
        Some("malformed_json") => return Ok(malformed_body(text)),
        Some("empty_body") => return Ok(String::new()),
        _ => {}
    }
    let body = super::history::request_value(request, message, text)?;
    Ok(body.to_string())
}

/// Replaces `{{message}}` inside every string leaf (keys are left alone).
pub(super) fn substitute_placeholder(value: &mut Value, text: &str) {
    match value {
        Value::String(s) if s.contains(MESSAGE_PLACEHOLDER) => {
            *s = s.replace(MESSAGE_PLACEHOLDER, text)
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| substitute_placeholder(v, text)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| substitute_placeholder(v, text)),
        _ => {}
    }
}

/// A deliberately truncated JSON body: `{"message": "<text>"` without the closing brace.
pub(super) fn malformed_body(text: &str) -> String {
    format!("{{\"message\": {}", Value::String(text.to_string()))
}

/// `text` followed by filler so that it is at least `bytes` long.
pub(super) fn pad_to(text: &str, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes.max(text.len()));
    out.push_str(text);
    let filler = " lorem ipsum dolor sit amet";
    while out.len() + filler.len() <= bytes {
        out.push_str(filler);
    }
    while out.len() < bytes {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_join_path_and_query() {
        let q = vec![("api_key".to_string(), "k 1".to_string())];
        let url = endpoint_url("http://h:1/v1/", Some("/chat"), &q).unwrap();
        assert_eq!(url.as_str(), "http://h:1/v1/chat?api_key=k+1");
        let url = endpoint_url("http://h:1/v1/chat/completions", None, &[]).unwrap();
        assert_eq!(url.as_str(), "http://h:1/v1/chat/completions");
        assert!(endpoint_url("ftp://h/x", None, &[]).is_err());
        assert!(endpoint_url("not a url", None, &[]).is_err());
        let health = health_urls(&url, None, &[]).unwrap();
        let health: Vec<&str> = health.iter().map(Url::as_str).collect();
        assert_eq!(health, vec!["http://h:1/health", "http://h:1/"]);
        let health = health_urls(&url, Some("status"), &[]).unwrap();
        assert_eq!(health[0].as_str(), "http://h:1/status");
        assert!(health_urls(&url, Some("http://h:1/up"), &[]).is_ok());
        for elsewhere in [
            "http://evil:1/health",
            "https://h:1/health",
            "http://h:2/health",
        ] {
            let err = health_urls(&url, Some(elsewhere), &[]).unwrap_err();
            assert!(err.to_string().contains("healthCheckPath"), "{err}");
        }
    }

    #[test]
    fn placeholder_and_padding() {
        let mut v = json!({"a": ["say {{message}}!", {"b": "{{message}}"}], "n": 1});
        substitute_placeholder(&mut v, "\"hi\"");
        assert_eq!(v, json!({"a": ["say \"hi\"!", {"b": "\"hi\""}], "n": 1}));
        assert_eq!(pad_to("abc", 1024 * 1024).len(), 1024 * 1024);
        assert!(serde_json::from_str::<Value>(&malformed_body("x\"y")).is_err());
    }
}
