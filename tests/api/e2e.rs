//! End to end per backend: target → scenario (loop + conditional) → execute → events → rows;
//! then a projection rebuild must reproduce identical read models; then crash recovery.

use actors::domain::events::{
    DomainEvent, ExchangeRef, MessageSent, SessionStarted, session_stream,
};
use actors::store::{AppendRequest, ExpectedVersion, NewEvent};
use projections::queries::{self, SessionFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, branching_scenario, fresh_settings, spawn_app, spawn_with};

async fn run_branching(app: &TestApp) -> String {
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let scenario = app.create("/api/scenarios", &branching_scenario()).await;
    let session = app
        .execute(&json!({"targetId": target, "scenarioId": scenario}))
        .await;
    let done = app
        .wait_for_status(&session, &["COMPLETED", "FAILED", "CANCELLED"])
        .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    session
}

async fn end_to_end(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let session = run_branching(&app).await;
    let types = app.event_types(&session).await;
    assert_eq!(types.first().map(String::as_str), Some("SessionQueued"));
    assert_eq!(types.get(1).map(String::as_str), Some("SessionStarted"));
    assert_eq!(types.last().map(String::as_str), Some("SessionCompleted"));
    // 2 repetitions × (1 + 2 loop + 1 conditional branch) = 8 exchanges, each sent then received.
    assert_eq!(
        types.iter().filter(|t| *t == "MessageSent").count(),
        8,
        "{types:?}"
    );
    assert_eq!(
        types.iter().filter(|t| *t == "ResponseReceived").count(),
        8,
        "{types:?}"
    );
    let (_, resp) = app.get(&format!("/api/sessions/{session}/messages")).await;
    let rows = resp["data"]["messages"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().all(|r| r["outcome"] == "ok"
        && r["tokensEstimated"] == false
        && r["tokensOut"].as_i64() > Some(0)));
    assert_eq!(rows[0]["request"], "Hello from rep 0");
    assert_eq!(rows[1]["request"], "Please elaborate on point 1");
    assert!(
        rows[3]["request"]
            .as_str()
            .unwrap()
            .starts_with("Summarize: "),
        "conditional took the then branch"
    );
    let (_, detail) = app.get(&format!("/api/sessions/{session}")).await;
    assert_eq!(detail["data"]["messageCount"], 8);
    assert_eq!(detail["data"]["summaryMetrics"]["messageCount"], 8);
}

#[actix_web::test]
async fn end_to_end_sqlite() {
    end_to_end(Backend::Sqlite).await;
}

#[actix_web::test]
async fn end_to_end_postgres() {
    end_to_end(Backend::Postgres).await;
}

/// Everything the read models hold, through the query API.
async fn dump(app: &TestApp) -> Value {
    let pool = app.core.store.pool();
    let filter = SessionFilter {
        limit: 10_000,
        ..Default::default()
    };
    let sessions = queries::list_sessions(pool, &filter).await.unwrap();
    let mut details = Vec::new();
    for s in &sessions.sessions {
        details.push(json!({
            "session": queries::get_session(pool, &s.id).await.unwrap(),
            "messages": queries::list_messages(pool, &s.id, -1, 10_000).await.unwrap(),
        }));
    }
    json!({
        "targets": queries::list_targets(pool, None).await.unwrap(),
        "scenarios": queries::list_scenarios(pool, None).await.unwrap(),
        "sessions": details,
    })
}

async fn rebuild_is_identical(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    run_branching(&app).await;
    let (_, failing) = app.post("/api/targets", &app.mock_target("/error")).await;
    let failing = failing["data"]["id"].as_str().unwrap().to_string();
    let s = app
        .execute(&json!({"targetId": failing, "customMessages": ["a", "b"]}))
        .await;
    app.wait_for_status(&s, &["COMPLETED"]).await;
    let before = dump(&app).await;
    assert_eq!(before["sessions"].as_array().unwrap().len(), 2);
    projections::rebuild(&app.core.store, &projections::all_projections())
        .await
        .unwrap();
    assert_eq!(dump(&app).await, before);
}

#[actix_web::test]
async fn rebuild_reproduces_read_models_sqlite() {
    rebuild_is_identical(Backend::Sqlite).await;
}

#[actix_web::test]
async fn rebuild_reproduces_read_models_postgres() {
    rebuild_is_identical(Backend::Postgres).await;
}

fn new_event(event: &DomainEvent) -> NewEvent {
    let (event_type, payload) = event.to_parts().unwrap();
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type,
        payload,
        metadata: json!({}),
    }
}

/// Runs a real session and returns a copy of its `SessionQueued` event re-addressed to `id`.
async fn queued_copy(app: &TestApp, target: &str, scenario: &str, id: Uuid) -> NewEvent {
    let s = app
        .execute(&json!({"targetId": target, "scenarioId": scenario, "repetitions": 1}))
        .await;
    app.wait_for_status(&s, &["COMPLETED"]).await;
    let events = app
        .core
        .store
        .read_stream(&session_stream(s.parse().unwrap()))
        .await
        .unwrap();
    let mut payload = events[0].payload.clone();
    payload["sessionId"] = json!(id);
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "SessionQueued".into(),
        payload,
        metadata: json!({}),
    }
}

/// Leaves one session "running" and one "queued" in the store, as a crash would.
async fn crash_leftovers(app: &TestApp) -> (String, String) {
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let scenario = app.create("/api/scenarios", &branching_scenario()).await;
    let store = &app.core.store;
    let (running, queued) = (Uuid::now_v7(), Uuid::now_v7());
    let started = DomainEvent::SessionStarted(SessionStarted {
        session_id: running,
        node_id: "dead-node".into(),
    });
    let sent = DomainEvent::MessageSent(MessageSent {
        context_messages: 0,
        context_tokens: 0,
        wait_ms: 0,
        backoff_ms: 0,
        exchange: ExchangeRef {
            session_id: running,
            message_index: 0,
            repetition_index: 0,
            attempt: 0,
        },
        content: "hi".into(),
        sealed: None,
    });
    let events = vec![
        queued_copy(app, &target, &scenario, running).await,
        new_event(&started),
        new_event(&sent),
    ];
    store
        .append(AppendRequest {
            stream_id: session_stream(running),
            expected: ExpectedVersion::NoStream,
            events,
        })
        .await
        .unwrap();
    let events = vec![queued_copy(app, &target, &scenario, queued).await];
    store
        .append(AppendRequest {
            stream_id: session_stream(queued),
            expected: ExpectedVersion::NoStream,
            events,
        })
        .await
        .unwrap();
    (running.to_string(), queued.to_string())
}

async fn recovery(backend: Backend) {
    let Some((settings, dir)) = fresh_settings(backend).await else {
        return;
    };
    let first = spawn_with(settings.clone(), dir, Default::default()).await;
    let (running, queued) = crash_leftovers(&first).await;
    // A second node on the same database recovers what the "crashed" one left behind.
    let second = spawn_with(settings, tempfile::tempdir().unwrap(), Default::default()).await;
    let failed = second.wait_for_status(&running, &["FAILED"]).await;
    assert_eq!(failed["failureReason"], "interrupted");
    let resumed = second.wait_for_status(&queued, &["COMPLETED"]).await;
    assert_eq!(resumed["messageCount"], 4);
    drop(first);
}

#[actix_web::test]
async fn unfinished_sessions_are_resumed_or_failed_sqlite() {
    recovery(Backend::Sqlite).await;
}

#[actix_web::test]
async fn unfinished_sessions_are_resumed_or_failed_postgres() {
    recovery(Backend::Postgres).await;
}
