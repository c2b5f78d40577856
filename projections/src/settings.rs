//! Node settings read model (`node_settings`): one row holding the settings of the latest
//! `SettingsUpdated` (each event carries the whole settings).

use actors::domain::events::DomainEvent;
use actors::store::RecordedEvent;
use sqlx::AnyConnection;

use crate::projection::{Projection, ProjectionError};

/// The key of the only row.
pub const NODE_ROW: &str = "node";

/// Writes `node_settings`.
pub struct SettingsProjection;

#[async_trait::async_trait]
impl Projection for SettingsProjection {
    fn name(&self) -> &'static str {
        "node_settings"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["node_settings"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        let DomainEvent::SettingsUpdated(update) = event else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO node_settings (id, settings, updated_at_ms, position) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET settings = excluded.settings,
                 updated_at_ms = excluded.updated_at_ms, position = excluded.position
             WHERE excluded.position > node_settings.position",
        )
        .bind(NODE_ROW)
        .bind(serde_json::to_string(&update.settings)?)
        .bind(meta.recorded_at_ms)
        .bind(meta.position)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}
