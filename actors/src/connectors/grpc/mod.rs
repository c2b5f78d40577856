//! gRPC connector: calls a chatbot's gRPC method described by a `.proto` compiled at run time.
//!
//! `protocolConfig` keys (upstream's names; the proto *text* replaces upstream's server path):
//! - `protoContent` (required): the `.proto` text, compiled in memory with protox as
//!   `target.proto`; it may import Google's well-known types only.
//! - `packageName` (default: the proto's `package`), `serviceName` (default `ChatService`,
//!   may be fully qualified), `methodName` (default `SendMessage`). Unary and server-streaming
//!   methods are supported; client-streaming and bidirectional ones are rejected.
//! - `useTls` (legacy spelling `useTLS`): default from the endpoint scheme (`https://` = on,
//!   `http://` or bare `host:port` = off; on when a `caCert` is given). `caCert`: PEM of a custom
//!   CA (then only it is trusted; otherwise the webpki roots). `tlsDomain`: SNI/verification name.
//! - `metadata`: object of extra metadata (string values; keys lowercased), sent after the auth
//!   metadata (last wins). Auth: BEARER_TOKEN → `authorization`, API_KEY → its header name
//!   (default `x-api-key`; `location: query` → metadata named `paramName`), BASIC_AUTH →
//!   `authorization`, CUSTOM_HEADER → its headers. Every call also carries `x-session-id`.
//! - `healthService`: service name for `grpc.health.v1.Health/Check` (default `""` = server).
//!
//! The endpoint is `host:port`, `http://host:port` or `https://host:port`. The request is
//! `requestTemplate.structure` with `{{message}}` replaced and the text written at `messagePath`,
//! read as JSON into the method's input message (proto or JSON field names). Replies are turned
//! into JSON with the **proto field names** (`prompt_tokens`) and default values included, then
//! read at `responseTemplate.responsePath`; usage via the usual normalisation. Server streams
//! concatenate the text of every message and record TTFT and inter-chunk timing.

mod client;
mod codec;
mod config;
mod proto;
mod reply;
mod status;

pub use client::GrpcConnector;
pub use codec::{DynamicCodec, DynamicDecoder, DynamicEncoder};
pub use config::validate_config;
pub use proto::{
    CompileError, LookupError, PROTO_FILE_NAME, compile, default_package, find_method,
};
