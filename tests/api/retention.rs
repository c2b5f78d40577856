//! Retention with crypto-shredding: texts are stored sealed with the session's data key (the raw
//! event log never holds them); a session older than `retentionDays` loses its key and its texts
//! in the read models, the messages API and the events API (`SessionTextsShredded`), keeps its
//! metrics, and a rebuild reproduces the blanked read models; on SQLite and PostgreSQL.

use projections::queries;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};

const DAY_MS: i64 = 86_400_000;

/// The session and its messages as the read models hold them.
async fn read_models(app: &TestApp, session: &str) -> (Value, Value) {
    let pool = app.core.store.pool();
    let view = queries::get_session(pool, session).await.unwrap();
    let messages = queries::list_messages(pool, session, -1, 1_000)
        .await
        .unwrap();
    (json!(view), json!(messages))
}

async fn sweep(app: &TestApp, now_ms: i64) -> krawall::retention::RetentionRun {
    let core = &app.core;
    krawall::retention::sweep(&core.commands, core.store.pool(), &core.projections, now_ms)
        .await
        .unwrap()
}

/// Every raw payload of the session's stream as stored, and whether its data key still exists.
async fn raw(app: &TestApp, session: &str) -> (String, bool) {
    let pool = app.core.store.pool();
    let payloads: Vec<String> =
        sqlx::query_scalar("SELECT payload FROM events WHERE stream_id = $1 ORDER BY version")
            .bind(format!("session-{session}"))
            .fetch_all(pool)
            .await
            .unwrap();
    let keys: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM session_keys WHERE session_id = $1",
    )
    .bind(session.to_string())
    .fetch_one(pool)
    .await
    .unwrap();
    (payloads.join("\n"), keys == 1)
}

async fn events_body(app: &TestApp, session: &str) -> String {
    let (status, events) = app.get(&format!("/api/sessions/{session}/events")).await;
    assert_eq!(status, 200, "{events}");
    events.to_string()
}

/// A finished session before retention: (id, session view, messages, sent text, reply text).
async fn finished_session(app: &TestApp) -> (String, Value, Value, String, String) {
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    // The plan (frozen scenario) holds the template; the text sent exists only once rendered.
    let template = "retention check at {{timestamp}}";
    let session = app
        .execute(&json!({"targetId": target, "customMessages": [template, "second"]}))
        .await;
    app.wait_for_status(&session, &["COMPLETED"]).await;
    let (view, messages) = read_models(app, &session).await;
    let marker = messages[0]["request"].as_str().unwrap().to_string();
    assert!(marker.starts_with("retention check at 20"), "{marker}");
    let reply = messages[0]["response"].as_str().unwrap().to_string();
    assert!(!reply.is_empty());
    assert!(events_body(app, &session).await.contains(&marker));
    // Stored sealed: the raw event log never holds the text, the read models do.
    let (payloads, has_key) = raw(app, &session).await;
    assert!(has_key);
    assert!(!payloads.contains(&marker), "{payloads}");
    assert!(!payloads.contains(&reply), "{payloads}");
    assert!(payloads.contains("\"sealed\":\"k1:"), "{payloads}");
    (session, view, messages, marker, reply)
}

/// Retention is off, then on but the session is too recent: nothing is shredded.
async fn nothing_due(app: &TestApp) {
    assert_eq!(sweep(app, i64::MAX / 2).await.shredded_sessions, 0);
    let (status, resp) = app.put("/api/settings", &json!({"retentionDays": 1})).await;
    assert_eq!(status, 200, "{resp}");
    let (status, run) = app.post("/api/settings/retention/run", &json!({})).await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["data"]["retentionDays"], 1, "{run}");
    assert_eq!(run["data"]["shreddedSessions"], 0, "{run}");
}

/// Everything but the texts of the messages.
fn without_texts(mut messages: Value) -> Value {
    for m in messages.as_array_mut().unwrap() {
        m["request"] = Value::Null;
        m["response"] = Value::Null;
    }
    messages
}

async fn retention_removes_texts(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (session, view, messages, marker, reply) = finished_session(&app).await;
    nothing_due(&app).await;
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(sweep(&app, now + 2 * DAY_MS).await.shredded_sessions, 1);
    assert_eq!(sweep(&app, now + 2 * DAY_MS).await.shredded_sessions, 0);

    let (after_view, after_messages) = read_models(&app, &session).await;
    for m in after_messages.as_array().unwrap() {
        assert_eq!(
            (&m["request"], &m["response"]),
            (&json!(""), &json!("")),
            "{m}"
        );
    }
    let (_, api) = app.get(&format!("/api/sessions/{session}/messages")).await;
    assert!(!api.to_string().contains(&marker), "{api}");
    let events = events_body(&app, &session).await;
    assert!(
        !events.contains(&marker) && !events.contains(&reply),
        "{events}"
    );
    assert!(events.contains("SessionTextsShredded"), "{events}");
    let (payloads, has_key) = raw(&app, &session).await;
    assert!(!has_key, "the data key is destroyed");
    assert!(!payloads.contains(&marker), "{payloads}");
    // Metrics stay: everything but the texts is unchanged.
    assert_eq!(
        without_texts(after_messages.clone()),
        without_texts(messages)
    );
    assert_eq!(after_view["summary"], view["summary"]);
    assert_eq!(after_view["messageCount"], view["messageCount"]);

    projections::rebuild(&app.core.store, &projections::all_projections())
        .await
        .unwrap();
    assert_eq!(
        read_models(&app, &session).await,
        (after_view, after_messages)
    );
}

#[actix_web::test]
async fn retention_removes_texts_sqlite() {
    retention_removes_texts(Backend::Sqlite).await;
}

#[actix_web::test]
async fn retention_removes_texts_postgres() {
    retention_removes_texts(Backend::Postgres).await;
}
