//! Outbound connectors to chatbot targets: the `Connector` trait, its value types and the registry.

pub mod auth;
pub mod http;
mod http_config;
mod path_syntax;
pub mod paths;
pub mod registry;
mod types;
pub mod usage;

pub use http::HttpConnector;
pub use registry::build_connector;
pub use types::{ConnectorError, HealthReport, OutboundMessage, Reply, TargetConnection};

/// A client for one conversation with a target. Built per conversation (lane) by [`build`];
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
