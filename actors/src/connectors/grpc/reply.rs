//! gRPC replies: messages → JSON (proto field names), the text at `responsePath`, token usage,
//! and the concatenated text plus timing of server-streamed replies.

use std::time::Instant;

use prost_reflect::{DynamicMessage, SerializeOptions};
use serde_json::Value;

use crate::connectors::paths::{read_path, write_path};
use crate::connectors::usage::{normalise_usage, usage_or_estimate};
use crate::connectors::{ConnectorError, Reply};
use crate::domain::events::{ErrorKind, StreamMetrics, TokenCounts};
use crate::domain::target::ResponseTemplate;

/// `Reply.status` of a successful call: gRPC code `OK`.
const OK_STATUS: u16 = 0;

/// The message as JSON with the proto field names (`prompt_tokens`, not `promptTokens`), every
/// scalar field present (defaults included; unset message fields are left out), 64-bit integers
/// as numbers and enums by name.
pub(super) fn to_json(message: &DynamicMessage) -> Result<Value, ConnectorError> {
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false)
        .stringify_64_bit_integers(false);
    message
        .serialize_with_options(serde_json::value::Serializer, &options)
        .map_err(|e| protocol(format!("reply could not be converted to JSON: {e}")))
}

/// A unary reply: the text at `responsePath` (required) and the usage (or an estimate).
pub(super) fn unary_reply(
    message: &DynamicMessage,
    response: &ResponseTemplate,
    sent: &str,
) -> Result<Reply, ConnectorError> {
    let json = to_json(message)?;
    let path = &response.response_path;
    let text = match read_path(&json, path).map_err(|e| protocol(e.to_string()))? {
        Some(Value::Null) => {
            return Err(protocol(format!(
                "responsePath `{path}` is null in the reply"
            )));
        }
        Some(value) => render(value),
        None => {
            return Err(protocol(format!(
                "responsePath `{path}` not found in the reply"
            )));
        }
    };
    let tokens = usage_or_estimate(&json, response.token_usage_path.as_deref(), sent, &text);
    Ok(Reply {
        raw: json.to_string(),
        text,
        status: Some(OK_STATUS),
        tokens,
        json,
        stream: None,
    })
}

/// Accumulates a server stream: each message's text at `responsePath` (missing or `null` counts
/// as no content), the latest usage seen, and the timing of the content chunks.
pub(super) struct StreamCollector<'a> {
    response: &'a ResponseTemplate,
    started: Instant,
    text: String,
    raw: Vec<String>,
    last_json: Value,
    usage: Option<TokenCounts>,
    first_chunk: Option<Instant>,
    last_chunk: Option<Instant>,
    chunks: u64,
    gap_total_ms: f64,
    gap_max_ms: u64,
}

impl<'a> StreamCollector<'a> {
    /// `started` is when the request was sent (the TTFT origin).
    pub(super) fn new(response: &'a ResponseTemplate, started: Instant) -> Self {
        Self {
            response,
            started,
            text: String::new(),
            raw: Vec::new(),
            last_json: Value::Null,
            usage: None,
            first_chunk: None,
            last_chunk: None,
            chunks: 0,
            gap_total_ms: 0.0,
            gap_max_ms: 0,
        }
    }

    pub(super) fn push(&mut self, message: &DynamicMessage) -> Result<(), ConnectorError> {
        let now = Instant::now();
        let json = to_json(message)?;
        let path = &self.response.response_path;
        let piece = match read_path(&json, path).map_err(|e| protocol(e.to_string()))? {
            None | Some(Value::Null) => String::new(),
            Some(value) => render(value),
        };
        if let Some(usage) = normalise_usage(&json, self.response.token_usage_path.as_deref()) {
            self.usage = Some(usage);
        }
        if !piece.is_empty() {
            if let Some(previous) = self.last_chunk {
                let gap = ms(now.duration_since(previous));
                self.gap_total_ms += gap as f64;
                self.gap_max_ms = self.gap_max_ms.max(gap);
            }
            self.first_chunk.get_or_insert(now);
            self.last_chunk = Some(now);
            self.chunks += 1;
            self.text.push_str(&piece);
        }
        self.raw.push(json.to_string());
        self.last_json = json;
        Ok(())
    }

    pub(super) fn chunks(&self) -> u64 {
        self.chunks
    }

    /// The text received so far.
    pub(super) fn partial(&self) -> String {
        self.text.clone()
    }

