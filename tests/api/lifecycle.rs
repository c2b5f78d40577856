//! Session lifecycle over the API: cancel aborts in-flight requests and is final, timeouts and
//! 429s are classified, retries honour the policy, restart/delete, list filters and pagination.

use std::time::Instant;

use serde_json::json;

use crate::helpers::{Backend, spawn_app};

#[actix_web::test]
async fn cancel_aborts_the_in_flight_request_and_is_final() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let target = app
        .create("/api/targets", &app.mock_target("/timeout"))
        .await;
    let s = app.execute(&json!({"targetId": target, "customMessages": ["hang", "never sent"], "messageTimeoutMs": 120000})).await;
    app.wait_for_status(&s, &["RUNNING"]).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let started = Instant::now();
    let (status, resp) = app
        .patch(&format!("/api/sessions/{s}"), &json!({"action": "cancel"}))
        .await;
    assert_eq!(status, 200, "{resp}");
    let done = app
        .wait_for_status(&s, &["CANCELLED", "COMPLETED", "FAILED"])
        .await;
    assert_eq!(done["status"], "CANCELLED");
    assert!(
        started.elapsed().as_secs() < 10,
        "the hanging request was aborted, not awaited"
    );
    let types = app.event_types(&s).await;
    assert_eq!(types.last().unwrap(), "SessionCancelled");
    assert_eq!(types.iter().filter(|t| *t == "MessageSent").count(), 1);
    let (_, rows) = app.get(&format!("/api/sessions/{s}/messages")).await;
    assert_eq!(rows["data"]["messages"][0]["outcome"], "cancelled");
    // No status overwrite afterwards, and a second cancel is refused.
    let (status, _) = app
        .patch(&format!("/api/sessions/{s}"), &json!({"action": "cancel"}))
        .await;
    assert_eq!(status, 409);
    let (_, detail) = app.get(&format!("/api/sessions/{s}")).await;
    assert_eq!(detail["data"]["status"], "CANCELLED");
}

#[actix_web::test]
async fn timeouts_and_http_errors_are_classified() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let slow = app
        .create("/api/targets", &app.mock_target("/timeout"))
        .await;
    let s = app
        .execute(&json!({"targetId": slow, "customMessages": ["a"], "messageTimeoutMs": 300}))
        .await;
    let done = app.wait_for_status(&s, &["COMPLETED"]).await;
    assert_eq!(done["errorCount"], 1);
    let (_, rows) = app.get(&format!("/api/sessions/{s}/messages")).await;
    assert_eq!(rows["data"]["messages"][0]["errorKind"], "timeout");

    let mut broken = app.mock_target("/error");
    broken["name"] = json!("broken");
    let broken = app.create("/api/targets", &broken).await;
    let s = app
        .execute(&json!({"targetId": broken, "customMessages": ["a"]}))
        .await;
    app.wait_for_status(&s, &["COMPLETED"]).await;
    let (_, rows) = app.get(&format!("/api/sessions/{s}/messages")).await;
    assert_eq!(rows["data"]["messages"][0]["errorKind"], "http_status");
    assert_eq!(rows["data"]["messages"][0]["httpStatus"], 500);
}

#[actix_web::test]
async fn abort_policy_fails_the_session() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let broken = app.create("/api/targets", &app.mock_target("/error")).await;
    let scenario = app.create("/api/scenarios", &json!({
        "name": "abort", "errorHandling": {"onError": "abort"},
        "flowConfig": [{"type": "message", "config": {"content": "a"}}, {"type": "message", "config": {"content": "b"}}]
    })).await;
    let s = app
        .execute(&json!({"targetId": broken, "scenarioId": scenario}))
        .await;
    let done = app.wait_for_status(&s, &["FAILED", "COMPLETED"]).await;
    assert_eq!(done["status"], "FAILED");
    assert_eq!(done["failureReason"], "aborted");
    assert_eq!(
        app.event_types(&s)
            .await
            .iter()
            .filter(|t| *t == "MessageSent")
            .count(),
        1
    );
}

