//! SSE streaming endpoints of the mock chatbot: OpenAI `stream: true` chunks, the Anthropic
//! Messages API (`POST /v1/messages`, plain or streamed) and a GET event stream
//! (`GET /sse/stream?message=…`).
//!
//! Knobs per request: `?chunk_delay_ms=` or `X-Chunk-Delay-Ms` (pause between content chunks,
//! default 0) and `?drop_after=` or `X-Drop-After` (abort the connection after N content
//! chunks). The latency knob, the error rate and the persona's errors apply before the stream
//! starts, as plain JSON error responses.

use std::collections::HashMap;
use std::io;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use actors::connectors::usage::estimate_tokens;
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::routes::{answer, content_text, error_response};
use super::server::MockState;

type State = web::Data<MockState>;

/// Words per content chunk.
const WORDS_PER_CHUNK: usize = 3;
/// Pause before a mid-stream drop, so the chunks before it reach the client first.
const MIN_DROP_DELAY: Duration = Duration::from_millis(50);

/// Registers the streaming routes (the OpenAI stream is a branch of `/v1/chat/completions`).
pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/messages", web::post().to(messages))
        .route("/sse/stream", web::get().to(get_stream));
}

/// Streaming knobs of one request.
#[derive(Debug, Clone, Copy, Default)]
struct Knobs {
    chunk_delay: Duration,
    drop_after: Option<usize>,
}

impl Knobs {
    fn from_request(req: &HttpRequest) -> Self {
        let query = query_map(req);
        let knob = |param: &str, header: &str| -> Option<u64> {
            query
                .get(param)
                .map(String::as_str)
                .or_else(|| req.headers().get(header).and_then(|v| v.to_str().ok()))
                .and_then(|v| v.trim().parse().ok())
        };
        Self {
            chunk_delay: Duration::from_millis(
                knob("chunk_delay_ms", "x-chunk-delay-ms").unwrap_or(0),
            ),
            drop_after: knob("drop_after", "x-drop-after").and_then(|n| usize::try_from(n).ok()),
        }
    }
}

struct Frame {
    delay: Duration,
    item: Result<Bytes, io::Error>,
}

/// The frames of one event stream, with the knobs applied to the content chunks.
struct Frames {
    knobs: Knobs,
    frames: Vec<Frame>,
    content_sent: usize,
    dropped: bool,
}

impl Frames {
    fn new(req: &HttpRequest) -> Self {
        Self {
            knobs: Knobs::from_request(req),
            frames: Vec::new(),
            content_sent: 0,
            dropped: false,
        }
    }

    /// An event without content: sent at once.
    fn event(&mut self, name: Option<&str>, data: &str) {
        if !self.dropped {
            let item = Ok(encode(name, data));
            self.frames.push(Frame {
                delay: Duration::ZERO,
                item,
            });
        }
    }

    /// A content chunk: after the chunk delay (except the first), or the drop.
    fn content(&mut self, name: Option<&str>, data: &str) {
        if self.dropped {
            return;
        }
        let delay = match self.content_sent {
            0 => Duration::ZERO,
            _ => self.knobs.chunk_delay,
        };
        if self.knobs.drop_after == Some(self.content_sent) {
            self.dropped = true;
            let error =
                io::Error::new(io::ErrorKind::ConnectionAborted, "mock: dropped mid-stream");
            self.frames.push(Frame {
                delay: delay.max(MIN_DROP_DELAY),
                item: Err(error),
            });
            return;
        }
        self.content_sent += 1;
        let item = Ok(encode(name, data));
        self.frames.push(Frame { delay, item });
    }

    fn into_response(self) -> HttpResponse {
        let stream = futures_util::stream::iter(self.frames).then(|frame| async move {
            if !frame.delay.is_zero() {
                tokio::time::sleep(frame.delay).await;
            }
            frame.item
        });
        HttpResponse::Ok()
            .content_type("text/event-stream")
            .insert_header(("Cache-Control", "no-cache"))
            .streaming(stream)
    }
}

