//! Write side of Krawall: domain events and aggregates, the event store, connectors and the
//! session/dispatcher actors. Nothing here depends on the read side or on HTTP serving.

pub mod codec;
pub mod commands;
pub mod connectors;
pub mod credentials;
pub mod domain;
pub mod runtime;
pub mod schedules;
pub mod secrets;
pub mod store;
pub mod webhooks;
