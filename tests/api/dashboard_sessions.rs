//! Command center, sessions list and detail, metrics pages, and the global live feed
//! `GET /api/stream` (ids = positions, Last-Event-ID resume), on SQLite and PostgreSQL.

use std::time::Duration;

use futures_util::StreamExt;
use krawall::mock::MockSettings;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, fresh_settings, spawn_app, spawn_with};

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let resp = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    if status == 200 {
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
    (status, resp.text().await.unwrap())
}

/// Number of `data-testid="<id>"` occurrences.
fn count(html: &str, testid: &str) -> usize {
    html.matches(&format!("data-testid=\"{testid}\"")).count()
}

async fn slow_app(backend: Backend, latency_ms: u64) -> Option<TestApp> {
    let (settings, dir) = fresh_settings(backend).await?;
    Some(
        spawn_with(
            settings,
            dir,
            MockSettings {
                latency_ms,
                ..MockSettings::default()
            },
        )
        .await,
    )
}

async fn fresh_install_shows_empty_states(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (status, home) = page(&app, "/").await;
    assert_eq!(status, 200);
    assert!(
        home.contains("Create your first target") && home.contains("href=\"/targets/new\""),
        "{home}"
    );
    assert!(home.contains("krawall serve --demo") && home.contains("href=\"/health\""));
    assert_eq!(count(&home, "empty-state"), 1);
    assert_eq!(count(&home, "running-row"), 0);
    let (status, sessions) = page(&app, "/sessions").await;
    assert_eq!(status, 200);
    assert_eq!(count(&sessions, "sessions-empty"), 1, "{sessions}");
    let (status, metrics) = page(&app, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(count(&metrics, "metrics-empty"), 1, "{metrics}");
    for js in ["home", "session-live", "replay", "charts"] {
        let resp = app
            .client
            .get(format!("{}/assets/js/{js}.js", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{js}.js");
    }
}

#[actix_web::test]
async fn fresh_install_shows_empty_states_sqlite() {
    fresh_install_shows_empty_states(Backend::Sqlite).await;
}

#[actix_web::test]
async fn fresh_install_shows_empty_states_postgres() {
    fresh_install_shows_empty_states(Backend::Postgres).await;
}

/// Fails with the page when `needle` is missing.
fn has(html: &str, needle: &str) {
    assert!(html.contains(needle), "missing {needle:?} in {html}");
}

/// A target and an 8-message scenario against the slow mock; returns (target, session).
async fn start_session(app: &TestApp) -> (String, String) {
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let steps: Vec<Value> = (0..8)
        .map(|i| json!({"type": "message", "config": {"content": format!("question {i}")}}))
        .collect();
    let scenario = app
        .create(
            "/api/scenarios",
            &json!({"name": "dash scenario", "flowConfig": steps}),
        )
        .await;
    let session = app
        .execute(&json!({"targetId": target, "scenarioId": scenario}))
        .await;
    (target, session)
}

async fn assert_running_pages(app: &TestApp, session: &str) {
    let (_, home) = page(app, "/").await;
    assert_eq!(count(&home, "empty-state"), 0);
    has(
        &home,
        &format!("data-testid=\"running-row\" data-session-id=\"{session}\""),
    );
    has(&home, "data-testid=\"quick-execute\"");
    has(&home, "dash scenario");
    let (_, detail) = page(app, &format!("/sessions/{session}")).await;
    has(&detail, "data-status=\"RUNNING\"");
    has(&detail, "data-testid=\"live-log\"");
}

async fn assert_completed_pages(app: &TestApp, session: &str, target: &str) {
    let (_, home) = page(app, "/").await;
    assert_eq!(count(&home, "running-row"), 0);
    has(
        &home,
        &format!(
            "data-testid=\"activity-item\" data-session-id=\"{session}\"><span class=\"badge COMPLETED\""
        ),
    );
    has(&home, "data-testid=\"stat-sessions\" data-value=\"1\"");
    has(&home, "data-testid=\"stat-messages-24h\" data-value=\"8\"");
    has(
        &home,
        "data-testid=\"stat-error-rate\" data-messages=\"8\" data-errors=\"0\"",
    );
    let (_, list) = page(app, "/sessions?status=completed").await;
    has(
        &list,
        &format!("data-session-id=\"{session}\" data-status=\"COMPLETED\""),
    );
    let (_, running) = page(app, "/sessions?status=RUNNING").await;
    assert_eq!(count(&running, "session-row"), 0);
    let (_, by_target) = page(app, &format!("/sessions?target={target}")).await;
    assert_eq!(count(&by_target, "session-row"), 1);
    let (status, detail) = page(app, &format!("/sessions/{session}")).await;
    assert_eq!(status, 200);
    for needle in [
        "data-status=\"COMPLETED\"",
        "dash scenario",
        "data-testid=\"session-messages\">8<",
        "data-testid=\"tab-replay\"",
        "/assets/js/replay.js",
    ] {
        has(&detail, needle);
    }
    assert!(
        !detail.contains("data-testid=\"session-p95\">–<"),
        "the summary has p95: {detail}"
    );
    let (_, metrics) = page(app, "/metrics?range=24h").await;
    has(
        &metrics,
        &format!("data-testid=\"metrics-row\" data-session-id=\"{session}\""),
    );
    has(&metrics, "data-testid=\"metrics-sessions\">1<");
    has(&metrics, "id=\"metrics-data\"");
}

async fn running_then_completed_session_is_shown(backend: Backend) {
    let Some(app) = slow_app(backend, 150).await else {
        return;
    };
    let (target, session) = start_session(&app).await;
    app.wait_for_status(&session, &["RUNNING"]).await;
    assert_running_pages(&app, &session).await;
    app.wait_for_status(&session, &["COMPLETED"]).await;
    assert_completed_pages(&app, &session, &target).await;
}

#[actix_web::test]
async fn running_then_completed_session_is_shown_sqlite() {
    running_then_completed_session_is_shown(Backend::Sqlite).await;
}

#[actix_web::test]
async fn running_then_completed_session_is_shown_postgres() {
    running_then_completed_session_is_shown(Backend::Postgres).await;
}

#[actix_web::test]
async fn sessions_are_paged_with_totals() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let mut ids = Vec::new();
    for i in 0..120 {
        ids.push(
            app.execute(&json!({"targetId": target, "customMessages": [format!("m{i}")]}))
                .await,
        );
    }
    for _ in 0..600 {
        let (_, resp) = app.get("/api/sessions?status=COMPLETED&limit=1").await;
        if resp["data"]["total"] == 120 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, html) = page(&app, "/sessions?page=3").await;
    assert_eq!(status, 200);
    assert!(html.contains("120 sessions, showing 101–120"), "{html}");
    assert_eq!(count(&html, "session-row"), 20);
    assert!(
        html.contains("data-testid=\"page-current\">3<")
            && html.contains("href=\"/sessions?page=2\" rel=\"prev\""),
        "{html}"
    );
    assert_eq!(count(&html, "page-next"), 0);
    // Newest first: page 3 holds the 20 oldest sessions.
    assert!(
        html.contains(&format!("data-session-id=\"{}\"", ids[0]))
            && !html.contains(&format!("data-session-id=\"{}\"", ids[119]))
    );
    let (_, first) = page(&app, "/sessions?status=COMPLETED").await;
    assert_eq!(count(&first, "session-row"), 50);
    assert!(
        first.contains("href=\"/sessions?status=COMPLETED&amp;page=2\" rel=\"next\"")
            || first.contains("href=\"/sessions?status=COMPLETED&page=2\" rel=\"next\""),
        "{first}"
    );
    let (_, beyond) = page(&app, "/sessions?page=9").await;
    assert_eq!(count(&beyond, "sessions-empty"), 1);
    let (_, junk) = page(&app, "/sessions?page=abc&status=nope").await;
    assert_eq!(count(&junk, "session-row"), 50);
    let (_, home) = page(&app, "/").await;
    assert!(
        home.contains("data-testid=\"stat-sessions\" data-value=\"120\""),
        "{home}"
    );
    assert!(home.contains("data-testid=\"stat-sessions-24h\" data-value=\"120\""));
    assert_eq!(count(&home, "activity-item"), 10);
}

#[actix_web::test]
async fn unknown_session_is_a_404_page() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    for path in [
        format!("/sessions/{}", uuid::Uuid::now_v7()),
        "/sessions/not-a-uuid".to_string(),
    ] {
        let (status, html) = page(&app, &path).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("session not found"), "{html}");
    }
}