#[actix_web::test]
async fn rate_limits_are_retried_after_retry_after() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut body = app.mock_target("/v1/chat/completions");
    body["protocolConfig"] = json!({"persona": "rate-limited"});
    let target = app.create("/api/targets", &body).await;
    let scenario = app.create("/api/scenarios", &json!({
        "name": "retry", "errorHandling": {"onError": "skip", "retryConfig": {"maxRetries": 2, "delayMs": 10, "backoffMultiplier": 2, "maxDelayMs": 5000},
            "statusCodeRules": [{"codes": [429], "action": "retry"}]},
        "flowConfig": [{"type": "message", "config": {"content": "a"}}, {"type": "message", "config": {"content": "b"}}, {"type": "message", "config": {"content": "c"}}]
    })).await;
    let s = app
        .execute(&json!({"targetId": target, "scenarioId": scenario}))
        .await;
    let done = app.wait_for_status(&s, &["COMPLETED", "FAILED"]).await;
    assert_eq!(done["status"], "COMPLETED");
    let (_, rows) = app.get(&format!("/api/sessions/{s}/messages")).await;
    let rows = rows["data"]["messages"].as_array().unwrap().clone();
    let limited: Vec<_> = rows
        .iter()
        .filter(|r| r["errorKind"] == "rate_limited")
        .collect();
    assert_eq!(limited.len(), 1, "{rows:?}");
    assert_eq!(limited[0]["action"], "retry");
    let retried = rows
        .iter()
        .find(|r| r["messageIndex"] == limited[0]["messageIndex"] && r["attempt"] == 1)
        .unwrap();
    assert_eq!(retried["outcome"], "ok");
    let gap = chrono::DateTime::parse_from_rfc3339(retried["sentAt"].as_str().unwrap()).unwrap()
        - chrono::DateTime::parse_from_rfc3339(limited[0]["receivedAt"].as_str().unwrap()).unwrap();
    assert!(
        gap.num_milliseconds() >= 1900,
        "waited for Retry-After, not 10 ms: {gap}"
    );
}

#[actix_web::test]
async fn restart_delete_filters_and_pagination() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let s = app
            .execute(&json!({"targetId": target, "customMessages": ["hi"]}))
            .await;
        app.wait_for_status(&s, &["COMPLETED"]).await;
        ids.push(s);
    }
    let (status, resp) = app
        .patch(
            &format!("/api/sessions/{}", ids[0]),
            &json!({"action": "restart"}),
        )
        .await;
    assert_eq!(status, 202, "{resp}");
    let restarted = resp["data"]["sessionId"].as_str().unwrap().to_string();
    let done = app.wait_for_status(&restarted, &["COMPLETED"]).await;
    assert_eq!(done["restartedFrom"], ids[0].as_str());

    let (_, page) = app.get("/api/sessions?limit=2&offset=0").await;
    assert_eq!(page["data"]["total"], 4);
    assert_eq!(page["data"]["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(
        page["data"]["sessions"][0]["id"],
        restarted.as_str(),
        "newest first"
    );
    let (_, page2) = app.get("/api/sessions?limit=2&offset=2").await;
    assert_eq!(page2["data"]["sessions"].as_array().unwrap().len(), 2);
    let (_, running) = app.get("/api/sessions?status=running").await;
    assert_eq!(running["data"]["total"], 0);
    let (status, _) = app.get("/api/sessions?status=bogus").await;
    assert_eq!(status, 400);
    let (status, _) = app
        .patch(
            &format!("/api/sessions/{}", ids[1]),
            &json!({"action": "explode"}),
        )
        .await;
    assert_eq!(status, 400);

    let (status, _) = app.delete(&format!("/api/sessions/{}", ids[1])).await;
    assert_eq!(status, 200);
    let (status, _) = app.get(&format!("/api/sessions/{}", ids[1])).await;
    assert_eq!(status, 404);
    let (status, events) = app.get(&format!("/api/sessions/{}/events", ids[1])).await;
    assert_eq!(status, 200, "events stay for audit");
    assert_eq!(
        events["data"].as_array().unwrap().last().unwrap()["type"],
        "SessionDeleted"
    );
    let (_, health) = app.get("/api/health").await;
    assert_eq!(health["data"]["status"], "healthy", "{health}");
}
