//! `GET /api/health` and `/health` report parked (undecodable) events, and the read models keep
//! moving past them.

use actors::domain::events::session_stream;
use actors::store::{AppendRequest, ExpectedVersion, NewEvent};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Backend, spawn_app};

/// `/api/health` once the read models have no lag (audit entries of the last write may still be
/// projecting: the read models catch up past the poison event).
async fn caught_up_health(app: &crate::helpers::TestApp) -> (u16, serde_json::Value) {
    let mut health = app.get("/api/health").await;
    for _ in 0..100 {
        if health.1["data"]["readModelLag"] == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        health = app.get("/api/health").await;
    }
    health
}

/// The `/health` page lists the parked event.
async fn assert_health_page(app: &crate::helpers::TestApp, stream: &str) {
    let html = app
        .client
        .get(format!("{}/health", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Latest parked events") && html.contains(stream),
        "{html}"
    );
}

async fn poison_event_is_parked(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let stream = session_stream(Uuid::new_v4());
    let corrupt = NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "ResponseReceived".into(),
        payload: json!({"nonsense": 1}),
        metadata: json!({}),
    };
    let request = AppendRequest {
        stream_id: stream.clone(),
        expected: ExpectedVersion::NoStream,
        events: vec![corrupt],
    };
    let parked_at = app.core.store.append(request).await.unwrap().last_position;
    // A write after the poison event: the API waits until the read models include it.
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let (status, body) = app.get(&format!("/api/targets/{target}")).await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = caught_up_health(&app).await;
    assert_eq!(status, 200, "{body}");
    let parked = &body["data"]["parkedEvents"];
    assert_eq!(parked["count"], 1, "{body}");
    let latest = &parked["latest"][0];
    assert_eq!(latest["position"], parked_at);
    assert_eq!(latest["streamId"], stream.as_str());
    assert_eq!(latest["eventType"], "ResponseReceived");
    assert_eq!(
        latest["projections"].as_array().unwrap().len(),
        projections::all_projections().len(),
        "{body}"
    );
    assert!(latest["error"].as_str().unwrap().contains("missing field"));
    assert_eq!(body["data"]["readModelLag"], 0, "{body}");

    assert_health_page(&app, &stream).await;
}

#[actix_web::test]
async fn poison_event_is_parked_and_reported_sqlite() {
    poison_event_is_parked(Backend::Sqlite).await;
}

#[actix_web::test]
async fn poison_event_is_parked_and_reported_postgres() {
    poison_event_is_parked(Backend::Postgres).await;
}
