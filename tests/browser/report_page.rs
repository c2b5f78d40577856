//! The session report in Chromium: the session page links to it, and the report renders its
//! summary figures and SVG charts without loading anything else (self-contained).

use serde_json::{Value, json};

use crate::harness::{Ui, tid};

pub async fn post(ui: &Ui, path: &str, body: Value) -> Value {
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

pub async fn completed(ui: &Ui, id: &str) -> Value {
    for _ in 0..200 {
        let resp: Value = ui
            .http
            .get(format!("{}/api/sessions/{id}", ui.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if resp["data"]["status"] == "COMPLETED" {
            return resp["data"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("session {id} did not complete");
}

#[actix_web::test]
async fn session_report_renders_its_figures_and_charts() {
    let Some(ui) = Ui::start().await else { return };
    let body = json!({"presetId": "openai-chat", "name": "Report bot",
        "endpoint": ui.mock_endpoint(), "authConfig": {"token": "sk-browser"}});
    let target = post(&ui, "/api/targets", body).await["id"].clone();
    let config = json!({"customMessages": ["one", "two", "three", "four"]});
    let started = post(
        &ui,
        "/api/execute",
        json!({"targetId": target, "executionConfig": config}),
    )
    .await;
    let id = started["sessionId"].as_str().unwrap().to_string();
    let session = completed(&ui, &id).await;

    ui.goto(&format!("/sessions/{id}")).await;
    let link = ui.css(&tid("action-report")).await;
    let href = link.attr("href").await.unwrap().unwrap();
    assert_eq!(href, format!("/api/sessions/{id}/report"));
    ui.goto(&href).await;
    let title = ui.client.title().await.unwrap();
    assert!(title.starts_with("Krawall report"), "{title}");
    let figure = |name: &str| format!("dd[data-figure=\"{name}\"]");
    let messages = ui.css(&figure("Messages")).await.text().await.unwrap();
    assert_eq!(messages, "4");
    let p95 = ui.css(&figure("Latency p95")).await.text().await.unwrap();
    assert_eq!(
        p95,
        format!("{} ms", session["summaryMetrics"]["p95LatencyMs"])
    );
    assert!(
        ui.count("figure[data-testid=report-chart] svg rect").await >= 5,
        "percentile bars"
    );
    assert!(
        ui.count("figure[data-testid=report-chart] svg polyline")
            .await
            >= 2
    );
    let loaded = ui
        .js("return performance.getEntriesByType('resource').map(e => e.name)\n                   .filter(n => !n.endsWith('/favicon.ico'));")
        .await;
    assert_eq!(loaded, json!([]), "the report loads nothing else");
    let styled = ui
        .js("return getComputedStyle(document.body).maxWidth;")
        .await;
    assert_eq!(
        styled,
        json!("960px"),
        "the CSP lets the inline stylesheet apply"
    );
    ui.screenshot("session-report").await;
    ui.finish().await;
}
