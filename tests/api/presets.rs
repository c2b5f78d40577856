//! Presets and test connection: a target from a preset needs only the secret; the test endpoints
//! report each step and the raw reply, and record the outcome on the target.

use serde_json::json;

use crate::helpers::{Backend, spawn_app};

#[actix_web::test]
async fn presets_are_listed_and_a_target_from_one_needs_only_the_secret() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (status, presets) = app.get("/api/presets").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = presets["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    for id in [
        "openai-chat",
        "anthropic-messages",
        "google-gemini",
        "azure-openai",
        "ollama",
        "custom-http",
        "custom-websocket",
        "custom-grpc",
        "openai-chat-stream",
        "anthropic-messages-stream",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }

    let (status, created) = app
        .post(
            "/api/targets",
            &json!({"presetId": "openai-chat", "authConfig": {"token": "sk-preset-secret"}}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let t = &created["data"];
    assert_eq!(t["endpoint"], "https://api.openai.com/v1/chat/completions");
    assert_eq!(t["authType"], "BEARER_TOKEN");
    assert_eq!(t["presetId"], "openai-chat");
    assert_eq!(t["authConfig"]["token"], "********");

    let (status, resp) = app
        .post("/api/targets", &json!({"presetId": "openai-chat"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(resp["details"][0]["field"], "authConfig.token");
    let (status, resp) = app
        .post(
            "/api/targets",
            &json!({"presetId": "nope", "authConfig": {}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(resp["details"][0]["field"], "presetId");
}

#[actix_web::test]
async fn test_connection_reports_steps_and_records_the_outcome() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let endpoint = format!("{}/v1/chat/completions", app.mock.url());
    let (_, created) = app.post("/api/targets", &json!({"presetId": "openai-chat", "endpoint": endpoint, "authConfig": {"token": "sk-x"}})).await;
    let id = created["data"]["id"].as_str().unwrap().to_string();
    let (status, resp) = app
        .post(
            &format!("/api/targets/{id}/test"),
            &json!({"testMessage": "ping?"}),
        )
        .await;
    assert_eq!(status, 200, "{resp}");
    let r = &resp["data"];
    assert_eq!(r["success"], true, "{r}");
    assert!(!r["testResponse"].as_str().unwrap().is_empty());
    assert!(r["rawResponse"].as_str().unwrap().contains("choices"));
    assert_eq!(r["connectorType"], "HTTP_REST");
    let (_, target) = app.get(&format!("/api/targets/{id}")).await;
    assert_eq!(target["data"]["lastTestSuccess"], true);

    let body = app
        .client
        .get(format!("{}/api/targets/{id}/test/stream", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(body.headers()["content-type"], "text/event-stream");
    let text = body.text().await.unwrap();
    for event in ["event: step", "event: raw_response", "event: result"] {
        assert!(text.contains(event), "{event} missing in {text}");
    }

    let mut broken = app.mock_target("/error");
    broken["name"] = json!("broken");
    let broken = app.create("/api/targets", &broken).await;
    let (_, resp) = app
        .post(&format!("/api/targets/{broken}/test"), &json!({}))
        .await;
    assert_eq!(resp["data"]["success"], false);
    assert!(
        resp["data"]["error"]
            .as_str()
            .unwrap()
            .starts_with("http_status"),
        "{resp}"
    );
    let (_, target) = app.get(&format!("/api/targets/{broken}")).await;
    assert_eq!(target["data"]["lastTestSuccess"], false);
    let (status, _) = app
        .post(
            &format!("/api/targets/{broken}/test"),
            &json!({"timeoutMs": 5}),
        )
        .await;
    assert_eq!(status, 400);
}
