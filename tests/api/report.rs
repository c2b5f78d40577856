//! Cost, budgets, thresholds and retries: the price table API, cost per reply and per session
//! checked against hand-computed values, a budget ending the session, threshold verdicts, and
//! a retried-then-successful message counted once.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, fresh_settings, spawn_app, spawn_with};

async fn price_mock_model(app: &TestApp) {
    let body =
        json!({"models": [{"model": "mock-gpt-4", "inputPerMTok": 1000, "outputPerMTok": 2000}]});
    let (status, resp) = app.put("/api/pricing", &body).await;
    assert_eq!(status, 200, "{resp}");
}

async fn run(app: &TestApp, config: Value) -> Value {
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let mut execution = json!({"customMessages": ["one", "two", "three"]});
    execution
        .as_object_mut()
        .unwrap()
        .extend(config.as_object().unwrap().clone());
    let id = app
        .execute(&json!({"targetId": target, "executionConfig": execution}))
        .await;
    app.wait_for_status(&id, &["COMPLETED", "FAILED"]).await
}

#[actix_web::test]
async fn the_price_table_has_dated_defaults_and_takes_updates() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (_, table) = app.get("/api/pricing").await;
    let models = table["data"]["models"].as_array().unwrap();
    let mini = models.iter().find(|m| m["model"] == "gpt-4o-mini").unwrap();
    assert_eq!(
        (
            mini["inputPerMTok"].as_f64(),
            mini["outputPerMTok"].as_f64()
        ),
        (Some(0.15), Some(0.6))
    );
    assert!(table["data"]["defaultsAsOf"].is_string());
    let update = json!({"models": [{"model": "gpt-4o-mini", "inputPerMTok": 0.2, "outputPerMTok": 0.8, "currency": "USD"}]});
    let (status, after) = app.put("/api/pricing", &update).await;
    assert_eq!(status, 200, "{after}");
    let mini = after["data"]["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "gpt-4o-mini")
        .unwrap()
        .clone();
    assert_eq!(mini["inputPerMTok"], 0.2);
    let page = app
        .client
        .get(format!("{}/settings/pricing", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("data-model=\"gpt-4o-mini\"") && html.contains("0.2"),
        "the page shows the table"
    );
    let bad = json!({"models": [{"model": "x", "inputPerMTok": -1, "outputPerMTok": 1}]});
    let (status, err) = app.put("/api/pricing", &bad).await;
    assert_eq!(status, 400);
    assert_eq!(
        err["details"][0]["field"], "models[0].inputPerMTok",
        "{err}"
    );
}

#[actix_web::test]
async fn cost_per_reply_and_session_match_the_price_sqlite() {
    cost_per_reply_and_session_match_the_price(Backend::Sqlite).await;
}

#[actix_web::test]
async fn cost_per_reply_and_session_match_the_price_postgres() {
    cost_per_reply_and_session_match_the_price(Backend::Postgres).await;
}

async fn cost_per_reply_and_session_match_the_price(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    price_mock_model(&app).await;
    let done = run(&app, json!({})).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let (_, rows) = app
        .get(&format!(
            "/api/sessions/{}/messages",
            done["id"].as_str().unwrap()
        ))
        .await;
    let mut total = 0.0;
    for row in rows["data"]["messages"].as_array().unwrap() {
        let (input, output) = (
            row["tokensIn"].as_f64().unwrap(),
            row["tokensOut"].as_f64().unwrap(),
        );
        let want = (input * 1000.0 + output * 2000.0) / 1e6;
        assert!((row["cost"].as_f64().unwrap() - want).abs() < 1e-9, "{row}");
        total += want;
    }
    let summary = &done["summaryMetrics"];
    assert!(
        (summary["cost"].as_f64().unwrap() - total).abs() < 1e-9,
        "{summary}"
    );
    assert_eq!(summary["currency"], "USD");
}

#[actix_web::test]
async fn a_budget_ends_the_session_as_budget_exceeded() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    price_mock_model(&app).await;
    let done = run(&app, json!({"budget": {"maxTokens": 1}})).await;
    assert_eq!(done["status"], "FAILED", "{done}");
    assert_eq!(done["failureReason"], "budget_exceeded");
    assert_eq!(done["messageCount"], 1, "stopped after the first reply");
    let done = run(&app, json!({"budget": {"maxCost": 0.000001}})).await;
    assert_eq!(done["failureReason"], "budget_exceeded", "{done}");
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let body = json!({"targetId": target, "executionConfig": {"customMessages": ["x"], "budget": {"maxCost": -1}}});
    let (status, err) = app.post("/api/execute", &body).await;
    assert_eq!(status, 400);
    assert_eq!(err["details"][0]["field"], "budget.maxCost", "{err}");
}

