//! Which frames belong to the reply being awaited, and what they carry (content, done marker,
//! error). Pure: frames in, classifications out.

use serde_json::Value;

use super::settings::{Correlation, Streaming};
use crate::connectors::ConnectorError;
use crate::connectors::paths::read_path;
use crate::domain::events::ErrorKind;
use crate::domain::target::ResponseTemplate;

/// Longest error detail copied from a frame.
const MAX_DETAIL_CHARS: usize = 300;

/// What one frame means for the awaited reply.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum FrameClass {
    /// Not (part of) the reply: another request's, a typing indicator, an ack, non-content.
    Skip,
    /// Reply text (a whole reply, or one chunk when streaming); `done` ends a stream.
    Content { text: String, done: bool },
    /// The end-of-stream marker without text.
    Done,
    /// An error reply (`errorPath` resolved).
    Failure(ConnectorError),
}

/// The matching rules of one connector.
#[derive(Debug, Clone)]
pub(super) struct ReplyRules {
    pub correlation: Correlation,
    pub response_path: String,
    pub error_path: Option<String>,
    pub streaming: Option<Streaming>,
}

impl ReplyRules {
    pub fn new(
        correlation: Correlation,
        response: &ResponseTemplate,
        streaming: Option<Streaming>,
    ) -> Self {
        Self {
            correlation,
            response_path: response.response_path.clone(),
            error_path: response.error_path.clone(),
            streaming,
        }
    }

    /// Whether replies carry an id (so stale replies are recognisable).
    pub fn has_ids(&self) -> bool {
        matches!(self.correlation, Correlation::Id { .. })
    }

    /// Classifies `frame` for the request with id `id` (`None` without id correlation). In
    /// matcher mode the done marker counts even when the matcher does not match; with ids it
    /// must carry the id.
    pub fn classify(&self, frame: &Value, id: Option<&str>) -> FrameClass {
        let correlated = self.correlates(frame, id);
        let done = self.is_done(frame) && (correlated || !self.has_ids());
        if !correlated {
            return if done {
                FrameClass::Done
            } else {
                FrameClass::Skip
            };
        }
        if let Some(value) = lookup(frame, &self.response_path) {
            return FrameClass::Content {
                text: render(&value),
                done,
            };
        }
        if let Some(error) = self.error_path.as_deref().and_then(|p| lookup(frame, p)) {
            return FrameClass::Failure(failure(frame, &error));
        }
        if done {
            FrameClass::Done
        } else {
            FrameClass::Skip
        }
    }

    fn correlates(&self, frame: &Value, id: Option<&str>) -> bool {
        match &self.correlation {
            Correlation::Id { read, .. } => {
                id.is_some_and(|id| lookup(frame, read).is_some_and(|v| render(&v) == id))
            }
            Correlation::Matcher { path, equals } => lookup(frame, path)
                .is_some_and(|v| equals.as_ref().is_none_or(|wanted| *wanted == v)),
            Correlation::Next => true,
        }
    }

    fn is_done(&self, frame: &Value) -> bool {
        let Some(streaming) = &self.streaming else {
            return false;
        };
        let Some(path) = streaming.done_path.as_deref() else {
            return false;
        };
        match read_path(frame, path).ok().flatten() {
            None => false,
            Some(value) => streaming
                .done_value
                .as_ref()
                .is_none_or(|wanted| *wanted == value),
        }
    }
}

/// The non-null value at `path`.
fn lookup(frame: &Value, path: &str) -> Option<Value> {
    read_path(frame, path)
        .ok()
        .flatten()
        .filter(|v| !v.is_null())
}

pub(super) fn render(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An error frame as a `ConnectorError`: code 429 → `RateLimited`, 400–599 → `HttpStatus`,
/// otherwise `Protocol`. The code (`code`, `status`, `statusCode`) and `retryAfter` (seconds) are
/// read from the error value, the frame's `error` object, or the frame itself.
fn failure(frame: &Value, error: &Value) -> ConnectorError {
    let code = code_of(error)
        .or_else(|| frame.get("error").and_then(code_of))
        .or_else(|| code_of(frame));
    let detail = match error {
        Value::Object(map) => map
            .get("message")
            .filter(|m| !m.is_null())
            .map_or_else(|| error.to_string(), render),
        other => render(other),
    };
    let detail: String = detail.chars().take(MAX_DETAIL_CHARS).collect();
    let kind = match code {
        Some(429) => ErrorKind::RateLimited,
        Some(400..=599) => ErrorKind::HttpStatus,
        _ => ErrorKind::Protocol,
    };
    let retry_after_ms = ["retryAfter", "retry_after"]
        .iter()
        .find_map(|k| {
            error
                .get(*k)
                .or_else(|| frame.get("error").and_then(|e| e.get(*k)))
                .or_else(|| frame.get(*k))
        })
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| (s * 1000.0).round() as u64);
    ConnectorError {
        kind,
        message: format!("error frame: {detail}"),
        status: code
            .filter(|c| (100..=599).contains(c))
            .and_then(|c| u16::try_from(c).ok()),
        retry_after_ms,
        partial: None,
    }
}

