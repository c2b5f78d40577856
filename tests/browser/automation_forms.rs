//! The schedule and webhook forms as a user fills them: a schedule created with a cron example,
//! a zone from the picker and a target ticked shows its next runs (from the API's `nextRuns`) and
//! appears in the list; a webhook created with two events shows its secret once and is listed;
//! the settings page saves a default.

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

async fn create_schedule(ui: &Ui, target: &str, scenario: &str) {
    ui.goto("/schedules").await;
    ui.fill(&tid("schedule-name"), "Nightly check").await;
    let pick = ui.id("schedule-scenario").await;
    pick.select_by_value(scenario).await.unwrap();
    ui.css(&format!(
        "[data-testid=schedule-target][value=\"{target}\"]"
    ))
    .await
    .click()
    .await
    .unwrap();
    ui.css("button[data-cron=\"0 0 2 * * *\"]")
        .await
        .click()
        .await
        .unwrap();
    ui.fill(&tid("schedule-timezone"), "Europe/Berlin").await;
    ui.click("schedule-save").await;
    ui.wait_js(
        "return document.querySelectorAll('[data-testid=next-run]').length === 5;",
        "five next runs",
    )
    .await;
    let first = ui.css(&tid("next-run")).await.text().await.unwrap();
    assert!(first.contains("02:00:00+0"), "{first}");
    ui.css("#schedule-next-done").await.click().await.unwrap();
    ui.wait_text("schedules-table", "Nightly check").await;
    let row = ui.css(&tid("schedule-row")).await.text().await.unwrap();
    assert!(
        row.contains("0 0 2 * * *") && row.contains("Europe/Berlin"),
        "{row}"
    );
}

async fn create_webhook(ui: &Ui) {
    ui.goto("/webhooks").await;
    ui.fill(&tid("webhook-name"), "Chat ops").await;
    ui.fill(&tid("webhook-url"), "http://127.0.0.1:9/hook")
        .await;
    for event in ["session.failed", "batch.completed"] {
        ui.css(&format!("[data-testid=webhook-event][value=\"{event}\"]"))
            .await
            .click()
            .await
            .unwrap();
    }
    ui.click("webhook-save").await;
    ui.wait_text("webhook-secret", "whsec_").await;
    assert!(ui.displayed("webhook-created").await);
    ui.css("#webhook-created-done").await.click().await.unwrap();
    ui.wait_js(
        "return [...document.querySelectorAll('[data-testid=webhook]')].some(e => e.textContent.includes('Chat ops'));",
        "the new webhook in the list",
    )
    .await;
    let hook = ui.css(&tid("webhook")).await.text().await.unwrap();
    assert!(
        hook.contains("session.failed") && hook.contains("batch.completed"),
        "{hook}"
    );
    assert!(
        !hook.contains("whsec_"),
        "the secret is shown only once: {hook}"
    );
}

#[actix_web::test]
async fn schedule_and_webhook_forms_create_and_list() {
    let Some(ui) = Ui::start().await else { return };
    let target = json!({"presetId": "openai-chat", "name": "Mock chat",
        "endpoint": ui.mock_endpoint(), "authConfig": {"token": "sk-browser"}});
    let target = post(&ui, "/api/targets", target).await;
    let scenario = json!({"name": "Ping", "flowConfig": [
        {"type": "message", "config": {"content": "Hello"}}]});
    let scenario = post(&ui, "/api/scenarios", scenario).await;
    create_schedule(&ui, &target, &scenario).await;
    ui.assert_resources_ok("/schedules").await;
    create_webhook(&ui).await;
    ui.assert_resources_ok("/webhooks").await;

    ui.goto("/settings").await;
    ui.fill(&tid("settings-retention"), "30").await;
    ui.click("settings-save").await;
    ui.wait_js(
        "return document.querySelector('[data-testid=settings-retention]').value === '30' && performance.getEntriesByType('navigation')[0].type === 'reload';",
        "the saved retention after the reload",
    )
    .await;
    ui.assert_resources_ok("/settings").await;
    ui.finish().await;
}
