//! Queries over the `targets` and `scenarios` read models.

use serde::Serialize;
use serde_json::Value;
use sqlx::{AnyPool, Row, any::AnyRow};

use super::time::iso;

/// A target as the API shows it; `authConfig` is masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub connector_type: String,
    pub endpoint: String,
    pub auth_type: String,
    pub auth_config: Value,
    pub request_template: Value,
    pub response_template: Value,
    pub protocol_config: Option<Value>,
    /// `{requestsPerSecond?, tokensPerMinute?}` when the target has a rate limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Value>,
    pub preset_id: Option<String>,
    pub last_test_at: Option<String>,
    pub last_test_success: Option<bool>,
    pub last_test_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// A scenario as the API shows it: the canonical spec plus identity and timestamps.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScenarioView {
    pub id: String,
    #[serde(flatten)]
    pub spec: Value,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

fn json(row: &AnyRow, col: &str) -> Result<Value, sqlx::Error> {
    let text: String = row.try_get(col)?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn target(row: &AnyRow) -> Result<TargetView, sqlx::Error> {
    let protocol: Option<String> = row.try_get("protocol_config")?;
    Ok(TargetView {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        connector_type: row.try_get("connector_type")?,
        endpoint: row.try_get("endpoint")?,
        auth_type: row.try_get("auth_type")?,
        auth_config: json(row, "auth_masked")?,
        request_template: json(row, "request_template")?,
        response_template: json(row, "response_template")?,
        protocol_config: protocol.and_then(|p| serde_json::from_str(&p).ok()),
        rate_limit: row
            .try_get::<Option<String>, _>("rate_limit")?
            .and_then(|r| serde_json::from_str(&r).ok()),
        preset_id: row.try_get("preset_id")?,
        last_test_at: row.try_get::<Option<i64>, _>("last_test_at_ms")?.map(iso),
        last_test_success: row
            .try_get::<Option<i64>, _>("last_test_success")?
            .map(|v| v != 0),
        last_test_error: row.try_get("last_test_error")?,
        created_at: iso(row.try_get("created_at_ms")?),
        updated_at: iso(row.try_get("updated_at_ms")?),
        version: row.try_get("version")?,
    })
}

fn scenario(row: &AnyRow) -> Result<ScenarioView, sqlx::Error> {
    Ok(ScenarioView {
        id: row.try_get("id")?,
        spec: json(row, "spec")?,
        created_at: iso(row.try_get("created_at_ms")?),
        updated_at: iso(row.try_get("updated_at_ms")?),
        version: row.try_get("version")?,
    })
}

/// Targets by name; `connector_type` filters when given.
pub async fn list_targets(
    pool: &AnyPool,
    connector_type: Option<&str>,
) -> Result<Vec<TargetView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT * FROM targets WHERE ($1 = '' OR connector_type = $1) ORDER BY name, id",
    )
    .bind(connector_type.unwrap_or("").to_string())
    .fetch_all(pool)
    .await?;
    rows.iter().map(target).collect()
}

pub async fn get_target(pool: &AnyPool, id: &str) -> Result<Option<TargetView>, sqlx::Error> {
    let row = sqlx::query("SELECT * FROM targets WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(target).transpose()
}

/// Scenarios by name; `search` matches name or category (case-insensitive substring).
pub async fn list_scenarios(
    pool: &AnyPool,
    search: Option<&str>,
) -> Result<Vec<ScenarioView>, sqlx::Error> {
    let pattern = format!("%{}%", search.unwrap_or("").to_lowercase());
    let rows = sqlx::query("SELECT * FROM scenarios WHERE LOWER(name) LIKE $1 OR LOWER(category) LIKE $1 ORDER BY name, id")
        .bind(pattern)
        .fetch_all(pool)
        .await?;
    rows.iter().map(scenario).collect()
}

pub async fn get_scenario(pool: &AnyPool, id: &str) -> Result<Option<ScenarioView>, sqlx::Error> {
    let row = sqlx::query("SELECT * FROM scenarios WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(scenario).transpose()
}
