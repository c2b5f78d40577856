//! Read side of Krawall: checkpointed projections that turn the event log into SQL read models,
//! the runner that keeps them live (and rebuilds them), and the queries the API reads through.

pub mod accounts;
pub mod batches;
mod bulk;
pub mod catalog;
pub mod comparisons;
pub mod messages;
mod messages_batch;
pub mod metrics;
mod metrics_bucket;
mod metrics_figures;
mod metrics_histogram;
pub mod pricing;
pub mod projection;
pub mod queries;
pub mod runner;
pub mod schedules;
pub mod sessions;
mod sessions_batch;
pub mod settings;
pub mod webhooks;

pub use projection::{Decoded, Projection, ProjectionError};
pub use runner::{ProjectionActor, ProjectionHandle, all_projections, catch_up, rebuild};
