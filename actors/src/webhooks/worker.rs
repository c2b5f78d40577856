//! The delivery worker: subscribes to the event log from its own checkpoint, queues one
//! delivery per subscribed webhook and triggering event (deterministic ids: never twice), and
//! sends every queued delivery with retries, recording each attempt. On start it resumes the
//! deliveries that have not ended, so a restart loses none.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use uuid::Uuid;

use super::batches::batch_completion;
use super::registry::Registry;
use super::sender::{body, send};
use crate::codec::append_request;
use crate::connectors::egress::EgressPolicy;
use crate::domain::event_type::names;
use crate::domain::events::{DomainEvent, EventType};
use crate::domain::webhook::{
    AttemptOutcome, WebhookDeliveryAttempted, WebhookDeliveryQueued, WebhookEvent, delivery_id,
    delivery_stream, triggered,
};
use crate::secrets::SecretBox;
use crate::store::{AppendError, EventStore, RecordedEvent, StoreError};

/// The worker's checkpoint name in `worker_checkpoints`.
pub const WORKER_NAME: &str = "webhook_deliveries";

const HOOK_TYPES: [&str; 3] = names([
    EventType::WebhookCreated,
    EventType::WebhookUpdated,
    EventType::WebhookDeleted,
]);
const DELIVERY_TYPES: [&str; 2] = names([
    EventType::WebhookDeliveryQueued,
    EventType::WebhookDeliveryAttempted,
]);
/// Every event type the worker acts on: webhook changes, queued deliveries and the triggers
/// (session ends, also for `batch.completed`, and fired schedules). Other events (most of the
/// log: exchanges) are not even read (`EventStore::subscribe_types`).
const HANDLED_TYPES: [&str; 8] = names([
    EventType::WebhookCreated,
    EventType::WebhookUpdated,
    EventType::WebhookDeleted,
    EventType::WebhookDeliveryQueued,
    EventType::SessionCompleted,
    EventType::SessionCancelled,
    EventType::SessionFailed,
    EventType::ScheduleFired,
]);
/// How often the resume position is saved while only skipped events pass. Handling an event
/// again after a restart is harmless: a delivery's id is derived from its trigger, and a
/// delivery's progress is read from its stream before each send.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// Shortest interval between two reads of the log while events keep arriving (a trigger waits
/// at most this much longer).
const READ_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// Shared by the subscription loop and the delivery tasks.
struct Shared {
    store: EventStore,
    secrets: SecretBox,
    http: reqwest::Client,
    registry: Mutex<Registry>,
    active: Mutex<HashSet<Uuid>>,
}

/// A delivery that has not ended, and where it stands.
struct Pending {
    queued: WebhookDeliveryQueued,
    queued_at_ms: i64,
    attempts: u32,
    /// When the last attempt was recorded (to finish its backoff after a restart).
    last_at_ms: Option<i64>,
}

/// Handle of the running worker.
pub struct WebhookWorker;

