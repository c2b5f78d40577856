//! The comparison report in Chromium: the compare page links to it, and the report renders
//! both sessions' figures, the statistics and the overlaid distributions, styled by its inline
//! stylesheet (allowed by the report's CSP hash), with no script and nothing else loaded.

use serde_json::{Value, json};

use crate::harness::{Ui, tid};
use crate::report_page::{completed, post};

async fn session(ui: &Ui, target: &Value, messages: &[&str]) -> String {
    let config = json!({"customMessages": messages});
    let body = json!({"targetId": target, "executionConfig": config});
    let started = post(ui, "/api/execute", body).await;
    let id = started["sessionId"].as_str().unwrap().to_string();
    completed(ui, &id).await;
    id
}

/// The A, B and B − A cells of a figure row.
async fn cells(ui: &Ui, figure: &str) -> Vec<String> {
    let mut out = Vec::new();
    for side in ["a", "b", "diff"] {
        let selector = format!("tr[data-figure=\"{figure}\"] td[data-side={side}]");
        out.push(ui.css(&selector).await.text().await.unwrap());
    }
    out
}

#[actix_web::test]
async fn comparison_report_renders_both_sessions_and_the_overlay() {
    let Some(ui) = Ui::start().await else { return };
    let body = json!({"presetId": "openai-chat", "name": "Compared bot",
        "endpoint": ui.mock_endpoint(), "authConfig": {"token": "sk-browser"}});
    let target = post(&ui, "/api/targets", body).await["id"].clone();
    let a = session(&ui, &target, &["one", "two", "three"]).await;
    let b = session(&ui, &target, &["alpha", "beta", "gamma", "delta"]).await;
    let cmp = post(
        &ui,
        "/api/compare",
        json!({"name": "Before vs after", "sessionAId": a, "sessionBId": b}),
    )
    .await;
    let id = cmp["id"].as_str().unwrap();

    ui.goto(&format!("/compare/{id}")).await;
    let link = ui.css(&tid("compare-report")).await;
    let href = link.attr("href").await.unwrap().unwrap();
    assert_eq!(href, format!("/api/compare/{id}/report"));
    ui.goto(&href).await;
    let title = ui.client.title().await.unwrap();
    assert_eq!(title, "Krawall comparison: Before vs after");
    assert_eq!(cells(&ui, "Messages").await, ["3", "4", "+1"]);
    let stats = &cmp["results"]["statistics"];
    let p95 = |side: &str| format!("{} ms", stats[side]["p95"]);
    let latency = cells(&ui, "Latency p95").await;
    assert_eq!(latency[..2], [p95("latencyA"), p95("latencyB")]);
    let p = ui.css("dd[data-statistic=\"p-value (two-sided)\"]").await;
    let shown: f64 = p.text().await.unwrap().parse().unwrap();
    let p_value = stats["mannWhitney"]["pValue"].as_f64().unwrap();
    assert!((shown - p_value).abs() < 1e-4, "{shown} vs {p_value}");
    let outlines = "figure[data-testid=report-chart] svg polyline[stroke-width=\"1.5\"]";
    assert_eq!(ui.count(outlines).await, 2, "A and B overlaid");
    let styled = ui
        .js("return [getComputedStyle(document.body).maxWidth, document.scripts.length];")
        .await;
    assert_eq!(
        styled,
        json!(["960px", 0]),
        "the inline stylesheet applies; no script"
    );
    let loaded = ui
        .js("return performance.getEntriesByType('resource').map(e => e.name)\n                   .filter(n => !n.endsWith('/favicon.ico'));")
        .await;
    assert_eq!(loaded, json!([]), "the report loads nothing else");
    ui.screenshot("comparison-report").await;
    ui.finish().await;
}
