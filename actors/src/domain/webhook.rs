//! Webhooks: subscriptions to Krawall events delivered as signed HTTP POSTs, their retry policy,
//! the delivery events, which domain events trigger which webhook event, and the signature.

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::events::{DomainEvent, FailureReason};
use super::validation::{FieldError, Validator};

/// What a webhook can subscribe to (dotted names on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WebhookEvent {
    #[serde(rename = "session.completed")]
    SessionCompleted,
    #[serde(rename = "session.failed")]
    SessionFailed,
    #[serde(rename = "session.cancelled")]
    SessionCancelled,
    /// A session ended because its budget ran out (also sent as `session.failed`).
    #[serde(rename = "budget.exceeded")]
    BudgetExceeded,
    /// A session ended with at least one failed threshold (also sent as its `session.*`).
    #[serde(rename = "threshold.failed")]
    ThresholdFailed,
    /// Every session of a batch has ended.
    #[serde(rename = "batch.completed")]
    BatchCompleted,
    /// A schedule's slot fired and queued its batch.
    #[serde(rename = "schedule.fired")]
    ScheduleFired,
    /// `POST /api/webhooks/{id}/test`; always delivered, whatever the subscription.
    #[serde(rename = "webhook.test")]
    Test,
}

impl WebhookEvent {
    /// The events a webhook can subscribe to (every one but `webhook.test`).
    pub const SUBSCRIBABLE: [WebhookEvent; 7] = [
        Self::SessionCompleted,
        Self::SessionFailed,
        Self::SessionCancelled,
        Self::BudgetExceeded,
        Self::ThresholdFailed,
        Self::BatchCompleted,
        Self::ScheduleFired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SessionCompleted => "session.completed",
            Self::SessionFailed => "session.failed",
            Self::SessionCancelled => "session.cancelled",
            Self::BudgetExceeded => "budget.exceeded",
            Self::ThresholdFailed => "threshold.failed",
            Self::BatchCompleted => "batch.completed",
            Self::ScheduleFired => "schedule.fired",
            Self::Test => "webhook.test",
        }
    }
}

/// Retries of a failed delivery: attempt `n + 1` waits `min(initialDelayMs × multiplier^(n-1),
/// maxDelayMs)` after attempt `n`; `maxAttempts` counts the first try.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial_delay_ms: u64,
    pub multiplier: f64,
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_delay_ms: 1_000,
            multiplier: 4.0,
            max_delay_ms: 3_600_000,
        }
    }
}

impl RetryPolicy {
    /// Wait after failed attempt `attempt` (1-based).
    pub fn delay_ms(&self, attempt: u32) -> u64 {
        let exp = self.multiplier.powi(attempt.saturating_sub(1) as i32);
        ((self.initial_delay_ms as f64) * exp).min(self.max_delay_ms as f64) as u64
    }
}

/// A webhook's settings (the secret is sealed separately).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSpec {
    pub name: String,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub enabled: bool,
    pub retry: RetryPolicy,
}

/// Full state of a webhook after a create or update; `secret` is the sealed HMAC secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSnapshot {
    pub webhook_id: Uuid,
    #[serde(flatten)]
    pub spec: WebhookSpec,
    pub secret: String,
}

/// A delivery was decided (stream `webhook-delivery-<id>`; its id is derived from the webhook
/// and the triggering event, so deciding it twice appends nothing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDeliveryQueued {
    pub delivery_id: Uuid,
    pub webhook_id: Uuid,
    pub event: WebhookEvent,
    pub payload: Value,
    /// Position of the event that triggered it (0 for tests and redeliveries).
    pub source_position: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redelivery_of: Option<Uuid>,
}

/// What one attempt led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// 2xx: the delivery is done.
    Delivered,
    /// Failed; another attempt follows after the backoff.
    Retrying,
    /// Failed and no attempts are left (or the webhook is gone).
    GaveUp,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retrying => "retrying",
            Self::GaveUp => "gave_up",
        }
    }
}

/// One HTTP attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDeliveryAttempted {
    pub delivery_id: Uuid,
    pub webhook_id: Uuid,
    /// 1-based.
    pub attempt: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub outcome: AttemptOutcome,
}

