//! One HTTP attempt of a delivery: the signed body, a 10 s timeout, the status and latency.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::domain::webhook::{WebhookDeliveryQueued, signature};

/// Longest an attempt may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// What one attempt observed.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
}

impl Attempt {
    pub fn delivered(&self) -> bool {
        self.error.is_none() && self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The wire body: `{event, payload, deliveryId, timestamp}` (timestamp = when it was queued).
pub fn body(q: &WebhookDeliveryQueued, queued_at_ms: i64) -> Vec<u8> {
    let timestamp = chrono::DateTime::from_timestamp_millis(queued_at_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    let value = json!({
        "event": q.event, "payload": q.payload, "deliveryId": q.delivery_id, "timestamp": timestamp,
    });
    value.to_string().into_bytes()
}

/// POSTs `body` to `url` signed with `secret`.
pub async fn send(http: &reqwest::Client, url: &str, secret: &[u8], body: Vec<u8>) -> Attempt {
    let now = chrono::Utc::now().timestamp();
    let started = Instant::now();
    let result = http
        .post(url)
        .timeout(ATTEMPT_TIMEOUT)
        .header("content-type", "application/json")
        .header("user-agent", "Krawall-Webhooks/1")
        .header("X-Krawall-Timestamp", now.to_string())
        .header("X-Krawall-Signature", signature(secret, now, &body))
        .body(body)
        .send()
        .await;
    let latency_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(r) if r.status().is_success() => Attempt {
            status_code: Some(r.status().as_u16()),
            latency_ms,
            error: None,
        },
        Ok(r) => Attempt {
            status_code: Some(r.status().as_u16()),
            latency_ms,
            error: Some(format!("HTTP {}", r.status())),
        },
        Err(e) => Attempt {
            status_code: None,
            latency_ms,
            error: Some(if e.is_timeout() {
                "timed out after 10 s".to_string()
            } else {
                e.without_url().to_string()
            }),
        },
    }
}
