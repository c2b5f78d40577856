//! Queries over the webhooks read models: webhooks (never their secret) and each webhook's
//! deliveries, newest first, with every attempt's status code, latency and error.

use serde::Serialize;
use serde_json::Value;
use sqlx::{AnyPool, Row, any::AnyRow};

use super::time::iso;

/// A webhook as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookView {
    pub id: String,
    pub name: String,
    pub url: String,
    pub events: Value,
    pub enabled: bool,
    pub retry: Value,
    pub created_at: String,
    pub updated_at: String,
}

/// One HTTP attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttemptView {
    pub attempt: i64,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub outcome: String,
    pub attempted_at: String,
}

/// One delivery: `status` is `pending`, `retrying`, `delivered` or `failed`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub id: String,
    pub webhook_id: String,
    pub event: String,
    pub status: String,
    pub attempts: i64,
    pub redelivery_of: Option<String>,
    pub payload: Value,
    pub created_at: String,
    pub updated_at: String,
    pub attempt_log: Vec<AttemptView>,
}

fn json(row: &AnyRow, column: &str) -> Result<Value, sqlx::Error> {
    let text: String = row.try_get(column)?;
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn webhook(row: &AnyRow) -> Result<WebhookView, sqlx::Error> {
    Ok(WebhookView {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        url: row.try_get("url")?,
        events: json(row, "events")?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        retry: json(row, "retry")?,
        created_at: iso(row.try_get("created_at_ms")?),
        updated_at: iso(row.try_get("updated_at_ms")?),
    })
}

pub async fn list_webhooks(pool: &AnyPool) -> Result<Vec<WebhookView>, sqlx::Error> {
    let rows = sqlx::query("SELECT * FROM webhooks ORDER BY created_at_ms, id")
        .fetch_all(pool)
        .await?;
    rows.iter().map(webhook).collect()
}

pub async fn get_webhook(pool: &AnyPool, id: &str) -> Result<Option<WebhookView>, sqlx::Error> {
    let row = sqlx::query("SELECT * FROM webhooks WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(webhook).transpose()
}

fn attempt(row: &AnyRow) -> Result<(String, AttemptView), sqlx::Error> {
    let view = AttemptView {
        attempt: row.try_get("attempt")?,
        status_code: row.try_get("status_code")?,
        latency_ms: row.try_get("latency_ms")?,
        error: row.try_get("error")?,
        outcome: row.try_get("outcome")?,
        attempted_at: iso(row.try_get("attempted_at_ms")?),
    };
    Ok((row.try_get("delivery_id")?, view))
}

fn delivery(row: &AnyRow) -> Result<DeliveryView, sqlx::Error> {
    Ok(DeliveryView {
        id: row.try_get("id")?,
        webhook_id: row.try_get("webhook_id")?,
        event: row.try_get("event")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        redelivery_of: row.try_get("redelivery_of")?,
        payload: json(row, "payload")?,
        created_at: iso(row.try_get("created_at_ms")?),
        updated_at: iso(row.try_get("updated_at_ms")?),
        attempt_log: Vec::new(),
    })
}

/// A webhook's latest `limit` deliveries, newest first, each with its attempts in order.
pub async fn list_deliveries(
    pool: &AnyPool,
    webhook_id: &str,
    limit: i64,
) -> Result<Vec<DeliveryView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT * FROM webhook_deliveries WHERE webhook_id = $1
         ORDER BY created_at_ms DESC, id DESC LIMIT $2",
    )
    .bind(webhook_id.to_string())
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut deliveries = rows.iter().map(delivery).collect::<Result<Vec<_>, _>>()?;
    let attempts = sqlx::query(
        "SELECT a.* FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
         WHERE d.webhook_id = $1 ORDER BY a.delivery_id, a.attempt",
    )
    .bind(webhook_id.to_string())
    .fetch_all(pool)
    .await?;
    for row in &attempts {
        let (id, view) = attempt(row)?;
        if let Some(d) = deliveries.iter_mut().find(|d| d.id == id) {
            d.attempt_log.push(view);
        }
    }
    Ok(deliveries)
}
