//! HTTP API routes (upstream-compatible JSON envelope) and their wiring.

mod accounts;
mod api_docs;
mod batches;
mod compare;
mod configure;
mod envelope;
mod exports;
mod global_stream;
mod health;
mod metrics;
mod presets;
mod pricing;
mod prometheus;
mod query;
mod redact;
mod references;
mod registry;
mod report;
mod scenario_templates;
mod scenario_yaml;
mod scenarios;
mod schedules;
mod sessions;
mod settings;
mod state;
mod stream;
mod target_test;
mod targets;
mod templates;
mod webhooks;
mod yaml_budget;

pub use accounts::AuditQuery;
pub use configure::{api_routes, configure};
pub use envelope::{ApiError, Deleted, Envelope, ErrorBody, JsonAny, JsonObject};
pub use registry::{API_PREFIX, ApiRoutes, RegisteredRoute};
pub use state::AppState;
