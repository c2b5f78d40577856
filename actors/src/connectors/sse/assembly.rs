//! Pure assembly of a streamed reply from server-sent events: content at `responsePath`, end of
//! stream, error events, token usage merged across events, and chunk timing.

use serde_json::{Value, json};

use crate::connectors::paths::read_path;
use crate::connectors::usage::{estimate_tokens, normalise_usage};
use crate::domain::events::{StreamMetrics, TokenCounts};

/// Longest error detail taken from an error event.
const MAX_DETAIL_CHARS: usize = 300;

/// What the assembler reads from each event; derived once from the target.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub response_path: String,
    pub token_usage_path: Option<String>,
    pub error_path: Option<String>,
    /// Event names (or JSON `type` values) that end the stream.
    pub stop_events: Vec<String>,
}

/// What to do after an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Continue,
    /// `[DONE]` or a stop event: the reply is complete.
    End,
    /// The provider sent an error event; the message describes it.
    Failed(String),
}

/// A complete streamed reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Assembled {
    pub text: String,
    pub tokens: TokenCounts,
    /// The last event's JSON, or `{"text": …}` when no event was JSON.
    pub json: Value,
    pub metrics: StreamMetrics,
}

/// Timing of the content chunks, in milliseconds since the request was sent.
#[derive(Debug, Default, Clone, Copy)]
struct ChunkClock {
    first_ms: Option<u64>,
    last_ms: Option<u64>,
    chunks: u64,
    gap_sum_ms: u64,
    gap_max_ms: u64,
}

impl ChunkClock {
    fn tick(&mut self, at_ms: u64) {
        if let Some(last) = self.last_ms {
            let gap = at_ms.saturating_sub(last);
            self.gap_sum_ms = self.gap_sum_ms.saturating_add(gap);
            self.gap_max_ms = self.gap_max_ms.max(gap);
        }
        self.first_ms.get_or_insert(at_ms);
        self.last_ms = Some(at_ms);
        self.chunks += 1;
    }

    fn metrics(&self, fallback_ttft_ms: u64) -> StreamMetrics {
        let gaps = self.chunks.saturating_sub(1);
        StreamMetrics {
            ttft_ms: self.first_ms.unwrap_or(fallback_ttft_ms),
            chunks: self.chunks,
            inter_chunk_mean_ms: match gaps {
                0 => 0.0,
                n => self.gap_sum_ms as f64 / n as f64,
            },
            inter_chunk_max_ms: self.gap_max_ms,
        }
    }
}

/// Folds the events of one stream into a reply.
#[derive(Debug)]
pub struct Assembler<'a> {
    rules: &'a Rules,
    text: String,
    events: u64,
    resolved: u64,
    malformed: u64,
    first_resolved_ms: Option<u64>,
    clock: ChunkClock,
    usage: Option<TokenCounts>,
    last_json: Option<Value>,
    ended: bool,
}

impl<'a> Assembler<'a> {
    pub fn new(rules: &'a Rules) -> Self {
        Self {
            rules,
            text: String::new(),
            events: 0,
            resolved: 0,
            malformed: 0,
            first_resolved_ms: None,
            clock: ChunkClock::default(),
            usage: None,
            last_json: None,
            ended: false,
        }
    }

