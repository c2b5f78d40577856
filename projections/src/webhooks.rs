//! Webhooks read models: `webhooks` (settings, never the secret), `webhook_deliveries` (one row
//! per delivery with its status and attempt count) and `webhook_attempts` (the delivery log).
//! Upserts are guarded by stream version, attempts keyed by `(delivery, attempt)`.

use actors::domain::events::{DomainEvent, WebhookDeliveryAttempted, WebhookDeliveryQueued};
use actors::domain::webhook::{AttemptOutcome, WebhookSnapshot};
use actors::store::RecordedEvent;
use sqlx::AnyConnection;

use crate::projection::{Projection, ProjectionError};

/// Writes `webhooks`, `webhook_deliveries` and `webhook_attempts`.
pub struct WebhooksProjection;

async fn upsert(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    s: &WebhookSnapshot,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "INSERT INTO webhooks (id, name, url, events, enabled, retry, created_at_ms, updated_at_ms, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, url = excluded.url, events = excluded.events,
             enabled = excluded.enabled, retry = excluded.retry, updated_at_ms = excluded.updated_at_ms,
             version = excluded.version
         WHERE excluded.version > webhooks.version",
    )
    .bind(s.webhook_id.to_string())
    .bind(&s.spec.name)
    .bind(&s.spec.url)
    .bind(serde_json::to_string(&s.spec.events)?)
    .bind(i64::from(s.spec.enabled))
    .bind(serde_json::to_string(&s.spec.retry)?)
    .bind(meta.recorded_at_ms)
    .bind(meta.version)
    .execute(conn)
    .await?;
    Ok(())
}

async fn queued(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    q: &WebhookDeliveryQueued,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, webhook_id, event, payload, status, attempts, redelivery_of,
             created_at_ms, updated_at_ms, applied_version)
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $6, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(q.delivery_id.to_string())
    .bind(q.webhook_id.to_string())
    .bind(q.event.as_str())
    .bind(serde_json::to_string(&q.payload)?)
    .bind(q.redelivery_of.map(|r| r.to_string()))
    .bind(meta.recorded_at_ms)
    .bind(meta.version)
    .execute(conn)
    .await?;
    Ok(())
}

async fn attempted(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    a: &WebhookDeliveryAttempted,
) -> Result<(), ProjectionError> {
    let id = a.delivery_id.to_string();
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, latency_ms, error, outcome, attempted_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (delivery_id, attempt) DO NOTHING",
    )
    .bind(id.clone())
    .bind(i64::from(a.attempt))
    .bind(a.status_code.map(i64::from))
    .bind(a.latency_ms.min(i64::MAX as u64) as i64)
    .bind(a.error.clone())
    .bind(a.outcome.as_str())
    .bind(meta.recorded_at_ms)
    .execute(&mut *conn)
    .await?;
    let status = match a.outcome {
        AttemptOutcome::Delivered => "delivered",
        AttemptOutcome::Retrying => "retrying",
        AttemptOutcome::GaveUp => "failed",
    };
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $2, attempts = $3, updated_at_ms = $4, applied_version = $5
         WHERE id = $1 AND applied_version < $5",
    )
    .bind(id)
    .bind(status)
    .bind(i64::from(a.attempt))
    .bind(meta.recorded_at_ms)
    .bind(meta.version)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl Projection for WebhooksProjection {
    fn name(&self) -> &'static str {
        "webhooks"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["webhooks", "webhook_deliveries", "webhook_attempts"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        match event {
            DomainEvent::WebhookCreated(s) | DomainEvent::WebhookUpdated(s) => {
                upsert(conn, meta, s).await
            }
            DomainEvent::WebhookDeleted(d) => {
                sqlx::query("DELETE FROM webhooks WHERE id = $1")
                    .bind(d.id.to_string())
                    .execute(conn)
                    .await?;
                Ok(())
            }
            DomainEvent::WebhookDeliveryQueued(q) => queued(conn, meta, q).await,
            DomainEvent::WebhookDeliveryAttempted(a) => attempted(conn, meta, a).await,
            _ => Ok(()),
        }
    }
}