#[actix_web::test]
async fn thresholds_are_judged_on_the_summary() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let thresholds = json!({"latency_p95_ms": "<60000", "error_rate": "<0.01"});
    let done = run(
        &app,
        json!({"thresholds": thresholds, "faults": {"serverErrorRate": 1.0}}),
    )
    .await;
    let summary = &done["summaryMetrics"];
    assert_eq!(summary["thresholdsPassed"], false, "{summary}");
    let verdicts: Vec<(String, bool)> = summary["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["metric"].as_str().unwrap().to_string(),
                t["passed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("error_rate".to_string(), false),
            ("latency_p95_ms".to_string(), true)
        ]
    );
    assert_eq!(summary["thresholds"][0]["actual"], 1.0);
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let body = json!({"targetId": target, "executionConfig": {"customMessages": ["x"], "thresholds": {"p42": "<1"}}});
    let (status, err) = app.post("/api/execute", &body).await;
    assert_eq!(status, 400);
    assert_eq!(err["details"][0]["field"], "thresholds.p42", "{err}");
}

#[actix_web::test]
async fn a_message_that_succeeds_after_retries_counts_once() {
    let (settings, dir) = fresh_settings(Backend::Sqlite).await.unwrap();
    let mock = krawall::mock::MockSettings {
        rate_limit_every: Some(2),
        ..Default::default()
    };
    let app = spawn_with(settings, dir, mock).await;
    let policy = json!({"onError": "retry", "retryConfig": {"maxRetries": 3, "delayMs": 0, "backoffMultiplier": 1, "maxDelayMs": 0, "maxRetryAfterMs": 0}});
    let done = run(&app, json!({"errorHandling": policy})).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let summary = &done["summaryMetrics"];
    assert_eq!(
        (
            summary["messageCount"].as_u64(),
            summary["errorCount"].as_u64()
        ),
        (Some(3), Some(0)),
        "{summary}"
    );
    assert!(summary["retries"].as_u64().unwrap() >= 1);
    assert_eq!(
        (done["messageCount"].as_i64(), done["errorCount"].as_i64()),
        (Some(3), Some(0)),
        "read model agrees"
    );
}

#[actix_web::test]
async fn repetition_scores_match_hand_computed_shingle_cosines() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let bot = crate::recording_bot::RecordingBot::start(std::time::Duration::ZERO).await;
    let target = json!({"presetId": "openai-chat", "endpoint": format!("{}/v1/chat/completions", bot.url), "authConfig": {"token": "t"}});
    let target = app.create("/api/targets", &target).await;
    // The bot answers "reply <n> to [same question]": consecutive replies share one of their
    // three word 3-shingles ("to same question"), so each later reply scores 1/3.
    let config = json!({"customMessages": ["same question", "same question", "same question"],
        "history": "none", "thresholds": {"repetition_max": "<0.5"}});
    let id = app
        .execute(&json!({"targetId": target, "executionConfig": config}))
        .await;
    let done = app.wait_for_status(&id, &["COMPLETED"]).await;
    let (_, rows) = app.get(&format!("/api/sessions/{id}/messages")).await;
    let scores: Vec<f64> = rows["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repetitionScore"].as_f64().unwrap())
        .collect();
    let third = 1.0 / 3.0;
    for (got, want) in scores.iter().zip([0.0, third, third]) {
        assert!((got - want).abs() < 1e-9, "{scores:?}");
    }
    let summary = &done["summaryMetrics"];
    assert!(
        (summary["repetitionMean"].as_f64().unwrap() - 2.0 / 9.0).abs() < 1e-9,
        "{summary}"
    );
    assert!((summary["repetitionMax"].as_f64().unwrap() - third).abs() < 1e-9);
    assert_eq!(summary["thresholdsPassed"], true);
    bot.stop().await;
}
