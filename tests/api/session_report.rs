//! The session report: the self-contained HTML page and the PDF (read with poppler's
//! `pdftotext`, which must be installed: `.ci/run` installs it) carry the summary's figures,
//! the threshold verdicts and the cost.

use serde_json::json;

use crate::helpers::{Backend, TestApp, spawn_app};

/// Text of a PDF as `pdftotext -layout` extracts it.
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed: .ci/run installs it");
    assert!(out.status.success(), "pdftotext opens the PDF: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A priced session of three messages with a threshold; returns its id and summary.
async fn priced_session(app: &TestApp) -> (String, serde_json::Value) {
    let body =
        json!({"models": [{"model": "mock-gpt-4", "inputPerMTok": 1000, "outputPerMTok": 2000}]});
    assert_eq!(app.put("/api/pricing", &body).await.0, 200);
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let config = json!({"customMessages": ["same question", "same question", "other"],
        "thresholds": {"latency_p95_ms": "<60000"}});
    let id = app
        .execute(&json!({"targetId": target, "executionConfig": config}))
        .await;
    let session = app.wait_for_status(&id, &["COMPLETED"]).await;
    (id, session["summaryMetrics"].clone())
}

#[actix_web::test]
async fn html_and_pdf_reports_show_the_summary_figures() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (id, summary) = priced_session(&app).await;
    let p95 = summary["p95LatencyMs"].as_u64().unwrap();
    let cost = format!("{:.6} USD", summary["cost"].as_f64().unwrap());

    let r = app
        .client
        .get(format!("{}/api/sessions/{id}/report", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"<dd data-figure="Messages">3</dd>"#),
        "{html}"
    );
    assert!(html.contains(&format!(r#"<dd data-figure="Latency p95">{p95} ms</dd>"#)));
    assert!(html.contains(&cost), "cost {cost} in the page");
    assert!(html.contains("latency_p95_ms") && html.contains("passed"));
    assert!(
        html.matches("<svg").count() >= 2,
        "percentile and throughput charts"
    );
    for external in ["<script", "<link", "src=", "href=", "url("] {
        assert!(!html.contains(external), "self-contained: no {external}");
    }

    let r = app
        .client
        .get(format!(
            "{}/api/sessions/{id}/report?format=pdf",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_text(&pdf);
    for figure in [
        "Krawall report".to_string(),
        "Messages: 3".into(),
        format!("Latency p95: {p95} ms"),
        format!("Cost: {cost}"),
        "latency_p95_ms <60000".into(),
        "Latency percentiles".into(),
        "Top repeated replies".into(),
    ] {
        assert!(
            text.contains(&figure),
            "{figure:?} in the PDF text:\n{text}"
        );
    }
}
