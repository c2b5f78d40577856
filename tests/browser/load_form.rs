//! The Run dialog's load options, as a user clicks them: a constant-users run for one second
//! from the scenarios list, its load report on the session page, the context each message
//! carried in the live log, and the target form keeping the preset's history settings.

use fantoccini::Locator;
use serde_json::{Value, json};

use crate::harness::{Ui, tid};

async fn post(ui: &Ui, path: &str, body: Value) -> String {
    let resp = ui
        .http
        .post(format!("{}{path}", ui.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let body: Value = resp.json().await.unwrap();
    body["data"]["id"].as_str().unwrap().to_string()
}

/// `/scenarios` → Run on the scenario's row → the target picked → "Load shape" opened.
async fn open_run_dialog(ui: &Ui, target: &str, scenario: &str) {
    ui.goto("/scenarios").await;
    let selector = format!("[data-testid=scenario-row][data-id=\"{scenario}\"]");
    let row = ui.css(&selector).await;
    let run = row
        .find(Locator::Css(&tid("scenario-execute")))
        .await
        .unwrap();
    run.click().await.unwrap();
    let pick = ui.id("execute-target").await;
    pick.select_by_value(target).await.unwrap();
    let summary = ui.css("[data-testid=execute-load] summary").await;
    summary.click().await.unwrap();
}

#[actix_web::test]
async fn run_dialog_shapes_load_and_the_page_reports_it() {
    let Some(ui) = Ui::start().await else { return };
    let target = json!({"presetId": "openai-chat", "name": "Mock chat",
        "endpoint": ui.mock_endpoint(), "authConfig": {"token": "sk-browser"}});
    let target = post(&ui, "/api/targets", target).await;
    let scenario = json!({"name": "Two turns", "flowConfig": [
        {"type": "message", "config": {"content": "Hello"}},
        {"type": "message", "config": {"content": "Tell me more"}}]});
    let scenario = post(&ui, "/api/scenarios", scenario).await;
    open_run_dialog(&ui, &target, &scenario).await;
    let executor = ui.id("load-executor").await;
    executor.select_by_value("constant-users").await.unwrap();
    assert!(
        ui.displayed("load-users").await,
        "users shown for constant-users"
    );
    assert!(
        !ui.displayed("load-rate").await,
        "rate hidden for constant-users"
    );
    ui.fill(&tid("load-users"), "2").await;
    ui.fill(&tid("load-duration"), "1s").await;
    ui.click("execute-submit").await;
    let on_session = "return location.pathname.startsWith('/sessions/');";
    ui.wait_js(on_session, "the session page").await;
    ui.wait_text("session-status", "COMPLETED").await;
    ui.wait_text("session-load", "constant-users (duration)")
        .await;
    ui.wait_text("live-log", "[context 3 messages").await;
    ui.goto(&format!("/targets/{target}/edit")).await;
    let path = ui.id("history-path").await.prop("value").await.unwrap();
    assert_eq!(path.as_deref(), Some("messages"));
    ui.finish().await;
}
