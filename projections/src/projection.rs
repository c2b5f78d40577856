//! The `Projection` trait: apply one event to read-model tables inside the runner's transaction.

use actors::domain::events::DomainEvent;
use actors::store::{RecordedEvent, StoreError};
use sqlx::AnyConnection;

/// A projection failed; the transaction (read-model change + checkpoint) is rolled back.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("event {position} could not be decoded")]
    Decode {
        position: i64,
        #[source]
        source: serde_json::Error,
    },
    #[error("json encoding failed")]
    Json(#[from] serde_json::Error),
}

/// One read model. `apply` must be idempotent per event (upserts), and it is only called for
/// events after the projection's checkpoint, in position order.
#[async_trait::async_trait]
pub trait Projection: Send + Sync {
    /// Checkpoint name.
    fn name(&self) -> &'static str;
    /// Tables this projection (alone) writes; emptied on rebuild.
    fn tables(&self) -> &'static [&'static str];
    /// Applies one event.
    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError>;
}
