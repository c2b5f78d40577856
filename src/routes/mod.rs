//! HTTP API routes (upstream-compatible JSON envelope) and their wiring.

mod batches;
mod compare;
mod configure;
mod envelope;
mod global_stream;
mod health;
mod metrics;
mod presets;
mod pricing;
mod prometheus;
mod references;
mod scenario_templates;
mod scenario_yaml;
mod scenarios;
mod schedules;
mod sessions;
mod state;
mod stream;
mod target_test;
mod targets;
mod templates;
mod webhooks;

pub use configure::configure;
pub use envelope::ApiError;
pub use state::AppState;
