//! Assembles a `Reply` from the frames of one exchange, with stream timing for chunked replies.

use std::time::Instant;

use serde_json::Value;

use super::link::Frame;
use crate::connectors::Reply;
use crate::connectors::usage::usage_or_estimate;
use crate::domain::events::StreamMetrics;

/// The frames of one reply, as they arrive.
#[derive(Debug)]
pub(super) struct Accumulator {
    started: Instant,
    text: String,
    raws: Vec<String>,
    chunk_times: Vec<Instant>,
    ended_at: Option<Instant>,
    last_json: Value,
}

impl Accumulator {
    /// `started`: when the request frame was handed to the socket.
    pub fn new(started: Instant) -> Self {
        Self {
            started,
            text: String::new(),
            raws: Vec::new(),
            chunk_times: Vec::new(),
            ended_at: None,
            last_json: Value::Null,
        }
    }

    /// Adds one content frame (a whole reply, or a chunk).
    pub fn push(&mut self, text: &str, frame: &Frame) {
        self.text.push_str(text);
        self.chunk_times.push(frame.at);
        self.note(frame);
    }

    /// Records a frame without content that ends the reply (a done marker).
    pub fn finish_with(&mut self, frame: &Frame) {
        self.ended_at = Some(frame.at);
        self.note(frame);
    }

    fn note(&mut self, frame: &Frame) {
        self.raws.push(frame.raw.clone());
        self.last_json = frame.json.clone();
    }

    pub fn last_chunk_at(&self) -> Option<Instant> {
        self.chunk_times.last().copied()
    }

    /// The text received so far, when there is any.
    pub fn partial(&self) -> Option<String> {
        (!self.chunk_times.is_empty()).then(|| self.text.clone())
    }

    /// The reply; `streamed` adds `StreamMetrics`. Tokens come from the last frame's usage
    /// (or are estimated).
    pub fn into_reply(self, sent_text: &str, usage_path: Option<&str>, streamed: bool) -> Reply {
        let tokens = usage_or_estimate(&self.last_json, usage_path, sent_text, &self.text);
        let stream = streamed.then(|| self.metrics());
        Reply {
            raw: self.raws.join("\n"),
            text: self.text,
            status: None,
            tokens,
            json: self.last_json,
            stream,
        }
    }

    fn metrics(&self) -> StreamMetrics {
        let first = self.chunk_times.first().copied().or(self.ended_at);
        let ttft_ms = first.map_or(0, |at| millis(at.saturating_duration_since(self.started)));
        let gaps: Vec<u64> = self
            .chunk_times
            .windows(2)
            .map(|w| millis(w[1].saturating_duration_since(w[0])))
            .collect();
        let mean = if gaps.is_empty() {
            0.0
        } else {
            gaps.iter().sum::<u64>() as f64 / gaps.len() as f64
        };
        StreamMetrics {
            ttft_ms,
            chunks: self.chunk_times.len() as u64,
            inter_chunk_mean_ms: mean,
            inter_chunk_max_ms: gaps.iter().copied().max().unwrap_or(0),
        }
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn frame(at: Instant, json: Value) -> Frame {
        Frame {
            raw: json.to_string(),
            json,
            at,
        }
    }

    #[test]
    fn joins_chunks_and_measures_gaps() {
        let t0 = Instant::now();
        let mut acc = Accumulator::new(t0);
        assert_eq!(acc.partial(), None);
        let ms = Duration::from_millis;
        acc.push("Hel", &frame(t0 + ms(40), json!({"c": "Hel"})));
        acc.push("lo", &frame(t0 + ms(50), json!({"c": "lo"})));
        acc.push("!", &frame(t0 + ms(80), json!({"c": "!"})));
        assert_eq!(acc.partial().as_deref(), Some("Hello!"));
        let done = json!({"type": "done", "usage": {"prompt_tokens": 3, "completion_tokens": 2}});
        acc.finish_with(&frame(t0 + ms(90), done));
        let reply = acc.into_reply("hey", None, true);
        assert_eq!(reply.text, "Hello!");
        assert_eq!(
            (
                reply.tokens.input,
                reply.tokens.output,
                reply.tokens.estimated
            ),
            (3, 2, false)
        );
        let s = reply.stream.unwrap();
        assert_eq!((s.ttft_ms, s.chunks, s.inter_chunk_max_ms), (40, 3, 30));
        assert!((s.inter_chunk_mean_ms - 20.0).abs() < f64::EPSILON);
        assert_eq!(reply.raw.lines().count(), 4);
    }

    #[test]
    fn single_frame_reply_estimates_tokens() {
        let t0 = Instant::now();
        let mut acc = Accumulator::new(t0);
        acc.push(
            "abcdefgh",
            &frame(t0, json!({"data": {"content": "abcdefgh"}})),
        );
        let reply = acc.into_reply("1234", None, false);
        assert_eq!(reply.stream, None);
        assert_eq!(
            (
                reply.tokens.input,
                reply.tokens.output,
                reply.tokens.estimated
            ),
            (1, 2, true)
        );
        assert_eq!(reply.json, json!({"data": {"content": "abcdefgh"}}));
    }
}
