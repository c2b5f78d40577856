//! Conversations carry their context: against a stateless bot that records each request, turn k
//! of a conversation carries 2k−1 messages with the real earlier replies, in the OpenAI,
//! Anthropic and Gemini shapes; window and token policies trim; failed turns stay out.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::recording_bot::RecordingBot;

fn scenario(messages: &[&str], extra: Value) -> Value {
    let mut s = json!({
        "name": "context",
        "flowConfig": messages.iter().map(|m| json!({"type": "message", "config": {"content": m}})).collect::<Vec<_>>(),
    });
    if let (Some(obj), Some(extra)) = (s.as_object_mut(), extra.as_object()) {
        obj.extend(extra.clone());
    }
    s
}

/// Runs `scenario` against a target made from `preset` at `path` of the bot; returns the
/// session's message rows.
async fn converse(
    app: &TestApp,
    bot: &RecordingBot,
    preset: &str,
    auth: Value,
    path: &str,
    scenario: Value,
) -> Vec<Value> {
    let target = app
        .create(
            "/api/targets",
            &json!({"presetId": preset, "name": preset, "endpoint": format!("{}{path}", bot.url), "authConfig": auth}),
        )
        .await;
    let scenario = app.create("/api/scenarios", &scenario).await;
    let id = app
        .execute(&json!({"targetId": target, "scenarioId": scenario}))
        .await;
    let done = app.wait_for_status(&id, &["COMPLETED", "FAILED"]).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let (_, rows) = app.get(&format!("/api/sessions/{id}/messages")).await;
    rows["data"]["messages"].as_array().unwrap().clone()
}

/// `converse` with a target from the OpenAI preset.
async fn openai(app: &TestApp, bot: &RecordingBot, scenario: Value) -> Vec<Value> {
    let auth = json!({"token": "sk-1"});
    converse(
        app,
        bot,
        "openai-chat",
        auth,
        "/v1/chat/completions",
        scenario,
    )
    .await
}

fn roles(items: &Value, key: &str) -> Vec<String> {
    items[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn openai_turn_k_carries_2k_minus_1_messages_with_the_real_replies() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let bot = RecordingBot::start(Duration::ZERO).await;
    let rows = openai(
        &app,
        &bot,
        scenario(&["first", "second", "third"], json!({})),
    )
    .await;
    let requests = bot.requests();
    assert_eq!(requests.len(), 3);
    for (k, request) in requests.iter().enumerate() {
        let messages = request["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 2 * k + 1, "turn {}: {request}", k + 1);
        for (j, m) in messages.iter().enumerate() {
            let want = if j % 2 == 0 { "user" } else { "assistant" };
            assert_eq!(m["role"], want);
            if j % 2 == 1 {
                assert_eq!(
                    m["content"],
                    rows[j / 2]["response"],
                    "assistant turn is the real reply"
                );
            }
        }
        assert_eq!(
            request["model"], "gpt-4o-mini",
            "the rest of the structure stays"
        );
        assert_eq!(rows[k]["contextMessages"], 2 * k as u64 + 1);
    }
    assert!(
        rows[2]["contextTokens"].as_i64().unwrap() > rows[0]["contextTokens"].as_i64().unwrap()
    );
    bot.stop().await;
}

#[actix_web::test]
async fn anthropic_puts_the_system_prompt_on_top_and_alternates() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let bot = RecordingBot::start(Duration::ZERO).await;
    converse(
        &app,
        &bot,
        "anthropic-messages",
        json!({"apiKey": "k"}),
        "/v1/messages",
        scenario(&["a", "b", "c"], json!({"systemPrompt": "You are terse."})),
    )
    .await;
    let last = bot.requests().pop().unwrap();
    assert_eq!(last["system"], "You are terse.");
    assert_eq!(
        roles(&last, "messages"),
        ["user", "assistant", "user", "assistant", "user"]
    );
    assert!(
        last["messages"][1]["content"]
            .as_str()
            .unwrap()
            .starts_with("reply 0 to [a]")
    );
    bot.stop().await;
}

#[actix_web::test]
async fn gemini_uses_contents_with_model_role() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let bot = RecordingBot::start(Duration::ZERO).await;
    converse(
        &app,
        &bot,
        "google-gemini",
        json!({"apiKey": "k"}),
        "/v1beta/models/g:generateContent",
        scenario(&["a", "b"], json!({"systemPrompt": "sys"})),
    )
    .await;
    let last = bot.requests().pop().unwrap();
    assert_eq!(roles(&last, "contents"), ["user", "model", "user"]);
    assert_eq!(last["contents"][2]["parts"][0]["text"], "b");
    assert_eq!(last["systemInstruction"]["parts"][0]["text"], "sys");
    bot.stop().await;
}

