//! Node settings: GET/PUT /api/settings (partial update, 400 naming the field, stored as
//! `SettingsUpdated`), and the defaults taking effect on new sessions and new webhooks; on SQLite
//! and PostgreSQL.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};

async fn settings(app: &TestApp) -> Value {
    let (status, resp) = app.get("/api/settings").await;
    assert_eq!(status, 200, "{resp}");
    resp["data"].clone()
}

/// The `SessionQueued` payload of a session (its frozen plan).
async fn plan(app: &TestApp, session: &str) -> Value {
    let (status, events) = app.get(&format!("/api/sessions/{session}/events")).await;
    assert_eq!(status, 200, "{events}");
    assert_eq!(events["data"][0]["type"], "SessionQueued");
    events["data"][0]["data"].clone()
}

async fn partial_updates(app: &TestApp) {
    let fresh = settings(app).await;
    assert_eq!(fresh["retentionDays"], Value::Null, "{fresh}");
    assert_eq!(fresh["updatedAtMs"], Value::Null, "{fresh}");
    let (status, resp) = app
        .put(
            "/api/settings",
            &json!({"messageTimeoutMs": 4321, "rateLimit": {"requestsPerSecond": 50},
                "retentionDays": 30, "webhookRetry": {"maxAttempts": 2, "initialDelayMs": 10}}),
        )
        .await;
    assert_eq!(status, 200, "{resp}");
    let (status, resp) = app.put("/api/settings", &json!({"retentionDays": 7})).await;
    assert_eq!(status, 200, "{resp}");
    let now = settings(app).await;
    assert_eq!(now["retentionDays"], 7, "{now}");
    assert_eq!(now["messageTimeoutMs"], 4321, "{now}");
    assert_eq!(now["rateLimit"]["requestsPerSecond"], 50.0, "{now}");
    assert_eq!(now["webhookRetry"]["maxAttempts"], 2, "{now}");
    assert_eq!(now["webhookRetry"]["multiplier"], 4.0, "{now}");
    assert!(now["updatedAtMs"].as_i64().is_some(), "{now}");
}

async fn defaults_take_effect(app: &TestApp) {
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let session = app
        .execute(&json!({"targetId": target, "executionConfig": {"customMessages": ["hi"]}}))
        .await;
    let frozen = plan(app, &session).await;
    assert_eq!(frozen["scenario"]["messageTimeoutMs"], 4321, "{frozen}");
    assert_eq!(frozen["target"]["rateLimit"]["requestsPerSecond"], 50.0);
    let own = app
        .execute(&json!({"targetId": target, "executionConfig":
            {"customMessages": ["hi"], "messageTimeoutMs": 30000}}))
        .await;
    assert_eq!(plan(app, &own).await["scenario"]["messageTimeoutMs"], 30000);
    app.wait_for_status(&session, &["COMPLETED"]).await;
    app.wait_for_status(&own, &["COMPLETED"]).await;

    let hook = json!({"url": "http://127.0.0.1:9/hook", "events": ["session.completed"]});
    let (status, created) = app.post("/api/webhooks", &hook).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["data"]["retry"]["maxAttempts"], 2, "{created}");
    assert_eq!(created["data"]["retry"]["initialDelayMs"], 10, "{created}");
}

async fn settings_round_trip(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    partial_updates(&app).await;
    defaults_take_effect(&app).await;
    let events: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM events WHERE stream_id = 'node-settings' ORDER BY version",
    )
    .fetch_all(app.core.store.pool())
    .await
    .unwrap();
    assert_eq!(events, ["SettingsUpdated", "SettingsUpdated"]);
    let page = app
        .client
        .get(format!("{}/settings", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("data-testid=\"settings-form\""), "{page}");
    assert!(page.contains("value=\"4321\""), "{page}");
    assert!(page.contains("href=\"/settings/pricing\""), "{page}");
}

#[actix_web::test]
async fn settings_round_trip_sqlite() {
    settings_round_trip(Backend::Sqlite).await;
}

#[actix_web::test]
async fn settings_round_trip_postgres() {
    settings_round_trip(Backend::Postgres).await;
}

#[actix_web::test]
async fn bad_settings_name_the_field_and_change_nothing() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    for (body, field) in [
        (json!({"messageTimeoutMs": 5}), "messageTimeoutMs"),
        (json!({"retentionDays": 0}), "retentionDays"),
        (
            json!({"rateLimit": {"requestsPerSecond": -1}}),
            "rateLimit.requestsPerSecond",
        ),
        (
            json!({"webhookRetry": {"multiplier": 0.5}}),
            "webhookRetry.multiplier",
        ),
        (json!({"retentionDays": "ten"}), "retentionDays"),
        (json!({"retention": 3}), "retention"),
    ] {
        let (status, resp) = app.put("/api/settings", &body).await;
        assert_eq!(status, 400, "{body} → {resp}");
        assert_eq!(resp["details"][0]["field"], field, "{body} → {resp}");
    }
    assert_eq!(settings(&app).await["updatedAtMs"], Value::Null);
}
