//! SSE connector configuration: the stream-specific `protocolConfig` keys and their validation.
//!
//! Keys (all optional, besides the HTTP connector's `method`, `path`, `headers`,
//! `healthCheckPath`, `persona`, `timeoutMs`):
//! - `mode`: `"post"` (send the templated JSON body, read the event stream of the reply — OpenAI
//!   and Anthropic `stream: true`) or `"get"` (GET the endpoint with the message as a query
//!   parameter). Default `"post"`, or `"get"` when `method` is `GET`.
//! - `messageParam`: the query parameter carrying the message in `get` mode (default `message`).
//! - `stopEvents`: event names (or JSON `type` values) that end the stream (default
//!   `["message_stop", "done", "complete"]`); a `[DONE]` data line always ends it.
//! - `requireDone`: when true, a stream that closes before `[DONE]` or a stop event is a
//!   `Protocol` error (default false).

use serde_json::Value;

use crate::domain::target::TargetSpec;
use crate::domain::validation::FieldError;

/// Stop events used when `protocolConfig.stopEvents` is absent.
pub const DEFAULT_STOP_EVENTS: [&str; 3] = ["message_stop", "done", "complete"];
/// Query parameter used when `protocolConfig.messageParam` is absent.
pub const DEFAULT_MESSAGE_PARAM: &str = "message";

/// How the connector opens the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SseMode {
    /// Send the body (POST by default) and read the reply as an event stream.
    Post,
    /// GET the endpoint with the message as a query parameter.
    Get,
}

impl SseMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "post",
            Self::Get => "get",
        }
    }
}

/// The stream-specific part of an SSE target's `protocolConfig`.
#[derive(Debug, Clone, PartialEq)]
pub struct SseConfig {
    pub mode: SseMode,
    pub message_param: String,
    pub stop_events: Vec<String>,
    pub require_done: bool,
}

impl Default for SseConfig {
    fn default() -> Self {
        Self {
            mode: SseMode::Post,
            message_param: DEFAULT_MESSAGE_PARAM.to_string(),
            stop_events: DEFAULT_STOP_EVENTS.iter().map(|e| e.to_string()).collect(),
            require_done: false,
        }
    }
}

/// Checks the SSE keys of `spec.protocolConfig`; each error names the field.
pub fn validate_config(spec: &TargetSpec) -> Vec<FieldError> {
    match SseConfig::parse(spec.protocol_config.as_ref()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors,
    }
}

impl SseConfig {
    /// Reads the SSE keys of a `protocolConfig` (`None`/`null` = all defaults).
    pub fn parse(config: Option<&Value>) -> Result<Self, Vec<FieldError>> {
        let mut out = Self::default();
        let map = match config {
            None | Some(Value::Null) => return Ok(out),
            Some(Value::Object(map)) => map,
            Some(_) => return Err(vec![error("protocolConfig", "must be an object")]),
        };
        let mut errors = Vec::new();
        let get_method = map
            .get("method")
            .and_then(Value::as_str)
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("get"));
        out.mode = match map.get("mode") {
            None | Some(Value::Null) if get_method => SseMode::Get,
            None | Some(Value::Null) => SseMode::Post,
            Some(Value::String(m)) if m.trim().eq_ignore_ascii_case("post") => SseMode::Post,
            Some(Value::String(m)) if m.trim().eq_ignore_ascii_case("get") => SseMode::Get,
            Some(_) => {
                errors.push(error("protocolConfig.mode", "must be \"post\" or \"get\""));
                SseMode::Post
            }
        };
        match map.get("messageParam") {
            None | Some(Value::Null) => {}
            Some(Value::String(p)) if !p.trim().is_empty() => out.message_param = p.trim().into(),
            Some(_) => errors.push(error(
                "protocolConfig.messageParam",
                "must be a non-empty string",
            )),
        }
        match map.get("stopEvents").map(stop_events) {
            None => {}
            Some(Ok(events)) => out.stop_events = events,
            Some(Err(e)) => errors.push(e),
        }
        match map.get("requireDone") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => out.require_done = *b,
            Some(_) => errors.push(error("protocolConfig.requireDone", "must be a boolean")),
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

fn stop_events(value: &Value) -> Result<Vec<String>, FieldError> {
    let invalid = || error("protocolConfig.stopEvents", "must be an array of strings");
    match value {
        Value::Null => Ok(DEFAULT_STOP_EVENTS.iter().map(|e| e.to_string()).collect()),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(|s| s.trim().to_string()).ok_or_else(invalid))
            .collect(),
        _ => Err(invalid()),
    }
}

fn error(field: &str, rule: &str) -> FieldError {
    FieldError {
        field: field.to_string(),
        rule: rule.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(SseConfig::parse(None).unwrap(), SseConfig::default());
        let c = SseConfig::parse(Some(&json!({"method": "get"}))).unwrap();
        assert_eq!(c.mode, SseMode::Get);
        let c = SseConfig::parse(Some(&json!({
            "mode": "GET", "messageParam": "q", "stopEvents": ["end"], "requireDone": true
        })))
        .unwrap();
        assert_eq!(c.mode, SseMode::Get);
        assert_eq!(c.message_param, "q");
        assert_eq!(c.stop_events, vec!["end".to_string()]);
        assert!(c.require_done);
    }

    #[test]
    fn errors_name_the_field() {
        let errors = SseConfig::parse(Some(&json!({
            "mode": "put", "messageParam": " ", "stopEvents": [1], "requireDone": "yes"
        })))
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "protocolConfig.mode",
                "protocolConfig.messageParam",
                "protocolConfig.stopEvents",
                "protocolConfig.requireDone"
            ]
        );
        let errors = SseConfig::parse(Some(&json!([1]))).unwrap_err();
        assert_eq!(errors[0].field, "protocolConfig");
    }
}
