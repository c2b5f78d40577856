//! SSE connector: streamed replies (OpenAI/Anthropic `stream: true`, GET event streams).

mod assembly;
mod config;
mod connector;

pub use config::{DEFAULT_MESSAGE_PARAM, DEFAULT_STOP_EVENTS, SseConfig, SseMode, validate_config};
pub use connector::SseConnector;