/// Reads `GET /api/stream` frames until `stop` holds for one; returns (id, event name, payload).
async fn read_global(
    app: &TestApp,
    query: &str,
    last_event_id: Option<i64>,
    stop: impl Fn(&Value) -> bool,
) -> Frames {
    let mut req = app.client.get(format!("{}/api/stream{query}", app.address));
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id.to_string());
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.bytes_stream();
    let (mut buf, mut out) = (String::new(), Vec::new());
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(20), body.next())
        .await
        .expect("feed stalled")
    {
        buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let field = |name: &str| {
                frame
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(str::to_string)
            };
            if let (Some(id), Some(event), Some(data)) =
                (field("id: "), field("event: "), field("data: "))
            {
                let data: Value = serde_json::from_str(&data).unwrap();
                let done = stop(&data);
                out.push((id.parse().unwrap(), event, data));
                if done {
                    return out;
                }
            }
        }
    }
    panic!("stream closed");
}

async fn global_stream_delivers_and_resumes(backend: Backend) {
    let Some(app) = slow_app(backend, 20).await else {
        return;
    };
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    // Connect first (from the current head), then execute: the feed shows the new session live.
    let app_ref = &app;
    let reader = read_global(app_ref, "", None, |e| e["type"] == "SessionCompleted");
    let execute = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app_ref
            .execute(&json!({"targetId": target, "customMessages": ["a", "b", "c"]}))
            .await
    };
    let (live, session) = tokio::join!(reader, execute);
    let session_stream = format!("session-{session}");
    assert!(
        live.iter()
            .all(|(id, _, e)| *id == e["position"].as_i64().unwrap()),
        "id = position"
    );
    assert!(live.windows(2).all(|w| w[0].0 < w[1].0), "in order");
    assert!(
        live.iter()
            .all(|(_, event, e)| event == "session" && e["streamId"] == session_stream.as_str()),
        "{live:?}"
    );
    assert_eq!(live.first().unwrap().2["type"], "SessionQueued");
    assert_eq!(
        live.iter()
            .filter(|(_, _, e)| e["type"] == "ResponseReceived")
            .count(),
        3
    );
    assert!(
        live.iter()
            .any(|(_, _, e)| e["data"]["content"].is_string()),
        "full payloads by default"
    );
    resume_and_filters(&app, &live).await;
}