impl WebhookWorker {
    /// Starts the worker on the current Tokio runtime; it restarts itself after a store error.
    pub fn start(
        store: EventStore,
        secrets: SecretBox,
        egress: &EgressPolicy,
    ) -> Result<(), reqwest::Error> {
        let http = crate::connectors::outbound_client(egress).build()?;
        let shared = Arc::new(Shared {
            store,
            secrets,
            http,
            registry: Mutex::new(Registry::default()),
            active: Mutex::new(HashSet::new()),
        });
        tokio::spawn(async move {
            loop {
                if let Err(e) = run(shared.clone()).await {
                    tracing::error!(error = %e, "webhook worker failed; restarting in 1 s");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        Ok(())
    }
}

fn decode(e: &RecordedEvent) -> Option<DomainEvent> {
    DomainEvent::from_parts(&e.event_type, &e.payload).ok()
}

async fn run(shared: Arc<Shared>) -> Result<(), StoreError> {
    let from = shared.store.worker_checkpoint(WORKER_NAME).await?;
    for e in shared.store.read_types(&HOOK_TYPES).await? {
        if let Some(event) = decode(&e) {
            lock(&shared.registry).apply(e.position, &event);
        }
    }
    for pending in unfinished(&shared.store).await? {
        spawn_delivery(&shared, pending);
    }
    let mut pages = std::pin::pin!(shared.store.subscribe_types(
        from,
        &HANDLED_TYPES,
        READ_INTERVAL
    ));
    let mut saved_at = std::time::Instant::now();
    while let Some(page) = pages.next().await {
        let page = page?;
        for recorded in &page.events {
            handle(&shared, recorded).await?;
        }
        if !page.events.is_empty() || saved_at.elapsed() >= CHECKPOINT_EVERY {
            shared
                .store
                .save_worker_checkpoint(WORKER_NAME, page.reached)
                .await?;
            saved_at = std::time::Instant::now();
        }
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One event from the log: webhook changes, queued deliveries, or events that trigger some.
async fn handle(shared: &Arc<Shared>, recorded: &RecordedEvent) -> Result<(), StoreError> {
    let Some(event) = decode(recorded) else {
        return Ok(());
    };
    match &event {
        DomainEvent::WebhookCreated(_)
        | DomainEvent::WebhookUpdated(_)
        | DomainEvent::WebhookDeleted(_) => lock(&shared.registry).apply(recorded.position, &event),
        DomainEvent::WebhookDeliveryQueued(q) => spawn_delivery(
            shared,
            Pending {
                queued: q.clone(),
                queued_at_ms: recorded.recorded_at_ms,
                attempts: 0,
                last_at_ms: None,
            },
        ),
        _ => {
            let key = recorded.position.to_string();
            let mut triggers: Vec<_> = triggered(&event)
                .into_iter()
                .map(|(kind, payload)| (kind, payload, key.clone()))
                .collect();
            triggers.extend(batch_completion(&shared.store, &event).await?);
            queue_triggered(shared, recorded.position, triggers).await?;
        }
    }
    Ok(())
}

/// Queues a delivery per subscribed webhook; a delivery already queued (same id) is a conflict
/// and is skipped, so replaying the log after a restart queues nothing twice.
async fn queue_triggered(
    shared: &Shared,
    position: i64,
    triggers: Vec<(WebhookEvent, Value, String)>,
) -> Result<(), StoreError> {
    for (kind, payload, key) in triggers {
        let hooks = lock(&shared.registry).subscribers(kind, position);
        for webhook_id in hooks {
            let id = delivery_id(webhook_id, &key, kind);
            let queued = DomainEvent::WebhookDeliveryQueued(WebhookDeliveryQueued {
                delivery_id: id,
                webhook_id,
                event: kind,
                payload: payload.clone(),
                source_position: position,
                redelivery_of: None,
            });
            let request = append_request(delivery_stream(id), 0, &[queued])?;
            match shared.store.append(request).await {
                Ok(_) | Err(AppendError::Conflict { .. }) => {}
                Err(AppendError::Store(e)) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Deliveries whose last attempt neither delivered nor gave up.
async fn unfinished(store: &EventStore) -> Result<Vec<Pending>, StoreError> {
    let mut pending: HashMap<Uuid, Pending> = HashMap::new();
    for e in store.read_types(&DELIVERY_TYPES).await? {
        match decode(&e) {
            Some(DomainEvent::WebhookDeliveryQueued(q)) => {
                let p = Pending {
                    queued: q.clone(),
                    queued_at_ms: e.recorded_at_ms,
                    attempts: 0,
                    last_at_ms: None,
                };
                pending.insert(q.delivery_id, p);
            }
            Some(DomainEvent::WebhookDeliveryAttempted(a))
                if a.outcome == AttemptOutcome::Retrying =>
            {
                if let Some(p) = pending.get_mut(&a.delivery_id) {
                    p.attempts = a.attempt;
                    p.last_at_ms = Some(e.recorded_at_ms);
                }
            }
            Some(DomainEvent::WebhookDeliveryAttempted(a)) => {
                pending.remove(&a.delivery_id);
            }
            _ => {}
        }
    }
    Ok(pending.into_values().collect())
}

fn spawn_delivery(shared: &Arc<Shared>, pending: Pending) {
    let id = pending.queued.delivery_id;
    if !lock(&shared.active).insert(id) {
        return;
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        if let Err(e) = deliver(&shared, pending).await {
            tracing::warn!(delivery = %id, error = %e, "webhook delivery stopped");
        }
        lock(&shared.active).remove(&id);
    });
}

/// Where a delivery stands in its stream: `None` once it ended, else the attempts made and
/// when the last one was recorded. Read before sending, so a delivery resumed at start-up and
/// seen again in the log is not sent twice.
async fn progress(
    store: &EventStore,
    stream: &str,
) -> Result<Option<(u32, Option<i64>)>, StoreError> {
    let mut state = (0, None);
    for e in store.read_stream(stream).await? {
        match decode(&e) {
            Some(DomainEvent::WebhookDeliveryAttempted(a))
                if a.outcome != AttemptOutcome::Retrying =>
            {
                return Ok(None);
            }
            Some(DomainEvent::WebhookDeliveryAttempted(a)) => {
                state = (a.attempt, Some(e.recorded_at_ms))
            }
            _ => {}
        }
    }
    Ok(Some(state))
}

/// Sends until delivered or out of attempts, appending one `WebhookDeliveryAttempted` per try.
async fn deliver(shared: &Shared, mut p: Pending) -> Result<(), AppendError> {
    let stream = delivery_stream(p.queued.delivery_id);
    let Some((attempts, last_at_ms)) = progress(&shared.store, &stream).await? else {
        return Ok(());
    };
    (p.attempts, p.last_at_ms) = (attempts, last_at_ms);
    let body = body(&p.queued, p.queued_at_ms);
    loop {
        let hook = lock(&shared.registry).get(p.queued.webhook_id);
        if let (Some(hook), Some(last)) = (&hook, p.last_at_ms) {
            let due = last + hook.snapshot.spec.retry.delay_ms(p.attempts) as i64;
            let wait = due - chrono::Utc::now().timestamp_millis();
            if wait > 0 {
                tokio::time::sleep(Duration::from_millis(wait as u64)).await;
            }
        }
        let hook = lock(&shared.registry).get(p.queued.webhook_id);
        let attempt = p.attempts + 1;
        let (result, outcome) = match &hook {
            None => (None, AttemptOutcome::GaveUp),
            Some(h) => {
                let secret = shared.secrets.open(&h.snapshot.secret).unwrap_or_default();
                let r = send(&shared.http, &h.snapshot.spec.url, &secret, body.clone()).await;
                let outcome = if r.delivered() {
                    AttemptOutcome::Delivered
                } else if attempt >= h.snapshot.spec.retry.max_attempts {
                    AttemptOutcome::GaveUp
                } else {
                    AttemptOutcome::Retrying
                };
                (Some(r), outcome)
            }
        };
        let event = DomainEvent::WebhookDeliveryAttempted(WebhookDeliveryAttempted {
            delivery_id: p.queued.delivery_id,
            webhook_id: p.queued.webhook_id,
            attempt,
            status_code: result.as_ref().and_then(|r| r.status_code),
            latency_ms: result.as_ref().map_or(0, |r| r.latency_ms),
            error: result.map_or(Some("webhook deleted".into()), |r| r.error),
            outcome,
        });
        let request = append_request(stream.clone(), i64::from(attempt), &[event])
            .map_err(|e| AppendError::Store(e.into()))?;
        shared.store.append(request).await?;
        if outcome != AttemptOutcome::Retrying {
            return Ok(());
        }
        p.attempts = attempt;
        p.last_at_ms = Some(chrono::Utc::now().timestamp_millis());
    }
}
