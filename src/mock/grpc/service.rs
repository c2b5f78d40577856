//! The mock's `krawall.mock.v1.ChatService`: personas, sessions, latency and error knobs over
//! gRPC, plus streaming faults driven by request metadata (`x-chunk-delay-ms`, `x-drop-after`).

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actors::connectors::usage::estimate_tokens;
use futures_util::Stream;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Request, Response, Status};

use super::pb::chat_service_server::ChatService;
use super::pb::{ChatChunk, ChatReply, ChatRequest, Usage};
use crate::mock::personas::Outcome;
use crate::mock::server::MockState;

/// Words per streamed chunk.
const WORDS_PER_CHUNK: usize = 3;
/// Longest accepted `x-chunk-delay-ms`.
const MAX_CHUNK_DELAY_MS: u64 = 10_000;

/// Metadata of the latest request, shared with [`super::GrpcMock::last_metadata`].
pub(super) type LastMetadata = Arc<Mutex<BTreeMap<String, String>>>;

/// The `ChatService` implementation over the shared mock state.
pub(super) struct MockChat {
    pub(super) state: Arc<MockState>,
    pub(super) last_metadata: LastMetadata,
}

type ChunkStream = Pin<Box<dyn Stream<Item = Result<ChatChunk, Status>> + Send>>;

#[tonic::async_trait]
impl ChatService for MockChat {
    async fn send_message(
        &self,
        request: Request<ChatRequest>,
    ) -> Result<Response<ChatReply>, Status> {
        let (content, usage) = self.answer(&request).await?;
        Ok(Response::new(ChatReply {
            content,
            usage: Some(usage),
        }))
    }

    type StreamMessageStream = ChunkStream;

    async fn stream_message(
        &self,
        request: Request<ChatRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let options = StreamOptions::from_metadata(request.metadata());
        let (content, usage) = self.answer(&request).await?;
        Ok(Response::new(chunk_stream(&content, usage, options)))
    }
}

impl MockChat {
    /// Records the metadata, applies the latency and error knobs, then lets the persona decide.
    async fn answer(&self, request: &Request<ChatRequest>) -> Result<(String, Usage), Status> {
        self.record(request.metadata());
        let body = request.get_ref();
        if body.message.trim().is_empty() {
            return Err(Status::invalid_argument("message is required"));
        }
        let metadata = |key: &str| request.metadata().get(key).and_then(|v| v.to_str().ok());
        let persona_name = Some(body.persona.as_str())
            .filter(|p| !p.is_empty())
            .or_else(|| metadata("x-persona"));
        let persona = self.state.persona_named(persona_name);
        let session_key = Some(body.session_id.as_str())
            .filter(|s| !s.is_empty())
            .or_else(|| metadata("x-session-id"));
        let session = self.state.session_for(session_key, &body.message);
        self.state.delay().await;
        if self.state.roll_error() {
            return Err(Status::internal("Simulated server error"));
        }
        let text = match self.state.respond(persona, &body.message, &session) {
            Outcome::Reply(text) => text,
            Outcome::Empty => String::new(),
            Outcome::RateLimited { retry_after_secs } => {
                return Err(rate_limited(retry_after_secs));
            }
            Outcome::ServerError => {
                return Err(Status::internal(
                    "The server had an error while processing your request",
                ));
            }
            Outcome::HangThenGatewayTimeout(wait) => {
                tokio::time::sleep(wait).await;
                return Err(Status::deadline_exceeded("Gateway timeout"));
            }
        };
        let usage = Usage {
            prompt_tokens: tokens(&body.message),
            completion_tokens: tokens(&text),
        };
        Ok((text, usage))
    }

    /// Keeps the request's ASCII metadata (raw values: this is a test double).
    fn record(&self, metadata: &MetadataMap) {
        let snapshot: BTreeMap<String, String> = metadata
            .clone()
            .into_headers()
            .iter()
            .map(|(k, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_string(), value)
            })
            .collect();
        *self
            .last_metadata
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = snapshot;
    }
}

fn rate_limited(retry_after_secs: u64) -> Status {
    let mut metadata = MetadataMap::new();
    metadata.insert("retry-after", MetadataValue::from(retry_after_secs));
    Status::with_metadata(
        Code::ResourceExhausted,
        format!("Rate limit exceeded. Please retry after {retry_after_secs} seconds."),
        metadata,
    )
}

