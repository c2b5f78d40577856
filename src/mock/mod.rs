//! In-process mock chatbot (HTTP) for tests and demos: OpenAI-shaped and simple chat routes,
//! personas with per-session behaviour, and latency/error/CPU knobs.

mod cpu;
mod grpc;
mod personas;
mod routes;
mod server;
mod sessions;
mod sse;
mod ws;

pub use grpc::{GrpcMock, GrpcMockOptions, GrpcMockTls, start_grpc_mock, start_grpc_mock_with};
pub use personas::{Outcome, Persona};
pub use server::{MockServer, MockSettings, start_mock};
pub use sessions::{MAX_SESSIONS, SessionView};
