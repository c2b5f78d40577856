//! The node settings the API and the dashboard show (built-in defaults when never set).

use actors::domain::settings::NodeSettings;
use serde::Serialize;
use sqlx::{AnyPool, Row};

use crate::settings::NODE_ROW;

/// The settings plus when they were last changed.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    #[serde(flatten)]
    pub settings: NodeSettings,
    /// Epoch ms of the last `SettingsUpdated`; `None` while the node runs on built-in defaults.
    pub updated_at_ms: Option<i64>,
}

/// The current node settings.
pub async fn node_settings(pool: &AnyPool) -> Result<SettingsView, sqlx::Error> {
    let row = sqlx::query("SELECT settings, updated_at_ms FROM node_settings WHERE id = $1")
        .bind(NODE_ROW)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else {
        return Ok(SettingsView::default());
    };
    let json: String = row.try_get("settings")?;
    Ok(SettingsView {
        settings: serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(e.into()))?,
        updated_at_ms: Some(row.try_get("updated_at_ms")?),
    })
}
