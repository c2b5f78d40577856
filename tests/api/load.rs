//! Load shapes end to end: each executor's intended vs achieved starts, the closed model's
//! concurrency bound, stop conditions, seeded faults at their share, rate limits, bad input.

use std::time::{Duration, Instant};

use actors::domain::faults::FaultSpec;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::recording_bot::RecordingBot;

struct Rig {
    app: TestApp,
    bot: RecordingBot,
    target: String,
}

async fn rig(latency_ms: u64, rate_limit: Option<Value>) -> Rig {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let bot = RecordingBot::start(Duration::from_millis(latency_ms)).await;
    let mut body = json!({"presetId": "openai-chat", "endpoint": format!("{}/v1/chat/completions", bot.url), "authConfig": {"token": "t"}});
    if let Some(limit) = rate_limit {
        body["rateLimit"] = limit;
    }
    let target = app.create("/api/targets", &body).await;
    Rig { app, bot, target }
}

impl Rig {
    async fn run(&self, config: Value, messages: usize) -> Value {
        let id = self.start(config, messages).await;
        self.app
            .wait_for_status(&id, &["COMPLETED", "FAILED", "CANCELLED"])
            .await
    }

    async fn start(&self, config: Value, messages: usize) -> String {
        let custom: Vec<String> = (0..messages).map(|i| format!("message {i}")).collect();
        let mut execution = json!({"customMessages": custom});
        execution
            .as_object_mut()
            .unwrap()
            .extend(config.as_object().unwrap().clone());
        self.app
            .execute(&json!({"targetId": self.target, "executionConfig": execution}))
            .await
    }
}

fn load_report(session: &Value) -> &Value {
    &session["summaryMetrics"]["load"]
}

