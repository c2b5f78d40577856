//! Comparisons read model (`comparisons`): one row per `ComparisonCreated`; the statistics are
//! computed at query time (`queries::comparisons`).

use actors::domain::events::DomainEvent;
use actors::store::RecordedEvent;
use sqlx::AnyConnection;

use crate::projection::{Projection, ProjectionError};

/// Writes `comparisons`.
pub struct ComparisonsProjection;

#[async_trait::async_trait]
impl Projection for ComparisonsProjection {
    fn name(&self) -> &'static str {
        "comparisons"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["comparisons"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        let DomainEvent::ComparisonCreated(c) = event else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO comparisons (id, name, description, session_a_id, session_b_id, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        )
        .bind(c.comparison_id.to_string())
        .bind(c.name.clone())
        .bind(c.description.clone())
        .bind(c.session_a_id.to_string())
        .bind(c.session_b_id.to_string())
        .bind(meta.recorded_at_ms)
        .execute(conn)
        .await?;
        Ok(())
    }
}
