//! The same 3-turn scenario executed through `POST /api/execute` against an HTTP, a WebSocket, an
//! SSE and a gRPC target (all served by the in-process mock), each completing with per-message rows.

use actors::domain::presets::MOCK_PROTO;
use krawall::mock::{MockSettings, start_grpc_mock};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};

pub(crate) fn targets(app: &TestApp, grpc_endpoint: &str) -> Vec<(&'static str, Value)> {
    let ws = app.mock.url().replacen("http://", "ws://", 1);
    vec![
        ("HTTP_REST", app.mock_target("/v1/chat/completions")),
        (
            "WEBSOCKET",
            json!({
                "name": "ws", "connectorType": "WEBSOCKET", "endpoint": format!("{ws}/ws"), "authType": "BEARER_TOKEN",
                "authConfig": {"token": "ws-secret"},
                "requestTemplate": {"messagePath": "message", "structure": {"message": "{{message}}"}},
                "responseTemplate": {"responsePath": "data.content", "tokenUsagePath": "usage"},
                "protocolConfig": {"idPath": "id"}
            }),
        ),
        (
            "SSE",
            json!({
                "name": "sse", "connectorType": "SSE", "endpoint": format!("{}/v1/chat/completions", app.mock.url()), "authType": "NONE",
                "requestTemplate": {"messagePath": "messages.0.content", "structure": {"model": "m", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": ""}]}},
                "responseTemplate": {"responsePath": "choices.0.delta.content", "tokenUsagePath": "usage"}
            }),
        ),
        (
            "GRPC",
            json!({
                "name": "grpc", "connectorType": "GRPC", "endpoint": grpc_endpoint, "authType": "NONE",
                "requestTemplate": {"messagePath": "message", "structure": {"message": ""}},
                "responseTemplate": {"responsePath": "content", "tokenUsagePath": "usage"},
                "protocolConfig": {"protoContent": MOCK_PROTO, "packageName": "krawall.mock.v1", "serviceName": "ChatService", "methodName": "SendMessage"}
            }),
        ),
    ]
}

#[actix_web::test]
async fn the_same_scenario_runs_over_all_four_protocols() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let grpc = start_grpc_mock(
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        MockSettings::default(),
    )
    .await
    .unwrap();
    let scenario = app
        .create(
            "/api/scenarios",
            &json!({"name": "three turns", "flowConfig": [
                {"type": "message", "config": {"content": "Hello, who are you?"}},
                {"type": "message", "config": {"content": "Please elaborate on that."}},
                {"type": "message", "config": {"content": "Summarize: {{lastResponse}}"}}
            ]}),
        )
        .await;
    for (kind, body) in targets(&app, &grpc.endpoint()) {
        let (status, created) = app.post("/api/targets", &body).await;
        assert_eq!(status, 201, "{kind}: {created}");
        let target = created["data"]["id"].as_str().unwrap().to_string();
        let session = app
            .execute(&json!({"targetId": target, "scenarioId": scenario}))
            .await;
        let done = app
            .wait_for_status(&session, &["COMPLETED", "FAILED", "CANCELLED"])
            .await;
        assert_eq!(done["status"], "COMPLETED", "{kind}: {done}");
        let (_, rows) = app.get(&format!("/api/sessions/{session}/messages")).await;
        let rows = rows["data"]["messages"].as_array().unwrap().clone();
        assert_eq!(rows.len(), 3, "{kind}: {rows:?}");
        assert!(
            rows.iter()
                .all(|r| r["outcome"] == "ok" && !r["response"].as_str().unwrap().is_empty()),
            "{kind}: {rows:?}"
        );
        assert!(
            rows.iter().all(|r| r["tokensEstimated"] == false),
            "{kind}: tokens come from the protocol's usage: {rows:?}"
        );
        if kind == "SSE" {
            assert!(
                rows.iter()
                    .all(|r| r["ttftMs"].as_i64().is_some() && r["chunkCount"].as_i64() > Some(1)),
                "{rows:?}"
            );
        }
    }
    let mut bad = targets(&app, &grpc.endpoint()).remove(3).1;
    bad["protocolConfig"]["methodName"] = json!("Nope");
    let (status, resp) = app.post("/api/targets", &bad).await;
    assert_eq!(status, 400, "{resp}");
    assert_eq!(resp["details"][0]["field"], "protocolConfig.methodName");
    grpc.stop().await;
}
