//! The live session feed: SSE events carry their global position as `id:`, resume with
//! `Last-Event-ID` without gaps or duplicates, and end after the terminal event.

use futures_util::StreamExt;
use krawall::mock::MockSettings;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, fresh_settings, spawn_with};

/// Reads SSE frames until `event: end`; returns (id, payload) of each `session` event.
async fn read_feed(app: &TestApp, session: &str, last_event_id: Option<i64>) -> Vec<(i64, Value)> {
    let mut req = app
        .client
        .get(format!("{}/api/sessions/{session}/stream", app.address));
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id.to_string());
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    assert_eq!(resp.headers()["x-accel-buffering"], "no");
    let mut body = resp.bytes_stream();
    let (mut buf, mut out) = (String::new(), Vec::new());
    while let Some(chunk) = tokio::time::timeout(std::time::Duration::from_secs(20), body.next())
        .await
        .expect("feed stalled")
    {
        buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            if frame.contains("event: end") {
                return out;
            }
            let id = frame
                .lines()
                .find_map(|l| l.strip_prefix("id: "))
                .map(|v| v.parse().unwrap());
            let data = frame.lines().find_map(|l| l.strip_prefix("data: "));
            if let (Some(id), Some(data)) = (id, data) {
                out.push((id, serde_json::from_str(data).unwrap()));
            }
        }
    }
    panic!("stream closed before the end event");
}

#[actix_web::test]
async fn live_feed_delivers_every_event_once_and_resumes() {
    let (settings, dir) = fresh_settings(Backend::Sqlite).await.unwrap();
    let app = spawn_with(
        settings,
        dir,
        MockSettings {
            latency_ms: 40,
            ..MockSettings::default()
        },
    )
    .await;
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let session = app
        .execute(&json!({"targetId": target, "customMessages": ["a", "b", "c", "d"]}))
        .await;
    // Connected while the session runs: history first, then live events.
    let live = read_feed(&app, &session, None).await;
    let versions: Vec<i64> = live
        .iter()
        .map(|(_, e)| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(
        versions,
        (1..=versions.len() as i64).collect::<Vec<_>>(),
        "no gaps, no duplicates"
    );
    assert!(
        live.iter()
            .all(|(id, e)| *id == e["position"].as_i64().unwrap()),
        "id is the global position"
    );
    assert_eq!(live.first().unwrap().1["type"], "SessionQueued");
    assert_eq!(live.last().unwrap().1["type"], "SessionCompleted");
    assert_eq!(
        live.iter()
            .filter(|(_, e)| e["type"] == "ResponseReceived")
            .count(),
        4
    );

    // Reconnect after the third event: only what came after it.
    let resume_from = live[2].0;
    let resumed = read_feed(&app, &session, Some(resume_from)).await;
    assert_eq!(resumed.first().unwrap().0, live[3].0);
    assert_eq!(resumed.len(), live.len() - 3);
    let (status, _) = app
        .get(&format!("/api/sessions/{}/stream", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(status, 404);
}