#[actix_web::test]
async fn window_and_token_policies_trim_and_none_sends_one_message() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let bot = RecordingBot::start(Duration::ZERO).await;
    let four = ["m1", "m2", "m3", "m4"];
    openai(
        &app,
        &bot,
        scenario(&four, json!({"history": {"window": 1}})),
    )
    .await;
    let counts: Vec<usize> = bot
        .requests()
        .iter()
        .map(|r| r["messages"].as_array().unwrap().len())
        .collect();
    assert_eq!(counts, [1, 3, 3, 3]);
    // An exchange costs 1 ("m1") + 4 ("reply 4 to [m1]") estimated tokens, the new message 1:
    // a budget of 8 keeps one exchange (1 + 5 = 6), two would need 11.
    openai(
        &app,
        &bot,
        scenario(&four, json!({"history": {"maxTokens": 8}})),
    )
    .await;
    let counts: Vec<usize> = bot.requests()[4..]
        .iter()
        .map(|r| r["messages"].as_array().unwrap().len())
        .collect();
    assert_eq!(counts, [1, 3, 3, 3]);
    openai(&app, &bot, scenario(&four, json!({"history": "none"}))).await;
    let counts: Vec<usize> = bot.requests()[8..]
        .iter()
        .map(|r| r["messages"].as_array().unwrap().len())
        .collect();
    assert_eq!(counts, [1, 1, 1, 1]);
    bot.stop().await;
}

#[actix_web::test]
async fn a_failed_turn_stays_out_of_the_history() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let bot = RecordingBot::start(Duration::ZERO).await;
    let rows = openai(
        &app,
        &bot,
        scenario(&["one", "FAIL two", "three"], json!({})),
    )
    .await;
    assert_eq!(rows[1]["outcome"], "error");
    let last = bot.requests().pop().unwrap();
    let contents: Vec<&str> = last["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents.len(), 3, "{contents:?}");
    assert_eq!((contents[0], contents[2]), ("one", "three"));
    bot.stop().await;
}

#[actix_web::test]
async fn the_demo_context_scenario_accumulates_context_against_the_demo_target() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let _mocks = krawall::demo::start(&app.core, "127.0.0.1:0", "127.0.0.1:0")
        .await
        .unwrap();
    let head = app.core.store.head_position().await.unwrap();
    assert!(
        app.core
            .projections
            .wait_for(head, Duration::from_secs(10))
            .await
    );
    let (_, targets) = app.get("/api/targets").await;
    let target = targets["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["connectorType"] == "HTTP_REST")
        .unwrap()["id"]
        .clone();
    let (_, scenarios) = app.get("/api/scenarios").await;
    let scenario = scenarios["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Context Test: Accumulation")
        .unwrap()["id"]
        .clone();
    let config = json!({"repetitions": 1, "delayBetweenMs": 0});
    let id = app
        .execute(&json!({"targetId": target, "scenarioId": scenario, "executionConfig": config}))
        .await;
    let done = app.wait_for_status(&id, &["COMPLETED", "FAILED"]).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let (_, rows) = app.get(&format!("/api/sessions/{id}/messages")).await;
    let sizes: Vec<i64> = rows["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["contextMessages"].as_i64().unwrap())
        .collect();
    assert_eq!(sizes, [1, 3, 5, 7, 9], "turn 5 carries turns 1–4");
}

#[actix_web::test]
async fn estimated_input_tokens_count_the_whole_context() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let bot = RecordingBot::start(Duration::ZERO).await;
    let target = json!({"name": "no usage", "connectorType": "HTTP_REST", "authType": "NONE",
        "endpoint": format!("{}/v1beta/models/g:generateContent", bot.url),
        "requestTemplate": {"messagePath": "contents.0.parts.0.text", "historyPath": "contents",
            "historyItem": {"role": "{{role}}", "parts": [{"text": "{{content}}"}]}, "historyRoles": {"assistant": "model"}},
        "responseTemplate": {"responsePath": "candidates.0.content.parts.0.text"}});
    let target = app.create("/api/targets", &target).await;
    let scenario = app
        .create(
            "/api/scenarios",
            &scenario(&["a b c d", "e f g h", "i j k l"], json!({})),
        )
        .await;
    let id = app
        .execute(&json!({"targetId": target, "scenarioId": scenario}))
        .await;
    app.wait_for_status(&id, &["COMPLETED"]).await;
    let (_, rows) = app.get(&format!("/api/sessions/{id}/messages")).await;
    for row in rows["data"]["messages"].as_array().unwrap() {
        assert_eq!(row["tokensEstimated"], true);
        assert_eq!(row["tokensIn"], row["contextTokens"], "{row}");
    }
    bot.stop().await;
}
