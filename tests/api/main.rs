//! Black-box tests of a whole node: HTTP API, actors, event store and projections, against the
//! in-process mock chatbot on port 0; each test gets a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod batches;
mod conversation;
mod crud;
mod dashboard_catalog;
mod dashboard_sessions;
mod e2e;
mod exports;
mod grpc;
mod health;
mod helpers;
mod lifecycle;
mod load;
mod mock_http;
mod pages;
mod presets;
mod prometheus;
mod protocols;
mod recording_bot;
mod report;
mod schedules;
mod session_report;
mod sse;
mod stream;
mod webhook_events;
mod webhook_receiver;
mod webhook_recovery;
mod webhooks;
mod workers;
mod ws;
