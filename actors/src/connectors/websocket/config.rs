//! `protocolConfig` of a WebSocket target: parsing with defaults and validation that names the
//! field (`protocolConfig.reconnect.maxAttempts`), resolved into [`WsSettings`].
//!
//! Unknown keys are ignored (as for HTTP targets); upstream's `timeout` and `noReconnect` are
//! accepted as aliases.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::Value;

use super::settings::{Correlation, Reconnect, SocketIo, Streaming, WsSettings};
use crate::connectors::paths::{validate_read_path, validate_write_path};
use crate::domain::target::{AuthType, TargetSpec};
use crate::domain::validation::{FieldError, Validator};

pub(super) const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 10_000;
pub(super) const DEFAULT_IDLE_GAP_MS: u64 = 500;
const DEFAULT_EVENT: &str = "message";
const DEFAULT_MAX_ATTEMPTS: u32 = 5;
const DEFAULT_INITIAL_DELAY_MS: u64 = 200;
const DEFAULT_MAX_DELAY_MS: u64 = 5_000;
const MAX_ATTEMPTS_LIMIT: u32 = 100;
/// Upper bound for every millisecond setting (one hour).
const MAX_MS: u64 = 3_600_000;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawConfig {
    connect_timeout_ms: Option<u64>,
    timeout_ms: Option<u64>,
    /// Upstream's name for `timeoutMs`.
    timeout: Option<u64>,
    subprotocol: Option<String>,
    #[serde(default)]
    auth_in_subprotocol: bool,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    persona: Option<String>,
    id_path: Option<String>,
    reply_id_path: Option<String>,
    reply_matcher: Option<RawMatcher>,
    streaming: Option<RawStreaming>,
    reconnect: Option<RawReconnect>,
    /// Upstream's switch: the same as `reconnect.maxAttempts: 0`.
    #[serde(default)]
    no_reconnect: bool,
    socket_io: Option<RawSocketIo>,
    protocol: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawMatcher {
    path: String,
    equals: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawStreaming {
    Flag(bool),
    Options(RawStreamOptions),
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStreamOptions {
    done_marker_path: Option<String>,
    done_value: Option<Value>,
    idle_gap_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawReconnect {
    max_attempts: Option<u32>,
    initial_delay_ms: Option<u64>,
    max_delay_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSocketIo {
    enabled: Option<bool>,
    event: Option<String>,
    namespace: Option<String>,
    reply_event: Option<String>,
}

/// Checks the endpoint, the template paths and `protocolConfig` of a WebSocket target; every
/// error names its field (`protocolConfig.idPath`, `endpoint`, …).
pub fn validate_config(spec: &TargetSpec) -> Vec<FieldError> {
    match settings(spec) {
        Ok(_) => Vec::new(),
        Err(errors) => errors,
    }
}

/// Resolves the settings, or every field error found.
pub(super) fn settings(spec: &TargetSpec) -> Result<WsSettings, Vec<FieldError>> {
    let mut v = Validator::default();
    check_endpoint(&mut v, &spec.endpoint);
    check_templates(&mut v, spec);
    let raw: RawConfig = match &spec.protocol_config {
        None | Some(Value::Null) => RawConfig::default(),
        Some(value) => match serde_path_to_error::deserialize(value) {
            Ok(raw) => raw,
            Err(e) => {
                let path = e.path().to_string();
                let field = match path.as_str() {
                    "." | "" => "protocolConfig".to_string(),
                    p => format!("protocolConfig.{p}"),
                };
                v.push(field, e.inner().to_string());
                return Err(into_errors(v));
            }
        },
    };
    let resolved = resolve(&mut v, spec, raw);
    match v.finish() {
        Ok(()) => Ok(resolved),
        Err(errors) => Err(errors),
    }
}

fn into_errors(v: Validator) -> Vec<FieldError> {
    v.finish().err().unwrap_or_default()
}

fn resolve(v: &mut Validator, spec: &TargetSpec, raw: RawConfig) -> WsSettings {
    let connect_ms = raw.connect_timeout_ms.unwrap_or(DEFAULT_CONNECT_TIMEOUT_MS);
    millis(v, "protocolConfig.connectTimeoutMs", connect_ms);
    let timeout_ms = raw.timeout_ms.or(raw.timeout);
    if let Some(ms) = timeout_ms {
        millis(v, "protocolConfig.timeoutMs", ms);
    }
    if let Some(sub) = &raw.subprotocol {
        check_token(v, "protocolConfig.subprotocol", sub);
    }
    if raw.auth_in_subprotocol && spec.auth_type != AuthType::BearerToken {
        v.push(
            "protocolConfig.authInSubprotocol",
            "requires authType BEARER_TOKEN",
        );
    }
    WsSettings {
        connect_timeout: Duration::from_millis(connect_ms),
        message_timeout: timeout_ms.map(Duration::from_millis),
        subprotocol: raw.subprotocol.map(|s| s.trim().to_string()),
        auth_in_subprotocol: raw.auth_in_subprotocol,
        headers: headers(v, &raw.headers, raw.persona.as_deref()),
        correlation: correlation(v, raw.id_path, raw.reply_id_path, raw.reply_matcher),
        streaming: streaming(v, raw.streaming),
        reconnect: reconnect(v, raw.reconnect, raw.no_reconnect),
        socket_io: socket_io(v, raw.socket_io, raw.protocol.as_deref()),
    }
}

fn check_endpoint(v: &mut Validator, endpoint: &str) {
    match Url::parse(endpoint.trim()) {
        Ok(url) if matches!(url.scheme(), "ws" | "wss") && url.host_str().is_some() => {}
        _ => v.push("endpoint", "must be a ws:// or wss:// URL"),
    }
}

fn check_templates(v: &mut Validator, spec: &TargetSpec) {
    let message_path = &spec.request_template.message_path;
    if !message_path.trim().is_empty()
        && let Err(e) = validate_write_path(message_path)
    {
        v.push("requestTemplate.messagePath", e.to_string());
    }
    let response = &spec.response_template;
    let reads = [
        (
            "responseTemplate.responsePath",
            Some(&response.response_path),
        ),
        (
            "responseTemplate.tokenUsagePath",
            response.token_usage_path.as_ref(),
        ),
        ("responseTemplate.errorPath", response.error_path.as_ref()),
    ];
    for (field, path) in reads {
        if let Some(path) = path.filter(|p| !p.trim().is_empty()) {
            read_path_ok(v, field, path);
        }
    }
}

fn read_path_ok(v: &mut Validator, field: &str, path: &str) {
    if let Err(e) = validate_read_path(path) {
        v.push(field, e.to_string());
    }
}

fn millis(v: &mut Validator, field: &str, ms: u64) {
    if ms == 0 || ms > MAX_MS {
        v.push(field, format!("must be between 1 and {MAX_MS}"));
    }
}

/// A subprotocol must be an HTTP token (RFC 7230 `tchar`s).
fn check_token(v: &mut Validator, field: &str, value: &str) {
    let value = value.trim();
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if value.is_empty() || !value.chars().all(tchar) {
        v.push(
            field,
            "must be a non-empty token (letters, digits, !#$%&'*+-.^_`|~)",
        );
    }
}

fn headers(
    v: &mut Validator,
    extra: &BTreeMap<String, String>,
    persona: Option<&str>,
) -> Vec<(HeaderName, HeaderValue)> {
    let persona = persona
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| ("x-persona", p, "protocolConfig.persona".to_string()));
    let extra = extra.iter().map(|(k, val)| {
        (
            k.as_str(),
            val.as_str(),
            format!("protocolConfig.headers.{k}"),
        )
    });
    let mut out = Vec::new();
    for (name, value, field) in extra.chain(persona) {
        let name = HeaderName::from_bytes(name.trim().as_bytes());
        let value = HeaderValue::from_str(value);
        match (name, value) {
            (Ok(name), Ok(value)) => out.push((name, value)),
            (Err(_), _) => v.push(field, "not a valid header name"),
            (_, Err(_)) => v.push(field, "contains characters not allowed in a header"),
        }
    }
    out
}

fn correlation(
    v: &mut Validator,
    id_path: Option<String>,
    reply_id_path: Option<String>,
    matcher: Option<RawMatcher>,
) -> Correlation {
    let id_path = id_path.filter(|p| !p.trim().is_empty());
    if let Some(write) = id_path {
        if let Err(e) = validate_write_path(&write) {
            v.push("protocolConfig.idPath", e.to_string());
        }
        let read = reply_id_path
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| write.clone());
        read_path_ok(v, "protocolConfig.replyIdPath", &read);
        return Correlation::Id { write, read };
    }
    if reply_id_path.is_some() {
        v.push(
            "protocolConfig.replyIdPath",
            "requires protocolConfig.idPath",
        );
    }
    match matcher {
        Some(m) if m.path.trim().is_empty() => {
            v.push("protocolConfig.replyMatcher.path", "must not be empty");
            Correlation::Next
        }
        Some(m) => {
            read_path_ok(v, "protocolConfig.replyMatcher.path", &m.path);
            Correlation::Matcher {
                path: m.path,
                equals: m.equals,
            }
        }
        None => Correlation::Next,
    }
}

fn streaming(v: &mut Validator, raw: Option<RawStreaming>) -> Option<Streaming> {
    let options = match raw? {
        RawStreaming::Flag(false) => return None,
        RawStreaming::Flag(true) => RawStreamOptions::default(),
        RawStreaming::Options(options) => options,
    };
    let idle_ms = options.idle_gap_ms.unwrap_or(DEFAULT_IDLE_GAP_MS);
    millis(v, "protocolConfig.streaming.idleGapMs", idle_ms);
    let done_path = options.done_marker_path.filter(|p| !p.trim().is_empty());
    if let Some(path) = &done_path {
        read_path_ok(v, "protocolConfig.streaming.doneMarkerPath", path);
    } else if options.done_value.is_some() {
        v.push(
            "protocolConfig.streaming.doneValue",
            "requires protocolConfig.streaming.doneMarkerPath",
        );
    }
    Some(Streaming {
        done_path,
        done_value: options.done_value,
        idle_gap: Duration::from_millis(idle_ms),
    })
}

fn reconnect(v: &mut Validator, raw: Option<RawReconnect>, disabled: bool) -> Reconnect {
    let raw = raw.unwrap_or_default();
    let max_attempts = raw.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
    if max_attempts > MAX_ATTEMPTS_LIMIT {
        v.push(
            "protocolConfig.reconnect.maxAttempts",
            format!("must be between 0 and {MAX_ATTEMPTS_LIMIT}"),
        );
    }
    let initial = raw.initial_delay_ms.unwrap_or(DEFAULT_INITIAL_DELAY_MS);
    let max = raw
        .max_delay_ms
        .unwrap_or(DEFAULT_MAX_DELAY_MS.max(initial));
    millis(v, "protocolConfig.reconnect.initialDelayMs", initial);
    millis(v, "protocolConfig.reconnect.maxDelayMs", max);
    if max < initial {
        v.push(
            "protocolConfig.reconnect.maxDelayMs",
            "must not be smaller than initialDelayMs",
        );
    }
    Reconnect {
        max_attempts: if disabled { 0 } else { max_attempts },
        initial: Duration::from_millis(initial),
        max: Duration::from_millis(max),
    }
}

fn socket_io(
    v: &mut Validator,
    raw: Option<RawSocketIo>,
    protocol: Option<&str>,
) -> Option<SocketIo> {
    let by_protocol = protocol.is_some_and(|p| {
        matches!(
            p.trim().to_ascii_lowercase().as_str(),
            "socket.io" | "socketio"
        )
    });
    if let Some(p) = protocol.filter(|_| !by_protocol) {
        let p = p.trim().to_ascii_lowercase();
        if !matches!(p.as_str(), "raw" | "websocket" | "") {
            v.push(
                "protocolConfig.protocol",
                "must be \"socket.io\" or \"raw\"",
            );
        }
    }
    let raw = match raw {
        Some(raw) if raw.enabled != Some(false) => raw,
        _ if by_protocol => RawSocketIo::default(),
        _ => return None,
    };
    let event = raw.event.unwrap_or_else(|| DEFAULT_EVENT.to_string());
    if event.trim().is_empty() {
        v.push("protocolConfig.socketIo.event", "must not be empty");
    }
    let namespace = raw
        .namespace
        .map(|n| n.trim().to_string())
        .unwrap_or_default();
    let namespace = if namespace.is_empty() {
        "/".to_string()
    } else {
        namespace
    };
    if !namespace.starts_with('/') || namespace.contains(',') {
        v.push(
            "protocolConfig.socketIo.namespace",
            "must start with / and contain no comma",
        );
    }
    Some(SocketIo {
        event,
        namespace,
        reply_event: raw.reply_event.filter(|e| !e.trim().is_empty()),
    })
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