fn encode(name: Option<&str>, data: &str) -> Bytes {
    let frame = match name {
        Some(name) => format!("event: {name}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    };
    Bytes::from(frame)
}

/// `text` in groups of a few words; joined they give `text` back. One empty group for "".
fn word_groups(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_inclusive(char::is_whitespace).collect();
    let groups: Vec<String> = words.chunks(WORDS_PER_CHUNK).map(|g| g.concat()).collect();
    if groups.is_empty() {
        vec![String::new()]
    } else {
        groups
    }
}

fn query_map(req: &HttpRequest) -> HashMap<String, String> {
    web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default()
}

/// OpenAI `stream: true`: a role chunk, content chunks, a `finish_reason` chunk, a usage chunk
/// when `stream_options.include_usage` is true, then `[DONE]`.
pub(super) fn openai_stream(
    req: &HttpRequest,
    request: &Value,
    text: &str,
    prompt_tokens: u64,
) -> HttpResponse {
    let now = chrono::Utc::now();
    let head = json!({
        "id": format!("chatcmpl-{}{:04}", now.timestamp_millis(), fastrand::u16(..10_000)),
        "object": "chat.completion.chunk",
        "created": now.timestamp(),
        "model": request.get("model").and_then(Value::as_str).unwrap_or("mock-gpt-4"),
    });
    let chunk = |choices: Value, usage: Option<Value>| {
        let mut chunk = head.clone();
        chunk["choices"] = choices;
        if let Some(usage) = usage {
            chunk["usage"] = usage;
        }
        chunk.to_string()
    };
    let choice = |delta: Value, finish: Value| json!([{"index": 0, "delta": delta, "finish_reason": finish}]);
    let mut frames = Frames::new(req);
    frames.event(
        None,
        &chunk(choice(json!({"role": "assistant"}), Value::Null), None),
    );
    for piece in word_groups(text) {
        frames.content(
            None,
            &chunk(choice(json!({"content": piece}), Value::Null), None),
        );
    }
    frames.event(None, &chunk(choice(json!({}), json!("stop")), None));
    let include_usage = request
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if include_usage {
        let completion_tokens = estimate_tokens(text);
        let usage = json!({
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        });
        frames.event(None, &chunk(json!([]), Some(usage)));
    }
    frames.event(None, "[DONE]");
    frames.into_response()
}

/// Anthropic Messages API: `{model, messages, system?, stream?}`; a JSON message, or with
/// `stream: true` the Anthropic event sequence.
async fn messages(req: HttpRequest, body: web::Bytes, state: State) -> HttpResponse {
    state.record_request(&req);
    let request = match parse_messages_request(&body) {
        Ok(request) => request,
        Err(message) => {
            let kind = "invalid_request_error";
            return error_response(HttpResponse::BadRequest(), message, kind);
        }
    };
    let contents: Vec<String> = request["messages"]
        .as_array()
        .map(|m| m.iter().map(content_text).collect())
        .unwrap_or_default();
    let last = contents.last().cloned().unwrap_or_default();
    let persona = state.persona(&req, request.get("persona").and_then(Value::as_str));
    let session = state.session(&req, &last);
    let text = match answer(&state, persona, &last, &session).await {
        Ok(text) => text,
        Err(response) => return response,
    };
    let system = content_text(&json!({"content": request.get("system").cloned()}));
    let input_tokens: u64 =
        contents.iter().map(|c| estimate_tokens(c)).sum::<u64>() + estimate_tokens(&system);
    let usage = (input_tokens, estimate_tokens(&text));
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("mock-claude")
        .to_string();
    let id = format!("msg_mock{:08}", fastrand::u32(..100_000_000));
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        return anthropic_stream(&req, &id, &model, &text, usage);
    }
    HttpResponse::Ok().json(json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": usage.0, "output_tokens": usage.1},
    }))
}

/// The body as JSON with a non-empty `messages` array, else why not (answered with a 400).
fn parse_messages_request(body: &[u8]) -> Result<Value, &'static str> {
    let request: Value =
        serde_json::from_slice(body).map_err(|_| "request body is not valid JSON")?;
    match request.get("messages").and_then(Value::as_array) {
        Some(messages) if !messages.is_empty() => Ok(request),
        _ => Err("messages must be a non-empty array"),
    }
}

/// `message_start`, `content_block_start`, `ping`, `content_block_delta`…, `content_block_stop`,
/// `message_delta` (output tokens), `message_stop`.
fn anthropic_stream(
    req: &HttpRequest,
    id: &str,
    model: &str,
    text: &str,
    (input_tokens, output_tokens): (u64, u64),
) -> HttpResponse {
    let mut frames = Frames::new(req);
    let mut event = |name: &str, data: Value| frames.event(Some(name), &data.to_string());
    event(
        "message_start",
        json!({"type": "message_start", "message": {
            "id": id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1}
        }}),
    );
    event(
        "content_block_start",
        json!({"type": "content_block_start", "index": 0,
        "content_block": {"type": "text", "text": ""}}),
    );
    event("ping", json!({"type": "ping"}));
    for piece in word_groups(text) {
        let delta = json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": piece}});
        frames.content(Some("content_block_delta"), &delta.to_string());
    }
    let mut event = |name: &str, data: Value| frames.event(Some(name), &data.to_string());
    event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    );
    event(
        "message_delta",
        json!({"type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": null},
        "usage": {"output_tokens": output_tokens}}),
    );
    event("message_stop", json!({"type": "message_stop"}));
    frames.into_response()
}

/// `GET /sse/stream?message=…&persona=…`: `data: {"content": …}` events, then `[DONE]`.
async fn get_stream(req: HttpRequest, state: State) -> HttpResponse {
    state.record_request(&req);
    let query = query_map(&req);
    let Some(message) = query.get("message").filter(|m| !m.trim().is_empty()) else {
        return error_response(
            HttpResponse::BadRequest(),
            "message is required",
            "invalid_request_error",
        );
    };
    let persona = state.persona(&req, query.get("persona").map(String::as_str));
    let session = state.session(&req, message);
    let text = match answer(&state, persona, message, &session).await {
        Ok(text) => text,
        Err(response) => return response,
    };
    let mut frames = Frames::new(&req);
    for piece in word_groups(&text) {
        frames.content(None, &json!({"content": piece}).to_string());
    }
    frames.event(None, "[DONE]");
    frames.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_groups_rejoin_exactly() {
        let text = "one two  three\nfour five six seven";
        let groups = word_groups(text);
        assert_eq!(groups.concat(), text);
        assert!(groups.len() > 1);
        assert_eq!(word_groups(""), vec![String::new()]);
        assert_eq!(word_groups("solo"), vec!["solo".to_string()]);
    }

    #[test]
    fn frames_delay_and_drop_content_only() {
        let mut frames = Frames {
            knobs: Knobs {
                chunk_delay: Duration::from_millis(5),
                drop_after: Some(2),
            },
            frames: Vec::new(),
            content_sent: 0,
            dropped: false,
        };
        frames.event(None, "{}");
        for _ in 0..4 {
            frames.content(None, "{}");
        }
        frames.event(None, "[DONE]");
        let delays: Vec<u128> = frames.frames.iter().map(|f| f.delay.as_millis()).collect();
        assert_eq!(delays, vec![0, 0, 5, 50]);
        assert!(frames.frames[3].item.is_err());
        assert_eq!(
            encode(Some("ping"), "{}"),
            Bytes::from("event: ping\ndata: {}\n\n")
        );
    }
}
