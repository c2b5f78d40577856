//! Webhooks end to end: a receiver on loopback verifies the signature, refuses the first attempt
//! and gets the retry; the delivery log shows both attempts; secrets stay sealed; test
//! deliveries, redelivery, updates, deletes and 400s naming the field.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::webhook_receiver::Receiver;

const SECRET: &str = "s3cret-s3cret-s3cret";

fn hook_body(url: &str, events: Value) -> Value {
    json!({"name": "ci", "url": url, "events": events, "secret": SECRET,
        "retry": {"maxAttempts": 3, "initialDelayMs": 200, "multiplier": 2, "maxDelayMs": 1000}})
}

/// Polls the delivery log until `done` holds (20 s at most).
async fn deliveries_until(
    app: &TestApp,
    hook: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    for _ in 0..400 {
        let (status, resp) = app.get(&format!("/api/webhooks/{hook}/deliveries")).await;
        assert_eq!(status, 200, "{resp}");
        let list = resp["data"].as_array().unwrap().clone();
        if done(&list) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("deliveries of {hook} never settled");
}

async fn failed_first_attempt_is_retried(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let receiver = Receiver::start(true);
    receiver.expect_secret(SECRET);
    let (status, created) = app
        .post(
            "/api/webhooks",
            &hook_body(&receiver.url, json!(["session.completed"])),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["data"]["secret"], SECRET, "shown once on create");
    let hook = created["data"]["id"].as_str().unwrap().to_string();
    let (_, read) = app.get(&format!("/api/webhooks/{hook}")).await;
    assert!(read["data"].get("secret").is_none(), "{read}");
    let stored = app
        .core
        .store
        .read_stream(&format!("webhook-{hook}"))
        .await
        .unwrap();
    assert!(
        !stored[0].payload.to_string().contains(SECRET),
        "sealed at rest"
    );

    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let session = app
        .execute(&json!({"targetId": target, "customMessages": ["hello"]}))
        .await;
    app.wait_for_status(&session, &["COMPLETED"]).await;
    let log = deliveries_until(&app, &hook, |d| {
        d.iter().any(|d| d["status"] == "delivered")
    })
    .await;
    assert_eq!(log.len(), 1, "{log:?}");
    both_attempts_logged_and_received(&log[0], &receiver, &session);
}

/// The log shows the refused attempt then the delivered retry; both requests were signed.
fn both_attempts_logged_and_received(d: &Value, receiver: &Receiver, session: &str) {
    assert_eq!(d["event"], "session.completed");
    assert_eq!(d["attempts"], 2);
    let attempts = d["attemptLog"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{d}");
    assert_eq!(
        (
            attempts[0]["attempt"].clone(),
            attempts[0]["statusCode"].clone()
        ),
        (json!(1), json!(500))
    );
    assert_eq!(attempts[0]["outcome"], "retrying");
    assert!(attempts[0]["error"].as_str().unwrap().contains("500"));
    assert_eq!(
        (
            attempts[1]["attempt"].clone(),
            attempts[1]["statusCode"].clone()
        ),
        (json!(2), json!(200))
    );
    assert_eq!(attempts[1]["outcome"], "delivered");
    assert!(attempts[1]["latencyMs"].is_i64() && attempts[1]["error"].is_null());

    let got = receiver.received();
    assert_eq!(got.len(), 2, "{got:?}");
    for r in &got {
        assert!(r.signature_ok, "signature verifies: {r:?}");
        assert_eq!(r.body["event"], "session.completed");
        assert_eq!(r.body["deliveryId"], d["id"]);
        assert_eq!(r.body["payload"]["sessionId"], session);
        assert!(r.body["timestamp"].is_string());
    }
}

#[actix_web::test]
async fn failed_first_attempt_is_retried_sqlite() {
    failed_first_attempt_is_retried(Backend::Sqlite).await;
}

#[actix_web::test]
async fn failed_first_attempt_is_retried_postgres() {
    failed_first_attempt_is_retried(Backend::Postgres).await;
}

#[actix_web::test]
async fn test_deliveries_redelivery_and_management() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let receiver = Receiver::start(false);
    let mut body = hook_body(&receiver.url, json!(["session.failed", "budget.exceeded"]));
    body.as_object_mut().unwrap().remove("secret");
    let (status, created) = app.post("/api/webhooks", &body).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["data"]["secret"].as_str().unwrap().to_string();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 70,
        "{secret}"
    );
    receiver.expect_secret(&secret);
    let hook = created["data"]["id"].as_str().unwrap().to_string();

    let (status, test) = app
        .post(&format!("/api/webhooks/{hook}/test"), &json!({}))
        .await;
    assert_eq!(status, 202, "{test}");
    let first = test["data"]["deliveryId"].as_str().unwrap().to_string();
    deliveries_until(&app, &hook, |d| {
        d.len() == 1 && d[0]["status"] == "delivered"
    })
    .await;
    let path = format!("/api/webhooks/{hook}/deliveries/{first}/redeliver");
    let (status, again) = app.post(&path, &json!({})).await;
    assert_eq!(status, 202, "{again}");
    let log = deliveries_until(&app, &hook, |d| {
        d.len() == 2 && d.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    assert_eq!(log[0]["redeliveryOf"], first.as_str(), "newest first");
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert!(
        got.iter()
            .all(|r| r.signature_ok && r.body["event"] == "webhook.test")
    );
    delivery_log_page(&app, &first).await;

    let mut update = hook_body(&receiver.url, json!(["session.completed"]));
    update["enabled"] = json!(false);
    update.as_object_mut().unwrap().remove("secret");
    let (status, updated) = app.put(&format!("/api/webhooks/{hook}"), &update).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["data"]["enabled"], false);
    let (_, list) = app.get("/api/webhooks").await;
    assert_eq!(list["data"][0]["events"], json!(["session.completed"]));
    let (status, _) = app.delete(&format!("/api/webhooks/{hook}")).await;
    assert_eq!(status, 200);
    let (status, _) = app.get(&format!("/api/webhooks/{hook}")).await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn bad_webhooks_name_the_field() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let ok = hook_body("http://127.0.0.1:1/hook", json!(["session.completed"]));
    let cases = [
        ("url", json!("ftp://example.com"), "url"),
        ("events", json!(["session.exploded"]), "events[0]"),
        ("events", json!([]), "events"),
        ("secret", json!("too-short"), "secret"),
        ("retry", json!({"maxAttempts": 0}), "retry.maxAttempts"),
    ];
    for (key, value, field) in cases {
        let mut body = ok.clone();
        body[key] = value;
        let (status, resp) = app.post("/api/webhooks", &body).await;
        assert_eq!(status, 400, "{resp}");
        assert_eq!(resp["details"][0]["field"], field, "{resp}");
    }
    let (_, list) = app.get("/api/webhooks").await;
    assert_eq!(list["data"], json!([]));
}

/// `/webhooks` lists the delivery with a Redeliver button.
async fn delivery_log_page(app: &TestApp, delivery: &str) {
    let html = app
        .client
        .get(format!("{}/webhooks", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("data-delivery=\"{delivery}\"")),
        "the log lists it"
    );
    assert!(html.contains("data-testid=\"redeliver\""));
}
