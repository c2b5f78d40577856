//! Batches read model (`batches`): one row per `BatchCreated` with the batch's targets in
//! request order; counts and status come from the batch's session rows at query time.

use actors::domain::events::DomainEvent;
use actors::store::RecordedEvent;
use sqlx::AnyConnection;

use crate::projection::{Projection, ProjectionError};

/// Writes `batches`.
pub struct BatchesProjection;

#[async_trait::async_trait]
impl Projection for BatchesProjection {
    fn name(&self) -> &'static str {
        "batches"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["batches"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        let DomainEvent::BatchCreated(b) = event else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO batches (id, scenario_id, scenario_name, target_count, members, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        )
        .bind(b.batch_id.to_string())
        .bind(b.scenario_id.to_string())
        .bind(&b.scenario_name)
        .bind(b.sessions.len() as i64)
        .bind(serde_json::to_string(&b.sessions)?)
        .bind(meta.recorded_at_ms)
        .execute(conn)
        .await?;
        Ok(())
    }
}
