//! Webhook commands: create (secret generated or checked, sealed, shown once), update, delete,
//! and queuing a test delivery or a redelivery; the delivery worker does the sending.

use serde_json::json;
use uuid::Uuid;

use crate::domain::events::{Deleted, DomainEvent};
use crate::domain::webhook::{
    RetryPolicy, WebhookDeliveryQueued, WebhookEvent, WebhookSnapshot, WebhookSpec,
    delivery_stream, validate_webhook, webhook_stream,
};
use crate::secrets::random_token;

use super::stream::{append, load};
use super::{CommandError, Commands};

/// A webhook as the API sends it; `secret` is optional (generated on create, kept on update),
/// `retry` too (the node's `webhookRetry` default on create, the webhook's own on update).
#[derive(Debug, Clone)]
pub struct WebhookInput {
    pub name: String,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub enabled: bool,
    pub retry: Option<RetryPolicy>,
    pub secret: Option<String>,
}

impl WebhookInput {
    fn spec(&self, default_retry: RetryPolicy) -> WebhookSpec {
        WebhookSpec {
            name: self.name.clone(),
            url: self.url.clone(),
            events: self.events.clone(),
            enabled: self.enabled,
            retry: self.retry.unwrap_or(default_retry),
        }
    }
}

/// Folds a webhook stream into its latest snapshot (`None` when absent or deleted) and version.
fn fold_webhook(events: &[DomainEvent]) -> Option<WebhookSnapshot> {
    events.iter().fold(None, |snap, e| match e {
        DomainEvent::WebhookCreated(s) | DomainEvent::WebhookUpdated(s) => Some(s.clone()),
        DomainEvent::WebhookDeleted(_) => None,
        _ => snap,
    })
}

impl Commands {
    async fn webhook(&self, id: Uuid) -> Result<(WebhookSnapshot, i64), CommandError> {
        let (events, version) = load(&self.store, &webhook_stream(id)).await?;
        let snap = fold_webhook(&events).ok_or(CommandError::NotFound("webhook"))?;
        Ok((snap, version))
    }

    /// Creates a webhook; returns its id, the plaintext secret (shown this once) and the position.
    pub async fn create_webhook(
        &self,
        input: WebhookInput,
    ) -> Result<(Uuid, String, i64), CommandError> {
        let default_retry = self.settings().await?.webhook_retry_or_builtin();
        let spec = input.spec(default_retry);
        validate_webhook(&spec, input.secret.as_deref()).map_err(CommandError::Invalid)?;
        let secret = input.secret.unwrap_or_else(|| random_token("whsec_"));
        let id = Uuid::now_v7();
        let snapshot = WebhookSnapshot {
            webhook_id: id,
            spec,
            secret: self.secrets.seal(secret.as_bytes())?,
        };
        let event = DomainEvent::WebhookCreated(snapshot);
        let position = append(&self.store, &webhook_stream(id), 0, &[event]).await?;
        Ok((id, secret, position))
    }

    /// Replaces a webhook's settings; a new `secret` replaces the old one, none keeps it.
    pub async fn update_webhook(&self, id: Uuid, input: WebhookInput) -> Result<i64, CommandError> {
        let (old, version) = self.webhook(id).await?;
        let spec = input.spec(old.spec.retry);
        validate_webhook(&spec, input.secret.as_deref()).map_err(CommandError::Invalid)?;
        let secret = match input.secret {
            Some(s) => self.secrets.seal(s.as_bytes())?,
            None => old.secret,
        };
        let snapshot = WebhookSnapshot {
            webhook_id: id,
            spec,
            secret,
        };
        let event = DomainEvent::WebhookUpdated(snapshot);
        append(&self.store, &webhook_stream(id), version, &[event]).await
    }

    /// Deletes a webhook; deliveries not yet sent are given up.
    pub async fn delete_webhook(&self, id: Uuid) -> Result<i64, CommandError> {
        let (_, version) = self.webhook(id).await?;
        let event = DomainEvent::WebhookDeleted(Deleted { id });
        append(&self.store, &webhook_stream(id), version, &[event]).await
    }

    /// Queues a `webhook.test` delivery; returns its id and position.
    pub async fn test_webhook(&self, id: Uuid) -> Result<(Uuid, i64), CommandError> {
        let (snap, _) = self.webhook(id).await?;
        let payload = json!({"webhookId": id, "name": snap.spec.name, "message": "Test delivery from Krawall"});
        self.queue_delivery(id, WebhookEvent::Test, payload, None)
            .await
    }

    /// Queues a new delivery of an earlier one's event and payload.
    pub async fn redeliver(
        &self,
        webhook: Uuid,
        delivery: Uuid,
    ) -> Result<(Uuid, i64), CommandError> {
        self.webhook(webhook).await?;
        let (events, _) = load(&self.store, &delivery_stream(delivery)).await?;
        let Some(DomainEvent::WebhookDeliveryQueued(original)) = events.first() else {
            return Err(CommandError::NotFound("delivery"));
        };
        if original.webhook_id != webhook {
            return Err(CommandError::NotFound("delivery"));
        }
        let (event, payload) = (original.event, original.payload.clone());
        self.queue_delivery(webhook, event, payload, Some(delivery))
            .await
    }

    async fn queue_delivery(
        &self,
        webhook_id: Uuid,
        event: WebhookEvent,
        payload: serde_json::Value,
        redelivery_of: Option<Uuid>,
    ) -> Result<(Uuid, i64), CommandError> {
        let delivery_id = Uuid::now_v7();
        let queued = DomainEvent::WebhookDeliveryQueued(WebhookDeliveryQueued {
            delivery_id,
            webhook_id,
            event,
            payload,
            source_position: 0,
            redelivery_of,
        });
        let position = append(&self.store, &delivery_stream(delivery_id), 0, &[queued]).await?;
        Ok((delivery_id, position))
    }
}
