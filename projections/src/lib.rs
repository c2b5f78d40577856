//! Read side of Krawall: checkpointed projections that turn the event log into SQL read models,
//! the runner that keeps them live (and rebuilds them), and the queries the API reads through.

pub mod batches;
pub mod catalog;
pub mod messages;
pub mod pricing;
pub mod projection;
pub mod queries;
pub mod runner;
pub mod schedules;
pub mod sessions;
pub mod webhooks;

pub use projection::{Projection, ProjectionError};
pub use runner::{ProjectionActor, ProjectionHandle, all_projections, catch_up, rebuild};
