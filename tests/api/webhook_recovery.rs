//! Webhook delivery survives a restart: events written while no worker ran are delivered when
//! the node starts (the worker catches up from its checkpoint), a delivery left half-way is
//! resumed at its next attempt (found by the start-up scan: it lies before the checkpoint), and
//! one that already ended is not sent again.

use std::time::Duration;

use actors::codec::append_request;
use actors::domain::events::{DomainEvent, SessionCompleted, SessionSummary};
use actors::domain::webhook::{
    AttemptOutcome, RetryPolicy, WebhookDeliveryAttempted, WebhookDeliveryQueued, WebhookEvent,
    WebhookSnapshot, WebhookSpec, delivery_stream, webhook_stream,
};
use actors::secrets::SecretBox;
use actors::store::EventStore;
use actors::webhooks::WORKER_NAME;
use krawall::mock::MockSettings;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Backend, fresh_settings, spawn_with};
use crate::webhook_receiver::Receiver;

const SECRET: &str = "recovery-secret-0123";

async fn write(store: &EventStore, stream: String, events: &[DomainEvent]) -> i64 {
    let request = append_request(stream, 0, events).unwrap();
    store.append(request).await.unwrap().last_position
}

fn attempted(delivery: Uuid, hook: Uuid, status: u16, outcome: AttemptOutcome) -> DomainEvent {
    DomainEvent::WebhookDeliveryAttempted(WebhookDeliveryAttempted {
        delivery_id: delivery,
        webhook_id: hook,
        attempt: 1,
        status_code: Some(status),
        latency_ms: 3,
        error: (status != 200).then(|| format!("HTTP {status}")),
        outcome,
    })
}

fn queued(delivery: Uuid, hook: Uuid) -> DomainEvent {
    DomainEvent::WebhookDeliveryQueued(WebhookDeliveryQueued {
        delivery_id: delivery,
        webhook_id: hook,
        event: WebhookEvent::SessionCancelled,
        payload: json!({"before": "restart"}),
        source_position: 0,
        redelivery_of: None,
    })
}

/// What the previous run left behind, its worker checkpoint just before the session's end;
/// returns (hook, half-way delivery, ended delivery, session) and the session end's position.
async fn previous_run(store: &EventStore, secrets: &SecretBox, url: &str) -> ([Uuid; 4], i64) {
    let hook = Uuid::now_v7();
    let spec = WebhookSpec {
        name: "recovery".into(),
        url: url.into(),
        events: vec![WebhookEvent::SessionCompleted],
        enabled: true,
        retry: RetryPolicy {
            max_attempts: 3,
            initial_delay_ms: 100,
            multiplier: 2.0,
            max_delay_ms: 1000,
        },
    };
    let secret = secrets.seal(SECRET.as_bytes()).unwrap();
    let created = DomainEvent::WebhookCreated(WebhookSnapshot {
        webhook_id: hook,
        spec,
        secret,
    });
    write(store, webhook_stream(hook), &[created]).await;
    let (half, ended, session) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let retrying = attempted(half, hook, 500, AttemptOutcome::Retrying);
    write(
        store,
        delivery_stream(half),
        &[queued(half, hook), retrying],
    )
    .await;
    let delivered = attempted(ended, hook, 200, AttemptOutcome::Delivered);
    let mark = write(
        store,
        delivery_stream(ended),
        &[queued(ended, hook), delivered],
    )
    .await;
    store
        .save_worker_checkpoint(WORKER_NAME, mark)
        .await
        .unwrap();
    let completed = DomainEvent::SessionCompleted(SessionCompleted {
        session_id: session,
        summary: SessionSummary::default(),
    });
    let end = write(store, format!("session-{session}"), &[completed]).await;
    ([hook, half, ended, session], end)
}

async fn delivered_after_restart(backend: Backend) {
    let Some((settings, dir)) = fresh_settings(backend).await else {
        return;
    };
    std::fs::create_dir_all(&settings.data_dir).unwrap();
    let store = EventStore::connect(&settings.database_url()).await.unwrap();
    let secrets = SecretBox::load_or_create(&settings.key_file()).unwrap();
    let receiver = Receiver::start(false);
    receiver.expect_secret(SECRET);
    let ([hook, half, ended, session], end) = previous_run(&store, &secrets, &receiver.url).await;

    let app = spawn_with(settings, dir, MockSettings::default()).await;
    for _ in 0..400 {
        if receiver.received().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = receiver.received();
    assert_eq!(
        got.len(),
        2,
        "exactly the two unfinished deliveries: {got:?}"
    );
    assert!(got.iter().all(|r| r.signature_ok));
    let resumed = got
        .iter()
        .find(|r| r.body["deliveryId"] == half.to_string());
    assert_eq!(resumed.unwrap().body["payload"]["before"], "restart");
    let caught_up = got.iter().find(|r| r.body["event"] == "session.completed");
    assert_eq!(
        caught_up.unwrap().body["payload"]["sessionId"],
        session.to_string()
    );
    assert!(
        got.iter()
            .all(|r| r.body["deliveryId"] != ended.to_string())
    );

    let path = format!("/api/webhooks/{hook}/deliveries");
    let (_, log) = app.get(&path).await;
    let half_log = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == half.to_string())
        .unwrap()
        .clone();
    assert_eq!(half_log["status"], "delivered", "{half_log}");
    let attempts: Vec<_> = half_log["attemptLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["attempt"].clone(), a["statusCode"].clone()))
        .collect();
    assert_eq!(attempts, [(json!(1), json!(500)), (json!(2), json!(200))]);
    let checkpoint = store.worker_checkpoint(WORKER_NAME).await.unwrap();
    assert!(checkpoint >= end, "{checkpoint} < {end}");
}

#[actix_web::test]
async fn deliveries_survive_a_restart_sqlite() {
    delivered_after_restart(Backend::Sqlite).await;
}

#[actix_web::test]
async fn deliveries_survive_a_restart_postgres() {
    delivered_after_restart(Backend::Postgres).await;
}
