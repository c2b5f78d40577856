//! Schedules: a 6-field cron every 2 s fires on time, once per slot, while a second node on the
//! same database runs its own scheduler; each run queues a session per target; disabling stops
//! it; `nextRuns` in UTC and local time; 400s naming the field.

use std::time::Duration;

use actors::domain::events::DomainEvent;
use krawall::mock::MockSettings;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, fresh_settings, spawn_with};

async fn job_fixture(app: &TestApp) -> (String, String) {
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let scenario =
        json!({"name": "tick", "flowConfig": [{"type": "message", "config": {"content": "ping"}}]});
    (target, app.create("/api/scenarios", &scenario).await)
}

async fn wait_for_runs(app: &TestApp, id: &str, n: i64) -> Value {
    for _ in 0..400 {
        let (_, resp) = app.get(&format!("/api/scheduled-jobs/{id}")).await;
        if resp["data"]["runCount"].as_i64().unwrap_or(0) >= n {
            return resp["data"].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("schedule {id} never reached {n} runs");
}

/// Slots of every `ScheduleFired` in the schedule's stream, with when each was recorded.
async fn fired(app: &TestApp, id: &str) -> Vec<(i64, i64)> {
    let events = app
        .core
        .store
        .read_stream(&format!("schedule-{id}"))
        .await
        .unwrap();
    events
        .iter()
        .filter_map(
            |e| match DomainEvent::from_parts(&e.event_type, &e.payload) {
                Ok(DomainEvent::ScheduleFired(f)) => Some((f.slot_ms, e.recorded_at_ms)),
                _ => None,
            },
        )
        .collect()
}

async fn fires_once_per_slot_with_two_nodes(backend: Backend) {
    let Some((settings, dir)) = fresh_settings(backend).await else {
        return;
    };
    let app = spawn_with(settings.clone(), dir, MockSettings::default()).await;
    let (target, scenario) = job_fixture(&app).await;
    let body = json!({"name": "every 2 s", "scenarioId": scenario, "targetIds": [target],
        "cronExpression": "*/2 * * * * *", "timezone": "Europe/Berlin", "isEnabled": true});
    let (status, created) = app.post("/api/scheduled-jobs", &body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["data"]["id"].as_str().unwrap().to_string();
    wait_for_runs(&app, &id, 2).await;

    let mut second = settings.clone();
    second.recover_sessions = false;
    let _other = spawn_with(
        second,
        tempfile::tempdir().unwrap(),
        MockSettings::default(),
    )
    .await;
    wait_for_runs(&app, &id, 6).await;
    let mut off = body.clone();
    off["isEnabled"] = json!(false);
    let (status, resp) = app.put(&format!("/api/scheduled-jobs?id={id}"), &off).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["data"]["isEnabled"], false);
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let slots = fired(&app, &id).await;
    assert!(slots.len() >= 6, "{slots:?}");
    for pair in slots.windows(2) {
        assert_eq!(
            pair[1].0 - pair[0].0,
            2000,
            "each slot once, none left out: {slots:?}"
        );
    }
    for (slot, recorded) in &slots {
        assert_eq!(slot % 2000, 0);
        assert!(
            (recorded - slot).abs() <= 5000,
            "fired within 5 s of its slot: {slots:?}"
        );
    }
    let detail = wait_for_runs(&app, &id, slots.len() as i64).await;
    assert_eq!(
        detail["runCount"],
        slots.len() as i64,
        "nothing fired after disabling"
    );
    for run in detail["runs"].as_array().unwrap() {
        let sessions = run["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 1, "{run}");
        assert_eq!(sessions[0]["targetId"], target.as_str());
    }
}

#[actix_web::test]
async fn fires_once_per_slot_with_two_nodes_sqlite() {
    fires_once_per_slot_with_two_nodes(Backend::Sqlite).await;
}

#[actix_web::test]
async fn fires_once_per_slot_with_two_nodes_postgres() {
    fires_once_per_slot_with_two_nodes(Backend::Postgres).await;
}

#[actix_web::test]
async fn next_runs_crud_and_bad_input() {
    let (settings, dir) = fresh_settings(Backend::Sqlite).await.unwrap();
    let app = spawn_with(settings, dir, MockSettings::default()).await;
    let (target, scenario) = job_fixture(&app).await;
    let body = json!({"name": "noon", "scenarioId": scenario, "targetIds": [target],
        "cronExpression": "0 12 * * *", "timezone": "America/New_York", "missedRunPolicy": "runOnce"});
    let (status, created) = app.post("/api/scheduled-jobs", &body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["data"]["missedRunPolicy"], "runOnce");
    let id = created["data"]["id"].as_str().unwrap();
    let (_, detail) = app.get(&format!("/api/scheduled-jobs/{id}")).await;
    let next = detail["data"]["nextRuns"].as_array().unwrap();
    assert_eq!(next.len(), 5, "{detail}");
    for run in next {
        let local = chrono::DateTime::parse_from_rfc3339(run["local"].as_str().unwrap()).unwrap();
        let utc = chrono::DateTime::parse_from_rfc3339(run["utc"].as_str().unwrap()).unwrap();
        assert_eq!(local, utc, "same instant");
        assert_eq!(local.format("%H:%M").to_string(), "12:00");
        assert!([-4 * 3600, -5 * 3600].contains(&local.offset().local_minus_utc()));
    }
    let (_, list) = app.get("/api/scheduled-jobs").await;
    assert_eq!(list["data"][0]["id"], id);
    schedule_pages(&app, id).await;
    let missing = uuid::Uuid::now_v7().to_string();
    let cases = [
        ("cronExpression", json!("61 * * * *"), "cronExpression"),
        ("cronExpression", json!("* * *"), "cronExpression"),
        ("timezone", json!("Mars/Olympus"), "timezone"),
        ("targetIds", json!([]), "targetIds"),
        ("targetIds", json!([missing]), "targetIds[0]"),
        ("scenarioId", json!(missing), "scenarioId"),
        (
            "executionConfig",
            json!({"repetitions": "many"}),
            "executionConfig.repetitions",
        ),
    ];
    for (key, value, field) in cases {
        let mut bad = body.clone();
        bad[key] = value;
        let (status, resp) = app.post("/api/scheduled-jobs", &bad).await;
        assert_eq!(status, 400, "{resp}");
        assert_eq!(resp["details"][0]["field"], field, "{resp}");
    }
    let (status, resp) = app.put("/api/scheduled-jobs", &body).await;
    assert_eq!(
        (status, resp["details"][0]["field"].clone()),
        (400, json!("id"))
    );
    let (status, _) = app.delete(&format!("/api/scheduled-jobs?id={id}")).await;
    assert_eq!(status, 200);
    let (status, _) = app.get(&format!("/api/scheduled-jobs/{id}")).await;
    assert_eq!(status, 404);
}

async fn page(app: &TestApp, path: &str) -> String {
    let resp = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    resp.text().await.unwrap()
}

/// The list links the schedule; its page shows five next runs in New York time.
async fn schedule_pages(app: &TestApp, id: &str) {
    let list = page(app, "/schedules").await;
    assert!(list.contains(&format!("data-testid=\"schedule-row\" data-id=\"{id}\"")));
    let detail = page(app, &format!("/schedules/{id}")).await;
    assert_eq!(detail.matches(" 12:00:00 E").count(), 5, "{detail}");
    assert!(detail.contains("Not run yet."));
}