fn tokens(text: &str) -> u32 {
    u32::try_from(estimate_tokens(text)).unwrap_or(u32::MAX)
}

/// Streaming knobs read from request metadata.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct StreamOptions {
    /// `x-chunk-delay-ms`: pause before every chunk after the first.
    pub(super) chunk_delay: Duration,
    /// `x-drop-after: N`: fail with `Aborted` after N content chunks.
    pub(super) drop_after: Option<usize>,
}

impl StreamOptions {
    pub(super) fn from_metadata(metadata: &MetadataMap) -> Self {
        let number = |key: &str| {
            metadata
                .get(key)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        Self {
            chunk_delay: Duration::from_millis(
                number("x-chunk-delay-ms")
                    .unwrap_or(0)
                    .min(MAX_CHUNK_DELAY_MS),
            ),
            drop_after: number("x-drop-after").and_then(|n| usize::try_from(n).ok()),
        }
    }
}

/// Splits `text` into chunks of a few words (spaces kept, so the chunks concatenate back).
pub(super) fn split_chunks(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    words
        .chunks(WORDS_PER_CHUNK)
        .map(|group| group.concat())
        .collect()
}

/// The content chunks, then a final `done` chunk with the usage; or an `Aborted` status after
/// `drop_after` chunks.
fn chunk_stream(text: &str, usage: Usage, options: StreamOptions) -> ChunkStream {
    let chunks = split_chunks(text);
    let state = (chunks.into_iter().enumerate(), Some(usage), false);
    Box::pin(futures_util::stream::unfold(
        state,
        move |(mut chunks, mut usage, stopped)| async move {
            if stopped {
                return None;
            }
            match chunks.next() {
                Some((index, _)) if options.drop_after == Some(index) => {
                    let status = Status::aborted(format!(
                        "stream dropped after {index} chunk(s) (x-drop-after)"
                    ));
                    Some((Err(status), (chunks, usage, true)))
                }
                Some((index, content)) => {
                    if index > 0 && !options.chunk_delay.is_zero() {
                        tokio::time::sleep(options.chunk_delay).await;
                    }
                    let chunk = ChatChunk {
                        content,
                        done: false,
                        usage: None,
                    };
                    Some((Ok(chunk), (chunks, usage, false)))
                }
                None => {
                    let last = ChatChunk {
                        content: String::new(),
                        done: true,
                        usage: Some(usage.take()?),
                    };
                    Some((Ok(last), (chunks, None, true)))
                }
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[test]
    fn chunks_concatenate_back_to_the_text() {
        let text = "one two three four five six seven";
        let chunks = split_chunks(text);
        assert_eq!(chunks, vec!["one two three ", "four five six ", "seven"]);
        assert_eq!(chunks.concat(), text);
        assert!(split_chunks("").is_empty());
    }

    #[test]
    fn options_come_from_metadata() {
        let mut metadata = MetadataMap::new();
        assert_eq!(
            StreamOptions::from_metadata(&metadata),
            StreamOptions::default()
        );
        metadata.insert("x-chunk-delay-ms", MetadataValue::from_static("25"));
        metadata.insert("x-drop-after", MetadataValue::from_static("2"));
        let options = StreamOptions::from_metadata(&metadata);
        assert_eq!(options.chunk_delay, Duration::from_millis(25));
        assert_eq!(options.drop_after, Some(2));
    }

    #[tokio::test]
    async fn streams_chunks_then_done_or_drops() {
        let usage = Usage {
            prompt_tokens: 1,
            completion_tokens: 2,
        };
        let text = "a b c d e f g";
        let all: Vec<_> = chunk_stream(text, usage, StreamOptions::default())
            .collect()
            .await;
        assert_eq!(all.len(), 4);
        let last = all[3].as_ref().unwrap();
        assert!(last.done && last.usage == Some(usage));
        let options = StreamOptions {
            drop_after: Some(1),
            ..StreamOptions::default()
        };
        let dropped: Vec<_> = chunk_stream(text, usage, options).collect().await;
        assert_eq!(dropped.len(), 2);
        assert_eq!(dropped[1].as_ref().unwrap_err().code(), Code::Aborted);
    }
}
