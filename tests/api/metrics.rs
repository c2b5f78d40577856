//! Metric routes end to end: a session's aggregates against its own message rows (and its
//! total row against the merge of its buckets, before and after a rebuild), upstream's
//! `/api/metrics`, the 17-column export (CSV and JSON), dashboard stats, A/B compare, and bad
//! input answered with 400 naming the field.

use projections::queries;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};

async fn run_session(app: &TestApp, target: &str, messages: &[&str]) -> String {
    let body = json!({"targetId": target, "executionConfig": {"customMessages": messages}});
    let id = app.execute(&body).await;
    let done = app.wait_for_status(&id, &["COMPLETED"]).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    id
}

/// Nearest-rank percentile (rank ceil(q·n)), as the HDR histogram reports exact values < 2048.
fn rank(sorted: &[i64], q: f64) -> i64 {
    let k = ((q * sorted.len() as f64).ceil() as usize).max(1);
    sorted[k - 1]
}

async fn check_session_metrics(app: &TestApp, id: &str) {
    let (_, msgs) = app.get(&format!("/api/sessions/{id}/messages")).await;
    let rows = msgs["data"]["messages"].as_array().unwrap();
    let mut lat: Vec<i64> = rows
        .iter()
        .map(|m| m["latencyMs"].as_i64().unwrap())
        .collect();
    lat.sort();
    let quality: Vec<f64> = rows
        .iter()
        .map(|m| m["qualityScore"].as_f64().unwrap())
        .collect();
    let tokens_out: i64 = rows.iter().map(|m| m["tokensOut"].as_i64().unwrap()).sum();
    let (status, m) = app.get(&format!("/api/sessions/{id}/metrics")).await;
    assert_eq!(status, 200, "{m}");
    let m = &m["data"];
    assert_eq!(
        (m["exchanges"].as_i64(), m["replies"].as_i64()),
        (Some(3), Some(3)),
        "{m}"
    );
    assert_eq!(
        (m["errors"].as_i64(), m["errorRate"].as_f64()),
        (Some(0), Some(0.0))
    );
    assert_eq!(m["tokensOut"].as_i64(), Some(tokens_out));
    let latency = &m["latency"];
    if lat[2] < 2048 {
        assert_eq!(latency["min"].as_i64(), Some(lat[0].max(1)), "{latency}");
        assert_eq!(latency["p50"].as_i64(), Some(rank(&lat, 0.5).max(1)));
        assert_eq!(latency["p99"].as_i64(), Some(lat[2].max(1)));
    }
    let mean_q = quality.iter().sum::<f64>() / 3.0;
    assert!(
        (m["qualityMean"].as_f64().unwrap() - mean_q).abs() < 1e-3,
        "{m}"
    );
    assert!(quality.iter().all(|q| (0.0..=1.0).contains(q)));
    let timeline = m["timeline"].as_array().unwrap();
    let in_buckets: i64 = timeline
        .iter()
        .map(|b| b["exchanges"].as_i64().unwrap())
        .sum();
    assert_eq!(in_buckets, 3);
    assert!(timeline.iter().all(|b| b["widthMs"] == 1000), "{m}");
}

async fn check_upstream_routes(app: &TestApp, id: &str) {
    let (status, list) = app.get(&format!("/api/metrics?sessionId={id}")).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"]["total"], 1);
    assert_eq!(list["data"]["aggregate"]["totalSessions"], 1);
    assert_eq!(list["data"]["aggregate"]["totalMessages"], 3);
    let url = format!(
        "{}/api/metrics/export?sessionId={id}&format=csv",
        app.address
    );
    let csv = app
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(reader.headers().unwrap().len(), 17);
    assert_eq!(&reader.headers().unwrap()[16], "Tokens Per Second");
    let record = reader.records().next().unwrap().unwrap();
    assert_eq!((&record[0], &record[6], &record[14]), (id, "3", "0"));
    let url = format!(
        "{}/api/metrics/export?sessionId={id}&format=json",
        app.address
    );
    let json: Value = app
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json.as_object().unwrap().len(), 17, "{json}");
    assert_eq!(json["Session ID"], id);
    assert_eq!(json["Message Count"], 3);
    let (status, err) = app
        .get(&format!("/api/metrics/export?sessionId={id}&format=xml"))
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["details"][0]["field"], "format", "{err}");
    let (status, err) = app.get("/api/metrics?limit=5000").await;
    assert_eq!(
        (status, err["details"][0]["field"].as_str()),
        (400, Some("limit"))
    );
}

