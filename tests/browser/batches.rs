//! The batch pages as a user sees them: a batch over two targets (one answers, one refuses
//! connections) in the list, then its target-by-target comparison once every session ended.

use serde_json::{Value, json};

use crate::harness::Ui;

async fn post(ui: &Ui, path: &str, body: Value) -> Value {
    let resp = ui
        .http
        .post(format!("{}{path}", ui.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json::<Value>().await.unwrap()["data"].clone()
}

#[actix_web::test]
async fn batch_list_and_comparison() {
    let Some(ui) = Ui::start().await else { return };
    let mut targets = Vec::new();
    for (name, endpoint) in [
        ("Answers", ui.mock_endpoint()),
        (
            "Refuses",
            "http://127.0.0.1:9/v1/chat/completions".to_string(),
        ),
    ] {
        let body = json!({"presetId": "openai-chat", "name": name, "endpoint": endpoint,
            "authConfig": {"token": "sk-browser"}});
        targets.push(post(&ui, "/api/targets", body).await["id"].clone());
    }
    let scenario = json!({"name": "Compare", "flowConfig": [
        {"type": "message", "config": {"content": "Hello"}}]});
    let scenario = post(&ui, "/api/scenarios", scenario).await["id"].clone();
    let batch = post(
        &ui,
        "/api/execute/batch",
        json!({"scenarioId": scenario, "targetIds": targets,
            "executionConfig": {"errorHandling": {"onError": "abort"}}}),
    )
    .await;
    let id = batch["batchId"].as_str().unwrap().to_string();
    for _ in 0..100 {
        ui.goto("/batches").await;
        ui.assert_page_ok("/batches").await;
        let row = ui.css(&format!("[data-batch=\"{id}\"]")).await;
        if row.text().await.unwrap().contains("PARTIAL") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    ui.css(&format!("[data-batch=\"{id}\"] a"))
        .await
        .click()
        .await
        .unwrap();
    ui.wait_text("batch-status", "PARTIAL").await;
    ui.assert_resources_ok(&format!("/batches/{id}")).await;
    assert_eq!(ui.count("[data-testid=comparison-row]").await, 2);
    let answers = ui
        .css("[data-target=\"Answers\"]")
        .await
        .text()
        .await
        .unwrap();
    assert!(answers.contains("COMPLETED"), "{answers}");
    let refuses = ui
        .css("[data-target=\"Refuses\"]")
        .await
        .text()
        .await
        .unwrap();
    assert!(refuses.contains("FAILED"), "{refuses}");
    ui.screenshot("batch-comparison").await;
    ui.finish().await;
}
