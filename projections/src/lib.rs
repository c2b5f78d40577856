//! Read side of Krawall: checkpointed projections that turn the event log into SQL read models,
//! the runner that keeps them live (and rebuilds them), and the queries the API reads through.

mod bulk;
pub mod catalog;
pub mod messages;
mod messages_batch;
pub mod projection;
pub mod queries;
pub mod runner;
pub mod sessions;
mod sessions_batch;

pub use projection::{Decoded, Projection, ProjectionError};
pub use runner::{ProjectionActor, ProjectionHandle, all_projections, catch_up, rebuild};