async fn check_dashboard_stats(app: &TestApp, id: &str) {
    let (status, stats) = app.get("/api/dashboard/stats").await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["data"]["counts"]["targets"], 1);
    assert!(
        stats["data"]["recentSessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == id)
    );
}

async fn check_compare(app: &TestApp, a: &str, b: &str) {
    let body = json!({"name": "a vs b", "sessionAId": a, "sessionBId": b});
    let (status, created) = app.post("/api/compare", &body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["data"]["id"].as_str().unwrap();
    let (status, got) = app.get(&format!("/api/compare/{id}")).await;
    assert_eq!(status, 200, "{got}");
    let results = &got["data"]["results"];
    assert_eq!(results["messageCount"]["a"], 3.0);
    assert!(["A", "B", "tie"].contains(&results["winner"].as_str().unwrap()));
    let p = results["statistics"]["mannWhitney"]["pValue"].as_f64();
    assert!(p.is_none_or(|p| (0.0..=1.0).contains(&p)), "{results}");
    assert_eq!(
        results["statistics"]["distribution"]["a"]
            .as_array()
            .unwrap()
            .len(),
        20
    );
    let same = json!({"name": "x", "sessionAId": a, "sessionBId": a});
    let (status, err) = app.post("/api/compare", &same).await;
    assert_eq!(
        (status, err["details"][0]["field"].as_str()),
        (400, Some("sessionBId")),
        "{err}"
    );
    let unnamed = json!({"name": " ", "sessionAId": a, "sessionBId": b});
    let (status, err) = app.post("/api/compare", &unnamed).await;
    assert_eq!(
        (status, err["details"][0]["field"].as_str()),
        (400, Some("name")),
        "{err}"
    );
    let page = app
        .client
        .get(format!("{}/compare/{id}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<svg") && html.contains("data-series=\"a\""),
        "overlay chart"
    );
}

/// The session's total row equals the merge of its bucket rows; a rebuild from the events gives
/// the same metrics.
async fn check_total_row_after_a_rebuild(app: &TestApp, id: &str) {
    let pool = app.core.store.pool();
    let (_, before) = app.get(&format!("/api/sessions/{id}/metrics")).await;
    let m = queries::session_metrics(pool, id).await.unwrap();
    let merged = queries::bucket_totals(pool, id, m.duration_ms)
        .await
        .unwrap();
    assert_eq!(m.totals, merged);
    assert_eq!(merged.exchanges, 3);
    projections::rebuild(&app.core.store, &projections::all_projections())
        .await
        .unwrap();
    let (_, after) = app.get(&format!("/api/sessions/{id}/metrics")).await;
    assert_eq!(after, before);
    let m = queries::session_metrics(pool, id).await.unwrap();
    let rebuilt = queries::bucket_totals(pool, id, m.duration_ms)
        .await
        .unwrap();
    assert_eq!((&m.totals, &rebuilt), (&merged, &merged));
}

async fn metrics_routes(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let a = run_session(
        &app,
        &target,
        &["What is the capital of France?", "two", "three"],
    )
    .await;
    check_session_metrics(&app, &a).await;
    check_upstream_routes(&app, &a).await;
    check_dashboard_stats(&app, &a).await;
    let b = run_session(&app, &target, &["one", "two", "three"]).await;
    check_compare(&app, &a, &b).await;
    check_total_row_after_a_rebuild(&app, &b).await;
}

#[actix_web::test]
async fn metrics_routes_sqlite() {
    metrics_routes(Backend::Sqlite).await;
}

#[actix_web::test]
async fn metrics_routes_postgres() {
    metrics_routes(Backend::Postgres).await;
}