#[actix_web::test]
async fn constant_users_never_exceed_n_and_stop_at_the_duration() {
    let rig = rig(40, None).await;
    let started = Instant::now();
    let done = rig
        .run(
            json!({"load": {"executor": "constant-users", "users": 3, "duration": "1s"}}),
            2,
        )
        .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let report = load_report(&done);
    assert_eq!(report["stopReason"], "duration");
    assert!(rig.bot.peak() <= 3, "bot saw {} at once", rig.bot.peak());
    assert_eq!(report["peakConcurrent"], 3);
    let started_n = report["startedConversations"].as_u64().unwrap();
    assert!(
        started_n >= 6,
        "3 users × ≥ 2 conversations of ~80 ms in 1 s, got {started_n}"
    );
    assert_eq!(
        report["completedConversations"],
        report["startedConversations"]
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[actix_web::test]
async fn ramping_users_follow_the_stages() {
    let rig = rig(20, None).await;
    let done = rig
        .run(json!({"load": {"executor": "ramping-users", "stages": [{"duration": "600ms", "target": 4}, {"duration": "400ms", "target": 0}]}}), 1)
        .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let report = load_report(&done);
    assert!(report["peakConcurrent"].as_u64().unwrap() <= 4, "{report}");
    assert!(rig.bot.peak() <= 4);
    assert!(
        report["startedConversations"].as_u64().unwrap() > 4,
        "{report}"
    );
}

#[actix_web::test]
async fn constant_arrival_rate_starts_the_intended_conversations() {
    let rig = rig(300, None).await;
    let done = rig
        .run(json!({"load": {"executor": "constant-arrival-rate", "rate": 20, "timeUnit": "1s", "duration": "1s"}}), 1)
        .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let report = load_report(&done);
    assert_eq!(report["intendedConversations"], 20);
    assert_eq!(report["startedConversations"], 20, "{report}");
    assert_eq!(report["droppedConversations"], 0);
    // Open model: arrivals do not wait for earlier conversations (300 ms each, 50 ms apart).
    assert!(rig.bot.peak() >= 4, "peak {}", rig.bot.peak());
}

#[actix_web::test]
async fn arrivals_beyond_max_concurrent_are_dropped_and_counted() {
    let rig = rig(500, None).await;
    let done = rig
        .run(json!({"load": {"executor": "ramping-arrival-rate", "start": 20, "stages": [{"duration": "1s", "target": 20}], "maxConcurrent": 2}}), 1)
        .await;
    let report = load_report(&done);
    assert_eq!(report["intendedConversations"], 20);
    let (started, dropped) = (
        report["startedConversations"].as_u64().unwrap(),
        report["droppedConversations"].as_u64().unwrap(),
    );
    assert_eq!(started + dropped, 20, "{report}");
    assert!(dropped >= 10, "{report}");
    assert!(rig.bot.peak() <= 2);
}

#[actix_web::test]
async fn max_conversations_ends_the_run_with_its_reason() {
    let rig = rig(10, None).await;
    let done = rig
        .run(json!({"load": {"executor": "constant-users", "users": 2, "duration": "1m", "maxConversations": 5}}), 1)
        .await;
    let report = load_report(&done);
    assert_eq!(report["stopReason"], "max_conversations", "{report}");
    assert_eq!(report["startedConversations"], 5);
    assert_eq!(rig.bot.requests().len(), 5);
}

#[actix_web::test]
async fn cancel_stops_a_long_run_within_a_second() {
    let rig = rig(200, None).await;
    let id = rig
        .start(
            json!({"load": {"executor": "constant-users", "users": 50, "duration": "10m"}}),
            3,
        )
        .await;
    rig.app.wait_for_status(&id, &["RUNNING"]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cancelled_at = Instant::now();
    let (status, body) = rig
        .app
        .patch(&format!("/api/sessions/{id}"), &json!({"action": "cancel"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let done = rig.app.wait_for_status(&id, &["CANCELLED"]).await;
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(2),
        "{:?}",
        cancelled_at.elapsed()
    );
    assert_eq!(load_report(&done)["stopReason"], "cancelled");
}

#[actix_web::test]
async fn abort_on_error_rate_fails_the_session_with_its_reason() {
    let rig = rig(0, None).await;
    let done = rig
        .run(json!({
            "load": {"executor": "constant-users", "users": 1, "duration": "30s", "abortOn": {"errorRate": 0.5, "minExchanges": 4}},
            "faults": {"serverErrorRate": 1.0}
        }), 1)
        .await;
    assert_eq!(done["status"], "FAILED", "{done}");
    assert_eq!(done["failureReason"], "abort_on_error_rate");
    assert_eq!(load_report(&done)["stopReason"], "abort_on_error_rate");
    assert!(
        rig.bot.requests().is_empty(),
        "injected faults never reach the target"
    );
}

#[actix_web::test]
async fn faults_replace_the_configured_share_deterministically() {
    let rig = rig(0, None).await;
    let faults = json!({"serverErrorRate": 0.2, "timeoutRate": 0.05, "rateLimitRate": 0.0, "dropRate": 0.1, "seed": 42});
    let done = rig
        .run(
            json!({"faults": faults, "messageTimeoutMs": 300, "history": "none"}),
            200,
        )
        .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let spec: FaultSpec = serde_json::from_value(faults).unwrap();
    let expected: Vec<_> = (0..200).filter_map(|i| spec.draw(i, 0)).collect();
    let (_, events) = rig
        .app
        .get(&format!(
            "/api/sessions/{}/events",
            done["id"].as_str().unwrap()
        ))
        .await;
    let injected: Vec<Value> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "ErrorInjected")
        .map(|e| e["data"]["fault"].clone())
        .collect();
    assert_eq!(injected.len(), expected.len());
    assert!(
        (30..=80).contains(&injected.len()),
        "about 35% of 200, got {}",
        injected.len()
    );
    let expected_names: Vec<Value> = expected.iter().map(|f| json!(f.as_str())).collect();
    assert_eq!(injected, expected_names);
    assert_eq!(
        rig.bot.requests().len(),
        200 - injected.len(),
        "the target never sees them"
    );
    // Every injected fault is a failed message; a real timeout on a loaded CPU may add one.
    let errors = done["errorCount"].as_u64().unwrap() as usize;
    assert!(
        errors >= injected.len(),
        "{errors} errors, {} injected",
        injected.len()
    );
}

#[actix_web::test]
async fn a_target_rate_limit_paces_requests_and_records_the_wait() {
    let rig = rig(0, Some(json!({"requestsPerSecond": 10}))).await;
    let started = Instant::now();
    let done = rig
        .run(json!({"repetitions": 1, "history": "none"}), 8)
        .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    // 8 requests at 10/s need at least 7 intervals of 100 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(650),
        "{:?}",
        started.elapsed()
    );
    assert!(
        done["summaryMetrics"]["waitMs"].as_u64().unwrap() >= 500,
        "{done}"
    );
    let (_, rows) = rig
        .app
        .get(&format!(
            "/api/sessions/{}/messages",
            done["id"].as_str().unwrap()
        ))
        .await;
    assert!(rows["data"]["messages"][7]["waitMs"].as_i64().unwrap() > 0);
}

#[actix_web::test]
async fn bad_load_input_is_a_400_naming_the_field() {
    let rig = rig(0, None).await;
    let cases = [
        (
            json!({"load": {"executor": "soak"}}),
            "executionConfig.load.executor",
        ),
        (
            json!({"load": {"executor": "constant-arrival-rate", "rate": -5, "duration": "1m"}}),
            "load.rate",
        ),
        (
            json!({"load": {"executor": "ramping-users", "stages": [{"target": 5}]}}),
            "executionConfig.load.stages[0]",
        ),
        (
            json!({"load": {"executor": "constant-users", "users": 5}}),
            "load.duration",
        ),
        (
            json!({"faults": {"timeoutRate": 1.5}}),
            "faults.timeoutRate",
        ),
        (json!({"history": {"window": 0}}), "history.window"),
    ];
    for (config, field) in cases {
        let mut execution = json!({"customMessages": ["hi"]});
        execution
            .as_object_mut()
            .unwrap()
            .extend(config.as_object().unwrap().clone());
        let (status, body) = rig
            .app
            .post(
                "/api/execute",
                &json!({"targetId": rig.target, "executionConfig": execution}),
            )
            .await;
        assert_eq!(status, 400, "{config}: {body}");
        let fields: Vec<&str> = body["details"]
            .as_array()
            .map(|d| d.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{config}: expected {field} in {body}"
        );
    }
    let (_, sessions) = rig.app.get("/api/sessions").await;
    assert_eq!(sessions["data"]["total"], 0, "nothing half-written");
}

#[actix_web::test]
async fn a_429_slows_the_session_down_for_a_bounded_retry_after() {
    let (settings, dir) = crate::helpers::fresh_settings(Backend::Sqlite)
        .await
        .unwrap();
    let mock = krawall::mock::MockSettings {
        rate_limit_every: Some(2),
        ..Default::default()
    };
    let app = crate::helpers::spawn_with(settings, dir, mock).await;
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let policy = json!({"onError": "skip", "retryConfig": {"maxRetries": 0, "delayMs": 0, "backoffMultiplier": 1, "maxDelayMs": 0, "maxRetryAfterMs": 300}});
    let id = app
        .execute(&json!({"targetId": target, "executionConfig": {
            "customMessages": ["a", "b", "c", "d", "e"], "errorHandling": policy}}))
        .await;
    let done = app.wait_for_status(&id, &["COMPLETED", "FAILED"]).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let summary = &done["summaryMetrics"];
    assert!(
        summary["errorsByKind"]["rate_limited"].as_u64().unwrap() >= 2,
        "{summary}"
    );
    // Every other reply is a 429 asking for 2 s; the next send waits, capped at 300 ms, twice.
    let backoff = summary["backoffMs"].as_u64().unwrap();
    assert!((500..=800).contains(&backoff), "backoffMs {backoff}");
}
