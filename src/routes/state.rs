//! Shared state of the HTTP handlers and the read-your-writes helper.

use std::time::Duration;

use actors::commands::Commands;
use actors::store::EventStore;
use projections::ProjectionHandle;
use sqlx::AnyPool;

use super::envelope::ApiError;

/// What every handler can reach; cheap to clone into each worker.
#[derive(Clone)]
pub struct AppState {
    pub commands: Commands,
    pub store: EventStore,
    pub read: AnyPool,
    pub projections: ProjectionHandle,
    pub metrics: std::sync::Arc<crate::prometheus::ExchangeMetrics>,
}

impl AppState {
    /// Waits until the read models include `position`, so a write is visible to the next read.
    pub async fn caught_up(&self, position: i64) -> Result<(), ApiError> {
        if self
            .projections
            .wait_for(position, Duration::from_secs(10))
            .await
        {
            Ok(())
        } else {
            Err(ApiError::Lagging)
        }
    }
}