fn code_of(value: &Value) -> Option<u64> {
    ["code", "status", "statusCode"]
        .iter()
        .filter_map(|k| value.get(*k))
        .find_map(|v| match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn rules(correlation: Correlation, streaming: Option<Streaming>) -> ReplyRules {
        let response = ResponseTemplate {
            response_path: "data.content".into(),
            token_usage_path: None,
            error_path: Some("error".into()),
        };
        ReplyRules::new(correlation, &response, streaming)
    }

    fn content(text: &str, done: bool) -> FrameClass {
        FrameClass::Content {
            text: text.into(),
            done,
        }
    }

    #[test]
    fn id_correlation_skips_typing_acks_and_other_ids() {
        let id = Correlation::Id {
            write: "id".into(),
            read: "meta.requestId".into(),
        };
        let r = rules(id, None);
        let reply = json!({"meta": {"requestId": "a"}, "data": {"content": "hi"}});
        assert_eq!(r.classify(&reply, Some("a")), content("hi", false));
        assert_eq!(r.classify(&reply, Some("b")), FrameClass::Skip);
        assert_eq!(r.classify(&reply, None), FrameClass::Skip);
        assert_eq!(
            r.classify(&json!({"type": "typing"}), Some("a")),
            FrameClass::Skip
        );
        let ack = json!({"type": "ack", "meta": {"requestId": "a"}});
        assert_eq!(r.classify(&ack, Some("a")), FrameClass::Skip);
        let numeric = json!({"meta": {"requestId": 7}, "data": {"content": 42}});
        assert_eq!(r.classify(&numeric, Some("7")), content("42", false));
    }

    #[test]
    fn next_mode_takes_frames_with_content_and_errors() {
        let r = rules(Correlation::Next, None);
        assert_eq!(
            r.classify(&json!({"type": "typing"}), None),
            FrameClass::Skip
        );
        assert_eq!(
            r.classify(&json!({"data": {"content": null}}), None),
            FrameClass::Skip
        );
        assert_eq!(
            r.classify(&json!({"data": {"content": ""}}), None),
            content("", false)
        );
        assert_eq!(r.classify(&json!([1, 2]), None), FrameClass::Skip);
        let err = json!({"type": "error", "error": {"message": "slow down", "code": 429, "retryAfter": 2}});
        let FrameClass::Failure(e) = r.classify(&err, None) else {
            panic!("expected a failure");
        };
        assert_eq!(
            (e.kind, e.status, e.retry_after_ms),
            (ErrorKind::RateLimited, Some(429), Some(2000))
        );
        assert_eq!(e.message, "error frame: slow down");
        let FrameClass::Failure(e) = r.classify(&json!({"error": "boom", "status": "500"}), None)
        else {
            panic!("expected a failure");
        };
        assert_eq!((e.kind, e.status), (ErrorKind::HttpStatus, Some(500)));
        let FrameClass::Failure(e) = r.classify(&json!({"error": {"x": 1}}), None) else {
            panic!("expected a failure");
        };
        assert_eq!((e.kind, e.status), (ErrorKind::Protocol, None));
    }

    #[test]
    fn matcher_requires_path_and_value() {
        let m = Correlation::Matcher {
            path: "type".into(),
            equals: Some(json!("message")),
        };
        let r = rules(m, None);
        let frame = json!({"type": "message", "data": {"content": "x"}});
        assert_eq!(r.classify(&frame, None), content("x", false));
        let other = json!({"type": "broadcast", "data": {"content": "x"}});
        assert_eq!(r.classify(&other, None), FrameClass::Skip);
        let any = rules(
            Correlation::Matcher {
                path: "reply".into(),
                equals: None,
            },
            None,
        );
        assert_eq!(
            any.classify(&json!({"reply": 1, "data": {"content": "y"}}), None),
            content("y", false)
        );
        assert_eq!(
            any.classify(&json!({"data": {"content": "y"}}), None),
            FrameClass::Skip
        );
    }

    #[test]
    fn done_markers() {
        let streaming = |path: Option<&str>, value: Option<Value>| Streaming {
            done_path: path.map(Into::into),
            done_value: value,
            idle_gap: Duration::from_millis(500),
        };
        let id = Correlation::Id {
            write: "id".into(),
            read: "id".into(),
        };
        let r = rules(id, Some(streaming(Some("type"), Some(json!("done")))));
        assert_eq!(
            r.classify(&json!({"id": "a", "type": "done"}), Some("a")),
            FrameClass::Done
        );
        assert_eq!(
            r.classify(&json!({"id": "b", "type": "done"}), Some("a")),
            FrameClass::Skip
        );
        let chunk = json!({"id": "a", "type": "chunk", "data": {"content": "p"}});
        assert_eq!(r.classify(&chunk, Some("a")), content("p", false));
        let last = json!({"id": "a", "type": "done", "data": {"content": "!"}});
        assert_eq!(r.classify(&last, Some("a")), content("!", true));
        let m = Correlation::Matcher {
            path: "type".into(),
            equals: Some(json!("chunk")),
        };
        let r = rules(m, Some(streaming(Some("finished"), None)));
        assert_eq!(
            r.classify(&json!({"finished": false}), None),
            FrameClass::Done
        );
        assert_eq!(r.classify(&json!({"other": 1}), None), FrameClass::Skip);
        let r = rules(Correlation::Next, Some(streaming(None, None)));
        assert_eq!(r.classify(&json!({"type": "done"}), None), FrameClass::Skip);
    }
}