/// Stream id of a webhook.
pub fn webhook_stream(id: Uuid) -> String {
    format!("webhook-{id}")
}

/// Stream id of one delivery.
pub fn delivery_stream(id: Uuid) -> String {
    format!("webhook-delivery-{id}")
}

/// The delivery id of `event` for `webhook`, identified by `key` (the triggering event's
/// position, or the batch id for `batch.completed`): the same inputs always give the same id
/// (a UUID v8 of their SHA-256), so a restarted worker cannot queue it twice.
pub fn delivery_id(webhook: Uuid, key: &str, event: WebhookEvent) -> Uuid {
    let digest = Sha256::new()
        .chain_update(webhook.as_bytes())
        .chain_update(key.as_bytes())
        .chain_update(b"|")
        .chain_update(event.as_str().as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The webhook events a domain event triggers, with their payload.
pub fn triggered(event: &DomainEvent) -> Vec<(WebhookEvent, Value)> {
    let mut out = session_triggers(event);
    if let Some((kind, payload)) = out.first().filter(|_| failed_threshold(event)) {
        let mut payload = payload.clone();
        payload["event"] = json!(kind.as_str());
        out.push((WebhookEvent::ThresholdFailed, payload));
    }
    out
}

/// A terminal session event whose summary has a failed threshold.
fn failed_threshold(event: &DomainEvent) -> bool {
    let summary = match event {
        DomainEvent::SessionCompleted(c) => &c.summary,
        DomainEvent::SessionCancelled(c) => &c.summary,
        DomainEvent::SessionFailed(f) => &f.summary,
        _ => return false,
    };
    summary.thresholds_passed == Some(false)
}

/// (A new trigger's event type must also be listed in `HANDLED_TYPES`, `webhooks/worker.rs`.)
fn session_triggers(event: &DomainEvent) -> Vec<(WebhookEvent, Value)> {
    match event {
        DomainEvent::SessionCompleted(c) => vec![(
            WebhookEvent::SessionCompleted,
            json!({"sessionId": c.session_id, "status": "COMPLETED", "summary": c.summary}),
        )],
        DomainEvent::SessionCancelled(c) => vec![(
            WebhookEvent::SessionCancelled,
            json!({"sessionId": c.session_id, "status": "CANCELLED", "summary": c.summary}),
        )],
        DomainEvent::SessionFailed(f) => {
            let payload = json!({"sessionId": f.session_id, "status": "FAILED",
                "reason": f.reason, "error": f.error, "summary": f.summary});
            let mut out = vec![(WebhookEvent::SessionFailed, payload.clone())];
            if f.reason == FailureReason::BudgetExceeded {
                out.push((WebhookEvent::BudgetExceeded, payload));
            }
            out
        }
        DomainEvent::ScheduleFired(f) => vec![(
            WebhookEvent::ScheduleFired,
            json!({"scheduleId": f.schedule_id, "slotMs": f.slot_ms, "batchId": f.batch_id, "missed": f.missed}),
        )],
        _ => Vec::new(),
    }
}

/// `sha256=<hex HMAC-SHA256(secret, "<unixSec>.<body>")>`, the `X-Krawall-Signature` header.
pub fn signature(secret: &[u8], unix_sec: i64, body: &[u8]) -> String {
    let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(unix_sec.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Shortest secret a user may choose.
pub const MIN_SECRET_LEN: usize = 16;

/// Checks a webhook's settings and a user-chosen secret.
pub fn validate_webhook(spec: &WebhookSpec, secret: Option<&str>) -> Result<(), Vec<FieldError>> {
    let mut v = Validator::default();
    v.length("name", &spec.name, 1, 200);
    let scheme_ok = spec.url.starts_with("http://") || spec.url.starts_with("https://");
    if !scheme_ok || reqwest_like_url_invalid(&spec.url) {
        v.push("url", "must be an http:// or https:// URL");
    }
    if spec.events.is_empty() {
        v.push("events", "must name at least one event");
    }
    if secret.is_some_and(|s| s.chars().count() < MIN_SECRET_LEN) {
        v.push(
            "secret",
            format!("must be at least {MIN_SECRET_LEN} characters"),
        );
    }
    validate_retry(&mut v, "retry", &spec.retry);
    v.finish()
}

/// Checks a retry policy; errors name `<prefix>.maxAttempts` etc.
pub fn validate_retry(v: &mut Validator, prefix: &str, r: &RetryPolicy) {
    if !(1..=20).contains(&r.max_attempts) {
        v.push(format!("{prefix}.maxAttempts"), "must be between 1 and 20");
    }
    if !(r.multiplier.is_finite() && r.multiplier >= 1.0) {
        v.push(format!("{prefix}.multiplier"), "must be at least 1");
    }
    if r.max_delay_ms < r.initial_delay_ms {
        v.push(
            format!("{prefix}.maxDelayMs"),
            "must not be below initialDelayMs",
        );
    }
}

fn reqwest_like_url_invalid(url: &str) -> bool {
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    rest.is_empty() || rest.starts_with('/') || url.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_an_independent_hmac() {
        // Python: hmac.new(b"whsec-0123456789abcdef", b'1700000000.{"a":1}', sha256).hexdigest()
        assert_eq!(
            signature(b"whsec-0123456789abcdef", 1_700_000_000, br#"{"a":1}"#),
            "sha256=d77c78ac4da074c56908b55eac30358b2a7bfc573be4c76819af5102e8dcf939"
        );
        assert_ne!(signature(b"k", 17, b"{}"), signature(b"k", 18, b"{}"));
    }

    #[test]
    fn delivery_ids_are_stable_per_webhook_key_and_event() {
        let w = Uuid::now_v7();
        let a = delivery_id(w, "7", WebhookEvent::SessionFailed);
        assert_eq!(a, delivery_id(w, "7", WebhookEvent::SessionFailed));
        assert_ne!(a, delivery_id(w, "7", WebhookEvent::BudgetExceeded));
        assert_ne!(a, delivery_id(w, "8", WebhookEvent::SessionFailed));
        let other = Uuid::now_v7();
        assert_ne!(a, delivery_id(other, "7", WebhookEvent::SessionFailed));
    }

    #[test]
    fn failures_budgets_and_thresholds_trigger_their_events() {
        use crate::domain::events::{SessionCompleted, SessionFailed, SessionSummary};
        let kinds = |e: &DomainEvent| triggered(e).into_iter().map(|t| t.0).collect::<Vec<_>>();
        let id = Uuid::now_v7();
        let mut summary = SessionSummary::default();
        let done = DomainEvent::SessionCompleted(SessionCompleted {
            session_id: id,
            summary: summary.clone(),
        });
        assert_eq!(kinds(&done), [WebhookEvent::SessionCompleted]);
        summary.thresholds_passed = Some(false);
        let failed = DomainEvent::SessionFailed(SessionFailed {
            session_id: id,
            reason: FailureReason::BudgetExceeded,
            error: "budget".into(),
            summary,
        });
        let expected = [
            WebhookEvent::SessionFailed,
            WebhookEvent::BudgetExceeded,
            WebhookEvent::ThresholdFailed,
        ];
        assert_eq!(kinds(&failed), expected);
        assert_eq!(triggered(&failed)[2].1["reason"], "budget_exceeded");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let r = RetryPolicy {
            max_attempts: 5,
            initial_delay_ms: 100,
            multiplier: 2.0,
            max_delay_ms: 350,
        };
        assert_eq!([1, 2, 3, 4].map(|n| r.delay_ms(n)), [100, 200, 350, 350]);
    }

    #[test]
    fn bad_settings_name_the_field() {
        let spec = WebhookSpec {
            name: "x".into(),
            url: "ftp://host".into(),
            events: vec![],
            enabled: true,
            retry: RetryPolicy {
                max_attempts: 0,
                ..RetryPolicy::default()
            },
        };
        let fields: Vec<_> = validate_webhook(&spec, Some("short"))
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["url", "events", "secret", "retry.maxAttempts"]);
    }
}
