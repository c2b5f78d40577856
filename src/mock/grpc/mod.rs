//! gRPC endpoint of the mock chatbot: `krawall.mock.v1.ChatService` (`proto/krawall_mock.proto`)
//! with unary and server-streaming chat, personas, faults and `grpc.health.v1`, plain or TLS.

mod pb;
mod server;
mod service;

pub use server::{GrpcMock, GrpcMockOptions, GrpcMockTls, start_grpc_mock, start_grpc_mock_with};
