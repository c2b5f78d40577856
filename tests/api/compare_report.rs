//! The comparison report (`GET /api/compare/{id}/report`): the HTML page and the PDF (read with
//! `pdftotext`) carry both sessions' figures computed here from their message rows (latency
//! percentiles, tokens, cost from the price, Mann–Whitney U by counting pairs, the median
//! difference), the page is self-contained with its own CSP, and bad input is answered.

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Backend, TestApp, fresh_settings, spawn_with};
use crate::session_report::pdf_text;

/// One session's figures worked out from its message rows.
struct Known {
    id: String,
    latencies: Vec<i64>,
    tokens_in: i64,
    tokens_out: i64,
}

impl Known {
    /// Nearest rank (ceil(q·n)), what the HDR histogram reports for values < 2048 ms.
    fn rank(&self, q: f64) -> i64 {
        let k = ((q * self.latencies.len() as f64).ceil() as usize).max(1);
        self.latencies[k - 1]
    }

    fn median(&self) -> f64 {
        self.latencies[self.latencies.len() / 2] as f64
    }

    /// The price below: 1000 per million input tokens, 2000 per million output tokens.
    fn cost(&self) -> f64 {
        (self.tokens_in as f64 * 1000.0 + self.tokens_out as f64 * 2000.0) / 1e6
    }
}

async fn run(app: &TestApp, target: &str, messages: &[&str]) -> Known {
    let body = json!({"targetId": target, "executionConfig": {"customMessages": messages}});
    let id = app.execute(&body).await;
    assert_eq!(
        app.wait_for_status(&id, &["COMPLETED"]).await["status"],
        "COMPLETED"
    );
    let (_, msgs) = app.get(&format!("/api/sessions/{id}/messages")).await;
    let rows = msgs["data"]["messages"].as_array().unwrap().clone();
    assert_eq!(rows.len(), messages.len(), "one attempt per message");
    let sum = |key: &str| rows.iter().map(|m| m[key].as_i64().unwrap()).sum::<i64>();
    let mut latencies: Vec<i64> = rows
        .iter()
        .map(|m| m["latencyMs"].as_i64().unwrap())
        .collect();
    latencies.sort();
    assert!(
        latencies[latencies.len() - 1] < 2048,
        "exact HDR range: {latencies:?}"
    );
    Known {
        id,
        latencies,
        tokens_in: sum("tokensIn"),
        tokens_out: sum("tokensOut"),
    }
}

