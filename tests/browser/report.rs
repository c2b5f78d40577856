//! The session page's Report tab on a finished session: cards with the metric aggregates and
//! the four uPlot charts drawn from `/api/sessions/{id}/metrics`; the compare page's overlay.

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

async fn finished_session(ui: &Ui, target: &Value) -> String {
    let body = json!({"targetId": target, "executionConfig": {"customMessages": ["Hello there", "How are you?", "Bye"]}});
    let id = post(ui, "/api/execute", body).await["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..300 {
        let url = format!("{}/api/sessions/{id}", ui.base);
        let s: Value = ui.http.get(url).send().await.unwrap().json().await.unwrap();
        if s["data"]["status"] == "COMPLETED" {
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("session {id} never completed");
}

#[actix_web::test]
async fn report_tab_draws_the_metrics_of_a_finished_session() {
    let Some(ui) = Ui::start().await else { return };
    let body = json!({"presetId": "openai-chat", "name": "Mock", "endpoint": ui.mock_endpoint(),
        "authConfig": {"token": "sk-browser"}});
    let target = post(&ui, "/api/targets", body).await["id"].clone();
    let a = finished_session(&ui, &target).await;
    ui.goto(&format!("/sessions/{a}")).await;
    ui.click("tab-report").await;
    ui.wait_js(
        "return document.querySelector('[data-testid=report-state]').dataset.state === 'loaded';",
        "the report to load",
    )
    .await;
    assert_eq!(ui.text("report-exchanges").await, "3");
    assert_eq!(ui.text("report-error-rate").await, "0.0 %");
    let pcts = ui.text("report-latency-pcts").await;
    assert!(pcts.contains("ms") || pcts.contains(" s"), "{pcts}");
    for chart in [
        "report-latency",
        "report-throughput",
        "report-ttft",
        "report-errors",
    ] {
        let drawn =
            format!("return !!document.querySelector('[data-testid={chart}] .uplot canvas');");
        ui.wait_js(&drawn, chart).await;
    }
    ui.assert_resources_ok(&format!("/sessions/{a}")).await;
    ui.screenshot("session-report").await;
    let b = finished_session(&ui, &target).await;
    let cmp = post(
        &ui,
        "/api/compare",
        json!({"name": "A vs B", "sessionAId": a, "sessionBId": b}),
    )
    .await;
    ui.goto(&format!("/compare/{}", cmp["id"].as_str().unwrap()))
        .await;
    ui.css("svg polyline[data-series=b]").await;
    let verdict = ui.text("compare-verdict").await;
    assert!(
        verdict.contains("Mann") || verdict.contains("Not enough"),
        "{verdict}"
    );
    ui.finish().await;
}
