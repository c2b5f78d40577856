//! `batch.completed` (once per batch, with its counts, after the last session ends) and
//! `schedule.fired` deliveries.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::webhook_receiver::Receiver;

const SECRET: &str = "batch-and-schedule-secret";

async fn delivered(app: &TestApp, hook: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..400 {
        let (_, resp) = app
            .get(&format!("/api/webhooks/{hook}/deliveries?limit=500"))
            .await;
        let list = resp["data"].as_array().cloned().unwrap_or_default();
        if done(&list) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("deliveries never arrived");
}

fn of<'a>(list: &'a [Value], event: &str) -> Vec<&'a Value> {
    list.iter().filter(|d| d["event"] == event).collect()
}

#[actix_web::test]
async fn batch_completed_once_and_schedule_fired() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let receiver = Receiver::start(false);
    receiver.expect_secret(SECRET);
    let body = json!({"url": receiver.url, "events": ["batch.completed", "schedule.fired"], "secret": SECRET});
    let hook = app.create("/api/webhooks", &body).await;
    let mut targets = Vec::new();
    for _ in 0..2 {
        targets.push(
            app.create("/api/targets", &app.mock_target("/v1/chat/completions"))
                .await,
        );
    }
    let scenario =
        json!({"name": "one", "flowConfig": [{"type": "message", "config": {"content": "hi"}}]});
    let scenario = app.create("/api/scenarios", &scenario).await;
    let (status, batch) = app
        .post(
            "/api/execute/batch",
            &json!({"scenarioId": scenario, "targetIds": targets}),
        )
        .await;
    assert_eq!(status, 202, "{batch}");
    let batch_id = batch["data"]["batchId"].clone();
    let list = delivered(&app, &hook, |l| !of(l, "batch.completed").is_empty()).await;
    let completed = of(&list, "batch.completed");
    assert_eq!(completed.len(), 1, "{list:?}");
    assert_eq!(completed[0]["payload"]["batchId"], batch_id);
    assert_eq!(completed[0]["payload"]["status"], "COMPLETED");
    assert_eq!(completed[0]["payload"]["counts"]["completed"], 2);
    schedule_fired(&app, &hook, &scenario, &targets).await;
    assert!(receiver.received().iter().all(|r| r.signature_ok));
}

/// A schedule's runs are delivered as `schedule.fired`, and each run's batch once as
/// `batch.completed`.
async fn schedule_fired(app: &TestApp, hook: &str, scenario: &str, targets: &[String]) {
    let job = json!({"name": "tick", "scenarioId": scenario, "targetIds": targets,
        "cronExpression": "*/2 * * * * *", "timezone": "UTC"});
    let schedule = app.create("/api/scheduled-jobs", &job).await;
    let list = delivered(app, hook, |l| {
        of(l, "schedule.fired").len() >= 2 && of(l, "batch.completed").len() >= 3
    })
    .await;
    let mut off = job.clone();
    off["isEnabled"] = json!(false);
    app.put(&format!("/api/scheduled-jobs?id={schedule}"), &off)
        .await;
    let fired = of(&list, "schedule.fired");
    assert!(
        fired
            .iter()
            .all(|d| d["payload"]["scheduleId"] == schedule.as_str())
    );
    let batches: Vec<_> = of(&list, "batch.completed")
        .iter()
        .map(|d| d["payload"]["batchId"].to_string())
        .collect();
    let unique: HashSet<_> = batches.iter().collect();
    assert_eq!(unique.len(), batches.len(), "one batch.completed per batch");
    let fired_batch = fired[0]["payload"]["batchId"].clone();
    let later = delivered(app, hook, |l| {
        of(l, "batch.completed")
            .iter()
            .any(|d| d["payload"]["batchId"] == fired_batch)
    })
    .await;
    assert!(!later.is_empty());
}
