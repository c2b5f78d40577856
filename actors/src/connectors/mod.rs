//! Outbound connectors to chatbot targets: the `Connector` trait, its value types and the registry.

pub mod auth;
pub mod client;
mod connector;
pub mod dial;
pub mod egress;
pub mod grpc;
pub mod history;
pub mod http;
mod http_config;
mod path_syntax;
pub mod paths;
pub mod registry;
pub mod sse;
mod types;
pub mod usage;
pub mod websocket;

pub use client::{Outbound, outbound_client};
pub use connector::Connector;
pub use grpc::GrpcConnector;
pub use http::HttpConnector;
pub use registry::{build_connector, validate_protocol_config};
pub use sse::SseConnector;
pub use types::{ConnectorError, HealthReport, OutboundMessage, Reply, TargetConnection};
pub use websocket::WebSocketConnector;
