//! The batches, webhooks and schedules projections keep the contract: replaying their events
//! (again, or backwards) changes no row; counters (`fired_count`, delivery attempts) stay put.

use actors::codec::append_request;
use actors::domain::batch::{BatchCreated, BatchMember};
use actors::domain::events::DomainEvent;
use actors::domain::schedule::{
    MissedRunPolicy, ScheduleFired, ScheduleSnapshot, ScheduleSpec, ScheduleToggled,
};
use actors::domain::webhook::{
    AttemptOutcome, RetryPolicy, WebhookDeliveryAttempted, WebhookDeliveryQueued, WebhookEvent,
    WebhookSnapshot, WebhookSpec,
};
use actors::store::EventStore;
use projections::{all_projections, catch_up};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

use crate::replay::apply_directly;

async fn append(store: &EventStore, stream: String, events: &[DomainEvent]) {
    store
        .append(append_request(stream, 0, events).unwrap())
        .await
        .unwrap();
}

fn schedule(id: Uuid) -> Vec<DomainEvent> {
    let spec = ScheduleSpec {
        name: "nightly".into(),
        scenario_id: Uuid::new_v4(),
        target_ids: vec![Uuid::new_v4()],
        cron_expression: "0 3 * * *".into(),
        timezone: "Europe/Berlin".into(),
        execution_config: None,
        missed_run_policy: MissedRunPolicy::RunOnce,
    };
    let fired = |slot_ms| {
        DomainEvent::ScheduleFired(ScheduleFired {
            schedule_id: id,
            slot_ms,
            batch_id: Uuid::new_v4(),
            missed: false,
        })
    };
    vec![
        DomainEvent::ScheduleCreated(ScheduleSnapshot {
            schedule_id: id,
            spec,
            is_enabled: true,
        }),
        fired(1_000),
        fired(2_000),
        DomainEvent::ScheduleDisabled(ScheduleToggled { schedule_id: id }),
    ]
}

fn delivery(hook: Uuid, delivery: Uuid) -> Vec<DomainEvent> {
    let attempt = |attempt, status, outcome| {
        DomainEvent::WebhookDeliveryAttempted(WebhookDeliveryAttempted {
            delivery_id: delivery,
            webhook_id: hook,
            attempt,
            status_code: Some(status),
            latency_ms: 5,
            error: None,
            outcome,
        })
    };
    vec![
        DomainEvent::WebhookDeliveryQueued(WebhookDeliveryQueued {
            delivery_id: delivery,
            webhook_id: hook,
            event: WebhookEvent::SessionCompleted,
            payload: json!({"sessionId": Uuid::new_v4()}),
            source_position: 1,
            redelivery_of: None,
        }),
        attempt(1, 500, AttemptOutcome::Retrying),
        attempt(2, 200, AttemptOutcome::Delivered),
    ]
}

async fn seed(store: &EventStore) {
    let (s, hook, d, batch) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    append(store, format!("schedule-{s}"), &schedule(s)).await;
    let created = DomainEvent::WebhookCreated(WebhookSnapshot {
        webhook_id: hook,
        spec: WebhookSpec {
            name: "ci".into(),
            url: "http://127.0.0.1:1/".into(),
            events: vec![WebhookEvent::SessionCompleted],
            enabled: true,
            retry: RetryPolicy::default(),
        },
        secret: "k1:a:b".into(),
    });
    append(store, format!("webhook-{hook}"), &[created]).await;
    append(store, format!("webhook-delivery-{d}"), &delivery(hook, d)).await;
    let members = vec![BatchMember {
        session_id: Uuid::new_v4(),
        target_id: Uuid::new_v4(),
        target_name: "t".into(),
    }];
    let batch_created = DomainEvent::BatchCreated(BatchCreated {
        batch_id: batch,
        scenario_id: Uuid::new_v4(),
        scenario_name: "s".into(),
        sessions: members,
    });
    append(store, format!("batch-{batch}"), &[batch_created]).await;
}

/// Every row of the tables these projections write, as text.
async fn rows(store: &EventStore) -> Vec<String> {
    let sql = [
        "SELECT id || '|' || CAST(is_enabled AS TEXT) || '|' || CAST(fired_count AS TEXT) || '|' || CAST(last_fired_slot_ms AS TEXT) || '|' || CAST(version AS TEXT) AS r FROM schedules",
        "SELECT schedule_id || '|' || CAST(slot_ms AS TEXT) AS r FROM schedule_runs ORDER BY slot_ms",
        "SELECT id || '|' || status || '|' || CAST(attempts AS TEXT) AS r FROM webhook_deliveries",
        "SELECT delivery_id || '|' || CAST(attempt AS TEXT) || '|' || outcome AS r FROM webhook_attempts ORDER BY attempt",
        "SELECT id || '|' || url || '|' || CAST(version AS TEXT) AS r FROM webhooks",
        "SELECT id || '|' || CAST(target_count AS TEXT) AS r FROM batches",
    ];
    let mut out = Vec::new();
    for q in sql {
        for row in sqlx::query(q).fetch_all(store.pool()).await.unwrap() {
            out.push(row.try_get::<String, _>("r").unwrap());
        }
    }
    out
}

pub async fn automation_rows_survive_replays(store: EventStore) {
    seed(&store).await;
    catch_up(&store, &all_projections()).await.unwrap();
    let before = rows(&store).await;
    assert_eq!(before.len(), 8, "{before:?}");
    assert!(
        before[0].ends_with("|0|2|2000|4"),
        "disabled, 2 runs: {}",
        before[0]
    );
    assert!(before[3].ends_with("|delivered|2"), "{}", before[3]);
    let batch = store.read_all(0, 100).await.unwrap();
    apply_directly(&store, &batch).await;
    let reversed: Vec<_> = batch.iter().rev().cloned().collect();
    apply_directly(&store, &reversed).await;
    assert_eq!(rows(&store).await, before);
}