    /// The text received so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether `[DONE]` or a stop event arrived.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Takes one event (`event` = its name, `message` when unnamed) received `at_ms` after send.
    pub fn push(&mut self, event: &str, data: &str, at_ms: u64) -> Step {
        self.events += 1;
        let data = data.trim();
        let stop = self.rules.stop_events.iter().any(|s| s == event);
        if data == "[DONE]" {
            return self.end();
        }
        let Ok(json) = serde_json::from_str::<Value>(data) else {
            if event == "error" {
                return Step::Failed(truncate(data));
            }
            self.malformed += 1;
            return if stop { self.end() } else { Step::Continue };
        };
        match self.content(&json) {
            Some(piece) => {
                self.resolved += 1;
                self.first_resolved_ms.get_or_insert(at_ms);
                if !piece.is_empty() {
                    self.clock.tick(at_ms);
                    self.text.push_str(&piece);
                }
            }
            None => {
                if let Some(detail) = self.error_detail(event, &json) {
                    return Step::Failed(detail);
                }
            }
        }
        self.merge_usage(&json);
        let typed_stop = json
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| self.rules.stop_events.iter().any(|s| s == t));
        self.last_json = Some(json);
        if stop || typed_stop {
            self.end()
        } else {
            Step::Continue
        }
    }

    /// The reply, or why the stream carried none (no event resolved `responsePath`).
    pub fn finish(self, sent: &str, end_ms: u64) -> Result<Assembled, String> {
        let path = &self.rules.response_path;
        if self.resolved == 0 {
            return Err(match (self.events, self.malformed) {
                (0, _) => "the event stream carried no events".to_string(),
                (n, 0) => format!("responsePath `{path}` did not resolve in any of the {n} events"),
                (n, bad) => format!(
                    "responsePath `{path}` did not resolve in any event ({bad} of {n} events were not JSON)"
                ),
            });
        }
        let tokens = self.usage.unwrap_or_else(|| TokenCounts {
            input: estimate_tokens(sent),
            output: estimate_tokens(&self.text),
            estimated: true,
        });
        let fallback_ttft = self.first_resolved_ms.unwrap_or(end_ms);
        Ok(Assembled {
            metrics: self.clock.metrics(fallback_ttft),
            json: self.last_json.unwrap_or_else(|| json!({"text": self.text})),
            text: self.text,
            tokens,
        })
    }

    fn end(&mut self) -> Step {
        self.ended = true;
        Step::End
    }

    /// The text at `responsePath`, `None` when it does not resolve (or is null).
    fn content(&self, json: &Value) -> Option<String> {
        match read_path(json, &self.rules.response_path).ok().flatten()? {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        }
    }

    /// An error event: named `error`, or JSON with a non-null `errorPath` / top-level `error`.
    fn error_detail(&self, event: &str, json: &Value) -> Option<String> {
        let configured = self
            .rules
            .error_path
            .as_deref()
            .and_then(|p| read_path(json, p).ok().flatten())
            .filter(|v| !v.is_null());
        let generic = || {
            let error = json.get("error").filter(|v| !v.is_null())?;
            Some(
                error
                    .get("message")
                    .cloned()
                    .unwrap_or_else(|| error.clone()),
            )
        };
        let detail = configured.or_else(generic).or_else(|| {
            let named =
                event == "error" || json.get("type").and_then(Value::as_str) == Some("error");
            named.then(|| json.clone())
        })?;
        Some(truncate(&match detail {
            Value::String(s) => s,
            other => other.to_string(),
        }))
    }

    /// Merges this event's usage (configured path, else `usage`/`usageMetadata`, else
    /// Anthropic's `message.usage`), keeping the larger input and output counts.
    fn merge_usage(&mut self, json: &Value) {
        let path = self.rules.token_usage_path.as_deref();
        let found = normalise_usage(json, path)
            .or_else(|| path.and_then(|_| normalise_usage(json, None)))
            .or_else(|| json.get("message").and_then(|m| normalise_usage(m, None)));
        if let Some(found) = found {
            let merged = self.usage.get_or_insert(found);
            merged.input = merged.input.max(found.input);
            merged.output = merged.output.max(found.output);
        }
    }
}

/// The first bytes of the raw event stream, for `Reply.raw`.
#[derive(Debug)]
pub struct RawCapture {
    bytes: Vec<u8>,
    limit: usize,
    truncated: bool,
}

impl RawCapture {
    pub fn new(limit: usize) -> Self {
        Self {
            bytes: Vec::new(),
            limit,
            truncated: false,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        let room = self.limit.saturating_sub(self.bytes.len());
        if chunk.len() > room {
            self.truncated = true;
        }
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
    }

    /// The captured text (lossy UTF-8), marked when it was cut.
    pub fn into_text(self) -> String {
        let mut text = String::from_utf8_lossy(&self.bytes).into_owned();
        if self.truncated {
            text.push_str("\n…[truncated]");
        }
        text
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_DETAIL_CHARS).collect()
}

#[cfg(test)]
#[path = "assembly_tests.rs"]
mod tests;
