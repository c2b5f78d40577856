//! The `Connector` trait every protocol client implements.

use super::types::{ConnectorError, HealthReport, OutboundMessage, Reply};

/// A client for one conversation with a target. Built per conversation (lane) by [`super::build_connector`];
/// WebSocket, SSE and gRPC connectors implement the same trait.
///
/// Timeouts and cancellation are applied by the caller by dropping the `send` future, so
/// implementations must be cancel-safe (dropping aborts the in-flight request).
#[async_trait::async_trait]
pub trait Connector: Send + Sync {
    /// Opens the connection (no-op for request/response protocols).
    async fn connect(&mut self) -> Result<(), ConnectorError>;
    /// Sends one message and waits for its reply.
    async fn send(&mut self, message: &OutboundMessage) -> Result<Reply, ConnectorError>;
    /// Probes the target without sending a chat message.
    async fn health(&mut self) -> HealthReport;
    /// Closes the connection; never fails.
    async fn disconnect(&mut self);
}