/// Two priced sessions (3 and 5 messages) against a mock answering in 20–50 ms, compared.
async fn compared() -> (TestApp, Known, Known, String) {
    let (settings, dir) = fresh_settings(Backend::Sqlite).await.unwrap();
    let mock = krawall::mock::MockSettings {
        latency_ms: 20,
        jitter_ms: 30,
        ..Default::default()
    };
    let app = spawn_with(settings, dir, mock).await;
    let price =
        json!({"models": [{"model": "mock-gpt-4", "inputPerMTok": 1000, "outputPerMTok": 2000}]});
    assert_eq!(app.put("/api/pricing", &price).await.0, 200);
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let a = run(&app, &target, &["one", "two", "three"]).await;
    let b = run(
        &app,
        &target,
        &["alpha", "beta", "gamma", "delta", "epsilon"],
    )
    .await;
    let body = json!({"name": "A vs B", "sessionAId": a.id, "sessionBId": b.id});
    let (status, created) = app.post("/api/compare", &body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["data"]["id"].as_str().unwrap().to_string();
    (app, a, b, id)
}

/// U of A: pairs with a > b, ties counting ½.
fn mann_whitney_u(a: &Known, b: &Known) -> f64 {
    let mut u = 0.0;
    for x in &a.latencies {
        for y in &b.latencies {
            u += if x > y {
                1.0
            } else if x == y {
                0.5
            } else {
                0.0
            };
        }
    }
    u
}

/// `(label, A, B, B − A)` rows the report must show.
fn expected_rows(a: &Known, b: &Known) -> Vec<(String, String, String, String)> {
    let mut rows = vec![
        (
            "Messages".to_string(),
            "3".to_string(),
            "5".to_string(),
            "+2".to_string(),
        ),
        (
            "Error rate".into(),
            "0.00 %".into(),
            "0.00 %".into(),
            "+0.00 pp".into(),
        ),
    ];
    for (label, q) in [
        ("Latency p50", 0.5),
        ("Latency p95", 0.95),
        ("Latency p99", 0.99),
    ] {
        let (x, y) = (a.rank(q), b.rank(q));
        rows.push((
            label.into(),
            format!("{x} ms"),
            format!("{y} ms"),
            format!("{:+} ms", y - x),
        ));
    }
    for (label, x, y) in [
        ("Tokens in", a.tokens_in, b.tokens_in),
        ("Tokens out", a.tokens_out, b.tokens_out),
        (
            "Tokens total",
            a.tokens_in + a.tokens_out,
            b.tokens_in + b.tokens_out,
        ),
    ] {
        rows.push((
            label.into(),
            x.to_string(),
            y.to_string(),
            format!("{:+}", y - x),
        ));
    }
    let (x, y) = (a.cost(), b.cost());
    rows.push((
        "Cost".into(),
        format!("{x:.6} USD"),
        format!("{y:.6} USD"),
        format!("{:+.6} USD", y - x),
    ));
    rows
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap()
}

fn check_html(html: &str, csp: &str, a: &Known, b: &Known, p_value: f64) {
    for (label, x, y, d) in expected_rows(a, b) {
        let row = format!(
            r#"<tr data-figure="{label}"><td>{label}</td><td data-side="a">{x}</td><td data-side="b">{y}</td><td data-side="diff">{d}</td></tr>"#
        );
        assert!(html.contains(&row), "{row} in the page:\n{html}");
    }
    let u = format!(
        r#"<dd data-statistic="Mann–Whitney U">{:.1} (z = "#,
        mann_whitney_u(a, b)
    );
    assert!(html.contains(&u), "{u}");
    let p = format!(r#"<dd data-statistic="p-value (two-sided)">{p_value:.4}</dd>"#);
    assert!(html.contains(&p), "{p}");
    let median = format!(
        r#"<dd data-statistic="Median latency B - A">{:+.1} ms</dd>"#,
        b.median() - a.median()
    );
    assert!(html.contains(&median), "{median}");
    assert!(html.contains("A vs B") && html.contains(&a.id) && html.contains(&b.id));
    assert_eq!(html.matches("<svg").count(), 1, "the overlay chart");
    assert_eq!(
        html.matches("<polyline").count(),
        7,
        "5 grid lines + 2 outlines"
    );
    for external in ["<script", "<link", "src=", "href=", "url("] {
        assert!(!html.contains(external), "self-contained: no {external}");
    }
    let style = html
        .split("<style>")
        .nth(1)
        .unwrap()
        .split("</style>")
        .next()
        .unwrap();
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style.as_bytes()));
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(csp.contains(&format!("style-src 'sha256-{hash}'")), "{csp}");
    assert!(
        !csp.contains("script-src") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
}

fn check_pdf(text: &str, a: &Known, b: &Known, p_value: f64) {
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let mut wanted: Vec<String> = expected_rows(a, b)
        .into_iter()
        .map(|(label, x, y, d)| format!("{label} {x} {y} {d}"))
        .collect();
    wanted.push(format!("p-value (two-sided): {p_value:.4}"));
    wanted.push(format!("Mann–Whitney U: {:.1}", mann_whitney_u(a, b)));
    wanted.push("Krawall comparison: A vs B".into());
    wanted.push("Latency distributions (share of replies per bin; A blue, B red)".into());
    for w in wanted {
        assert!(
            lines.iter().any(|l| l.starts_with(&w)),
            "{w:?} in the PDF text:\n{text}"
        );
    }
}

#[actix_web::test]
async fn comparison_report_shows_both_sessions_and_the_statistics() {
    let (app, a, b, id) = compared().await;
    let (_, got) = app.get(&format!("/api/compare/{id}")).await;
    let stats: &Value = &got["data"]["results"]["statistics"];
    let p_value = stats["mannWhitney"]["pValue"].as_f64().unwrap();
    assert!(p_value >= 1e-4, "3 vs 5 samples: {p_value}");
    assert_eq!(
        stats["mannWhitney"]["u"].as_f64(),
        Some(mann_whitney_u(&a, &b))
    );

    let r = get(&app, &format!("/api/compare/{id}/report")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    check_html(&r.text().await.unwrap(), &csp, &a, &b, p_value);

    let r = get(&app, &format!("/api/compare/{id}/report?format=pdf")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.contains(&format!("krawall-comparison-{id}.pdf")),
        "{disposition}"
    );
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    check_pdf(&pdf_text(&pdf), &a, &b, p_value);

    let page = get(&app, &format!("/compare/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(r#"href="/api/compare/{id}/report""#)),
        "a link on the page"
    );
}

#[actix_web::test]
async fn comparison_report_answers_bad_input() {
    let (app, _, _, id) = compared().await;
    let (status, err) = app
        .get(&format!("/api/compare/{id}/report?format=docx"))
        .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["details"][0]["field"], "format", "{err}");
    let rule = err["details"][0]["rule"].as_str().unwrap();
    assert!(rule.contains("html, pdf"), "{rule}");
    let unknown = uuid::Uuid::new_v4();
    let (status, _) = app.get(&format!("/api/compare/{unknown}/report")).await;
    assert_eq!(status, 404);
    let (status, _) = app.get("/api/compare/not-an-id/report?format=pdf").await;
    assert_eq!(status, 404);
}