type Frames = Vec<(i64, String, Value)>;

/// Last-Event-ID resume, the `lastEventId` parameter, `kind` and `compact`, over the frames of
/// one session seen live.
async fn resume_and_filters(app: &TestApp, live: &Frames) {
    // Resume after the third event: exactly what followed it.
    let resumed = read_global(app, "", Some(live[2].0), |e| {
        e["type"] == "SessionCompleted"
    })
    .await;
    assert_eq!(
        resumed.iter().map(|r| r.0).collect::<Vec<_>>(),
        live[3..].iter().map(|r| r.0).collect::<Vec<_>>()
    );
    // Query parameter, kind filter and compact payloads.
    let compact = read_global(
        app,
        &format!("?kind=session&compact=true&lastEventId={}", live[0].0 - 1),
        None,
        |e| e["type"] == "SessionCompleted",
    )
    .await;
    assert_eq!(compact.len(), live.len());
    assert!(
        compact
            .iter()
            .all(|(_, _, e)| e["data"].get("content").is_none())
    );
    assert_eq!(compact[0].2["data"]["target"]["name"], "mock");
    let targets = read_global(app, "?kind=target&lastEventId=0", None, |_| true).await;
    assert_eq!(targets[0].1, "target");
    let (status, _) = app.get("/api/stream?kind=nope").await;
    assert_eq!(status, 400);
}

#[actix_web::test]
async fn global_stream_delivers_and_resumes_sqlite() {
    global_stream_delivers_and_resumes(Backend::Sqlite).await;
}

#[actix_web::test]
async fn global_stream_delivers_and_resumes_postgres() {
    global_stream_delivers_and_resumes(Backend::Postgres).await;
}
