//! Black-box tests of a whole node: HTTP API, actors, event store and projections, against the
//! in-process mock chatbot on port 0; each test gets a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod crud;
mod e2e;
mod helpers;
mod lifecycle;
mod mock_http;
mod sse;
mod pages;
mod presets;
mod stream;