    /// The reply: the concatenated text, `raw` = one JSON message per line, `json` = the last
    /// message with the full text written at `responsePath` (when it is a simple path).
    pub(super) fn finish(self, sent: &str) -> Result<Reply, ConnectorError> {
        if self.raw.is_empty() {
            return Err(protocol("the stream ended without any message"));
        }
        let mut json = self.last_json;
        let _ = write_path(
            &mut json,
            &self.response.response_path,
            Value::String(self.text.clone()),
        );
        let tokens = self
            .usage
            .unwrap_or_else(|| usage_or_estimate(&Value::Null, None, sent, &self.text));
        let ttft_ms = self
            .first_chunk
            .map_or(0, |t| ms(t.duration_since(self.started)));
        let gaps = self.chunks.saturating_sub(1);
        let stream = StreamMetrics {
            ttft_ms,
            chunks: self.chunks,
            inter_chunk_mean_ms: if gaps == 0 {
                0.0
            } else {
                self.gap_total_ms / gaps as f64
            },
            inter_chunk_max_ms: self.gap_max_ms,
        };
        Ok(Reply {
            text: self.text,
            raw: self.raw.join("\n"),
            status: Some(OK_STATUS),
            tokens,
            json,
            stream: Some(stream),
        })
    }
}

fn render(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn ms(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn protocol(message: impl Into<String>) -> ConnectorError {
    ConnectorError::new(ErrorKind::Protocol, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::grpc::proto::compile;
    use serde_json::json;

    const PROTO: &str = r#"syntax = "proto3";
message Rep { string content = 1; Usage usage = 2; bool done = 3; int64 big = 4; }
message Usage { uint32 prompt_tokens = 1; uint32 completion_tokens = 2; }
"#;

    fn message(value: Value) -> DynamicMessage {
        let pool = compile(PROTO).unwrap();
        DynamicMessage::deserialize(pool.get_message_by_name("Rep").unwrap(), value).unwrap()
    }

    fn template(path: &str) -> ResponseTemplate {
        ResponseTemplate {
            response_path: path.into(),
            token_usage_path: None,
            error_path: None,
        }
    }

    #[test]
    fn json_keeps_proto_names_and_defaults() {
        let json = to_json(&message(json!({"content": "hi", "big": 5}))).unwrap();
        assert_eq!(json, json!({"content": "hi", "done": false, "big": 5}));
        let json = to_json(&message(json!({"usage": {"promptTokens": 3}}))).unwrap();
        assert_eq!(
            json["usage"],
            json!({"prompt_tokens": 3, "completion_tokens": 0})
        );
    }

    #[test]
    fn unary_reads_text_and_usage() {
        let m = message(
            json!({"content": "hello", "usage": {"prompt_tokens": 2, "completion_tokens": 7}}),
        );
        let reply = unary_reply(&m, &template("content"), "hi").unwrap();
        assert_eq!(reply.text, "hello");
        assert_eq!(
            reply.tokens,
            TokenCounts {
                input: 2,
                output: 7,
                estimated: false
            }
        );
        let err = unary_reply(&m, &template("answer"), "hi").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol);
        assert!(
            err.message.contains("`answer` not found"),
            "{}",
            err.message
        );
        let err = unary_reply(&m, &template("usage.missing"), "hi").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol);
    }

    #[test]
    fn stream_concatenates_and_times_chunks() {
        let response = template("content");
        let mut collector = StreamCollector::new(&response, Instant::now());
        collector.push(&message(json!({"content": "Hel"}))).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        collector.push(&message(json!({"content": "lo"}))).unwrap();
        assert_eq!(collector.partial(), "Hello");
        let last = json!({"done": true, "usage": {"prompt_tokens": 1, "completion_tokens": 2}});
        collector.push(&message(last)).unwrap();
        let reply = collector.finish("hi").unwrap();
        assert_eq!(reply.text, "Hello");
        assert_eq!(reply.json["content"], "Hello");
        assert_eq!(reply.raw.lines().count(), 3);
        assert!(!reply.tokens.estimated);
        let stream = reply.stream.unwrap();
        assert_eq!(stream.chunks, 2);
        assert!(stream.inter_chunk_max_ms >= 5, "{stream:?}");
        let empty = StreamCollector::new(&response, Instant::now());
        assert_eq!(empty.finish("hi").unwrap_err().kind, ErrorKind::Protocol);
    }
}
