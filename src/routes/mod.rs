//! HTTP API routes (upstream-compatible JSON envelope) and their wiring.

mod batches;
mod configure;
mod envelope;
mod exports;
mod global_stream;
mod health;
mod presets;
mod pricing;
mod prometheus;
mod references;
mod report;
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
