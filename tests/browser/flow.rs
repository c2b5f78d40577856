//! The dashboard's main path, as a user clicks it: create a target from a preset pointed at the
//! mock, build a scenario in the flow builder (message + loop with a message), run it from the
//! scenarios list, watch the live log fill in and the status turn COMPLETED, replay it at instant
//! speed, run it again from the command center's quick execute, and visit every main page.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::Value;

use crate::harness::{Ui, WAIT, tid};

/// Loop iterations of the scenario: 1 + LOOP messages per run.
const LOOP: usize = 8;
const SCENARIO: &str = "Browser flow";

#[actix_web::test]
async fn create_run_watch_and_replay_a_session() {
    let Some(ui) = Ui::start().await else { return };
    let target_id = create_target(&ui).await;
    let scenario_id = create_scenario(&ui).await;
    let session = execute_from_scenarios(&ui, &target_id, &scenario_id).await;
    watch_live(&ui, &session).await;
    replay(&ui).await;
    let second = quick_execute(&ui, &target_id, &scenario_id).await;
    ui.wait_text("session-status", "COMPLETED").await;
    assert_ne!(second, session);
    crate::tour::visit_main_pages(&ui, true).await;
    delete_with_sessions(&ui, &target_id).await;
    ui.finish().await;
}

/// Deleting a target with sessions: the dialog shows the API's reason, then "delete with its
/// sessions" removes the target and its finished sessions.
async fn delete_with_sessions(ui: &Ui, target_id: &str) {
    ui.goto("/targets").await;
    let row = ui
        .css(&format!(
            "[data-testid=target-row][data-id=\"{target_id}\"]"
        ))
        .await;
    row.find(Locator::Css(&tid("target-delete")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    ui.wait_js(
        "return document.querySelector('[data-testid=delete-dialog]').open === true;",
        "the delete dialog",
    )
    .await;
    ui.click("delete-confirm").await;
    ui.wait_js(
        "return !document.querySelector('[data-testid=delete-reason]').hidden;",
        "the reason why the delete was refused",
    )
    .await;
    assert!(
        ui.text("delete-reason")
            .await
            .contains("session(s) reference this target")
    );
    assert!(ui.displayed("delete-force").await && ui.displayed("delete-cascade").await);
    ui.click("delete-cascade").await;
    ui.wait_js(
        &format!(
            "return !document.querySelector('[data-testid=target-row][data-id=\"{target_id}\"]');"
        ),
        "the target row to go",
    )
    .await;
    let sessions = api(ui, &format!("/api/sessions?targetId={target_id}")).await;
    assert_eq!(
        sessions["total"], 0,
        "its finished sessions went with it: {sessions}"
    );
}

/// `/targets/new` → OpenAI preset, endpoint overridden to the mock → saved → connection test.
async fn create_target(ui: &Ui) -> String {
    ui.goto("/targets/new").await;
    ui.assert_page_ok("/targets/new").await;
    ui.click("preset-openai-chat").await;
    ui.wait_js(
        "return document.querySelector('[data-testid=target-endpoint]').value.includes('api.openai.com');",
        "the preset to fill the endpoint",
    )
    .await;
    ui.fill(&tid("target-name"), "Mock bot").await;
    ui.fill(&tid("target-endpoint"), &ui.mock_endpoint()).await;
    ui.fill(&tid("auth-token"), "sk-browser-test").await;
    assert!(
        !ui.displayed("auth-username").await,
        "basic-auth fields shown for a bearer token"
    );
    ui.screenshot("target-new").await;
    ui.click("target-save").await;
    let id = wait_for_path(ui, "/targets/").await;
    ui.wait_text("target-endpoint", &ui.mock_endpoint()).await;
    let auth = ui.text("target-auth").await;
    assert!(
        !auth.contains("sk-browser-test"),
        "the secret is shown: {auth}"
    );
    ui.click("test-connection").await;
    ui.wait_text("test-verdict", "Passed").await;
    id
}

/// `/scenarios/new`: name, a message step, a loop with a message inside; saved through the API.
async fn create_scenario(ui: &Ui) -> String {
    ui.goto("/scenarios/new").await;
    ui.assert_page_ok("/scenarios/new").await;
    ui.fill(&tid("scenario-name"), SCENARIO).await;
    ui.click("add-message:flowConfig").await;
    ui.fill(&tid("content:flowConfig[0]"), "Hello from the browser")
        .await;
    ui.click("add-loop:flowConfig").await;
    ui.fill(&tid("iterations:flowConfig[1]"), &LOOP.to_string())
        .await;
    ui.click("add-message:flowConfig[1].config.steps").await;
    let inner = tid("content:flowConfig[1].config.steps[0]");
    ui.fill(&inner, "Tell me more, message {{messageIndex}}")
        .await;
    ui.js("document.activeElement.blur(); document.getElementById('flow-title').scrollIntoView();")
        .await;
    ui.screenshot("scenario-editor").await;
    ui.click("scenario-save").await;
    let scenario = wait_for_scenario(ui).await;
    let editor = format!("/scenarios/{}/edit", scenario["id"].as_str().unwrap());
    ui.wait_js(
        &format!("return location.pathname === {editor:?};"),
        "the editor of the saved scenario",
    )
    .await;
    ui.wait_text("save-status", "Saved.").await;
    let flow = &scenario["flowConfig"];
    assert_eq!(flow[0]["type"], "message", "{scenario}");
    assert_eq!(flow[0]["config"]["content"], "Hello from the browser");
    assert_eq!(flow[1]["type"], "loop", "{scenario}");
    assert_eq!(flow[1]["config"]["iterations"], LOOP);
    assert_eq!(flow[1]["config"]["steps"][0]["type"], "message");
    scenario["id"].as_str().unwrap().to_string()
}

/// `/scenarios` → Run on the scenario's row → target picked in the dialog → the session page.
async fn execute_from_scenarios(ui: &Ui, target_id: &str, scenario_id: &str) -> String {
    ui.goto("/scenarios").await;
    ui.assert_page_ok("/scenarios").await;
    let row = ui
        .css(&format!(
            "[data-testid=scenario-row][data-id=\"{scenario_id}\"]"
        ))
        .await;
    row.find(Locator::Css(&tid("scenario-execute")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    ui.wait_js(
        "return document.querySelector('[data-testid=execute-dialog]').open === true;",
        "the execute dialog to open",
    )
    .await;
    ui.id("execute-target")
        .await
        .select_by_value(target_id)
        .await
        .unwrap();
    ui.click("execute-submit").await;
    wait_for_path(ui, "/sessions/").await
}

/// Lines arrive one by one while the session runs, then the status turns COMPLETED.
async fn watch_live(ui: &Ui, session: &str) {
    let lines = "[data-testid=live-log] [data-testid=log-line]";
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let n = ui.count(lines).await;
        let status = ui.text("session-status").await;
        if seen.last() != Some(&n) {
            seen.push(n);
        }
        if n >= 3 && status == "RUNNING" && !seen.contains(&usize::MAX) {
            ui.screenshot("session-live").await;
            seen.push(usize::MAX);
        }
        if status == "COMPLETED" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "session {session} stuck at {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    seen.retain(|n| *n != usize::MAX);
    // The log must grow while the page watches (at least two different counts before the
    // session completes). Since login and the report tab, the page often opens a few exchanges
    // in, so more distinct counts are not guaranteed with a 150 ms mock.
    assert!(
        seen.len() >= 2,
        "the log did not grow over time: line counts seen {seen:?}"
    );
    let replies = ui
        .count("[data-testid=log-line][data-type=ResponseReceived]")
        .await;
    ui.wait_text("session-messages", &(LOOP + 1).to_string())
        .await;
    assert_eq!(replies, LOOP + 1);
    ui.wait_js(
        "return document.querySelector('[data-testid=live-state]').dataset.state === 'ended';",
        "the live feed to end",
    )
    .await;
    for (id, shown) in [
        ("action-cancel", false),
        ("action-restart", true),
        ("live-new-count", false),
    ] {
        assert_eq!(
            ui.displayed(id).await,
            shown,
            "{id} displayed on a completed session"
        );
    }
    let events = api(ui, &format!("/api/sessions/{session}/events")).await;
    assert_eq!(ui.count(lines).await, events.as_array().unwrap().len());
}

/// Replay tab at instant speed shows every event again.
async fn replay(ui: &Ui) {
    let live = ui
        .count("[data-testid=live-log] [data-testid=log-line]")
        .await;
    ui.click("tab-replay").await;
    ui.wait_js(
        "return !document.querySelector('[data-testid=panel-replay]').hidden;",
        "the replay panel",
    )
    .await;
    ui.click("replay-speed-instant").await;
    ui.click("replay-play").await;
    ui.wait_text("replay-position", &format!("{live} / {live} events"))
        .await;
    let replayed = ui.count("[data-testid=replay-log] > *").await;
    assert_eq!(replayed, live, "the replay log shows every event once");
    assert_eq!(ui.count("[data-testid=timeline-mark]").await, LOOP + 1);
    ui.screenshot("session-replay").await;
}

/// Command center → quick execute → the new session's page.
async fn quick_execute(ui: &Ui, target_id: &str, scenario_id: &str) -> String {
    ui.goto("/").await;
    ui.assert_page_ok("/").await;
    ui.id("quick-target")
        .await
        .select_by_value(target_id)
        .await
        .unwrap();
    ui.id("quick-scenario")
        .await
        .select_by_value(scenario_id)
        .await
        .unwrap();
    ui.click("quick-submit").await;
    wait_for_path(ui, "/sessions/").await
}

/// Waits until the URL path is `{prefix}{uuid}`; returns the uuid.
async fn wait_for_path(ui: &Ui, prefix: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let url = ui.client.current_url().await.unwrap();
        if let Some(id) = url
            .path()
            .strip_prefix(prefix)
            .filter(|id| id.parse::<uuid::Uuid>().is_ok())
        {
            return id.to_string();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still on {url}, expected {prefix}<id>"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The saved scenario named `SCENARIO`, from the API (the editor may stay on its page).
async fn wait_for_scenario(ui: &Ui) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let all = api(ui, "/api/scenarios").await;
        if let Some(s) = all
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == SCENARIO)
        {
            return s.clone();
        }
        if tokio::time::Instant::now() > deadline {
            let errors = ui
                .js("return document.querySelector('[data-testid=form-errors]').innerText")
                .await;
            panic!("the scenario was not saved; form errors: {errors}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `data` of a JSON API response.
async fn api(ui: &Ui, path: &str) -> Value {
    let resp = ui
        .http
        .get(format!("{}{path}", ui.base))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    body["data"].clone()
}
