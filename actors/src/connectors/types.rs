//! Value types shared by every connector.

use serde_json::Value;

use crate::domain::conversation::Context;
use crate::domain::events::{ErrorKind, StreamMetrics, TokenCounts};
use crate::domain::target::TargetSpec;

/// A target plus its decrypted auth config: what a connector is built from. Never logged.
#[derive(Clone)]
pub struct TargetConnection {
    pub spec: TargetSpec,
    /// Plaintext auth config (shape depends on `spec.auth_type`).
    pub auth_config: Value,
}

impl std::fmt::Debug for TargetConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetConnection")
            .field("spec", &self.spec)
            .field("auth_config", &"<redacted>")
            .finish()
    }
}

/// One message to send.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    pub text: String,
    pub session_id: uuid::Uuid,
    pub message_index: u32,
    /// Deliberate fault to inject into this request (`malformed_json`, `empty_body`, `oversized`).
    pub inject: Option<String>,
    /// The conversation to carry (system prompt and earlier turns), when the scenario's history
    /// policy sends any and the target places it (`requestTemplate.historyPath`).
    pub context: Option<Context>,
}

/// A reply read from the target.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Text extracted at `responseTemplate.responsePath`.
    pub text: String,
    /// The raw reply body (for test-connection and debugging).
    pub raw: String,
    pub status: Option<u16>,
    pub tokens: TokenCounts,
    /// Values of the reply JSON, for JSONPath extraction and conditions (`Null` if not JSON).
    pub json: Value,
    /// Timing of a streamed reply (`None` for a single-shot reply).
    pub stream: Option<StreamMetrics>,
}

/// Result of a health probe.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    pub healthy: bool,
    pub latency_ms: u64,
    pub detail: String,
}

/// A classified failure of one exchange.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct ConnectorError {
    pub kind: ErrorKind,
    pub message: String,
    pub status: Option<u16>,
    /// From a `Retry-After` header, when the target sent one.
    pub retry_after_ms: Option<u64>,
    /// Text received before a streamed reply broke off.
    pub partial: Option<String>,
}

impl ConnectorError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            status: None,
            retry_after_ms: None,
            partial: None,
        }
    }
}
