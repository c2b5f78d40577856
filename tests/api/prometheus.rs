//! `GET /metrics` parses as Prometheus text and follows the exchanges a session makes; the
//! scrape-time families (append latency, nodes, leases) are there.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{Backend, TestApp, spawn_app};

async fn scrape(app: &TestApp) -> prometheus_parse::Scrape {
    let resp = app
        .client
        .get(format!("{}/metrics", app.address))
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn value(scrape: &prometheus_parse::Scrape, name: &str, label: (&str, &str)) -> Option<f64> {
    scrape.samples.iter().find_map(|s| {
        let matches = s.metric == name && s.labels.get(label.0) == Some(label.1);
        match (&s.value, matches) {
            (
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v),
                true,
            ) => Some(*v),
            _ => None,
        }
    })
}

/// Append latency of this node's commits, and the node list (this `serve` node, no worker).
fn assert_scrape_time_families(scrape: &prometheus_parse::Scrape) {
    let append = scrape
        .samples
        .iter()
        .find(|s| s.metric == "krawall_store_append_seconds")
        .expect("krawall_store_append_seconds");
    let prometheus_parse::Value::Histogram(buckets) = &append.value else {
        panic!("{append:?}")
    };
    assert!(
        buckets.last().unwrap().count >= 2.0,
        "the target, the session and its exchanges were committed: {buckets:?}"
    );
    assert!(
        buckets.windows(2).all(|w| w[0].count <= w[1].count),
        "cumulative buckets: {buckets:?}"
    );
    assert_eq!(value(scrape, "krawall_nodes", ("role", "serve")), Some(1.0));
    assert_eq!(
        value(scrape, "krawall_nodes", ("role", "worker")),
        Some(0.0)
    );
    let running = scrape
        .samples
        .iter()
        .find(|s| s.metric == "krawall_node_running_sessions")
        .expect("krawall_node_running_sessions");
    assert_eq!(running.labels.get("role"), Some("serve"));
    assert!(
        scrape
            .samples
            .iter()
            .any(|s| s.metric == "krawall_node_leases")
    );
}

#[actix_web::test]
async fn metrics_parse_and_count_a_sessions_exchanges() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (_, page) = app.get("/metrics").await;
    assert!(
        page.is_null(),
        "without the text Accept header /metrics is the dashboard page"
    );
    let before = scrape(&app).await;
    assert!(
        before
            .samples
            .iter()
            .any(|s| s.metric == "krawall_event_log_head")
    );
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let id = app
        .execute(
            &json!({"targetId": target, "executionConfig": {"customMessages": ["a", "b", "c"]}}),
        )
        .await;
    app.wait_for_status(&id, &["COMPLETED"]).await;
    let mut ok = None;
    for _ in 0..50 {
        let after = scrape(&app).await;
        ok = value(&after, "krawall_exchanges_total", ("outcome", "ok"));
        if ok == Some(3.0) {
            assert_eq!(
                value(&after, "krawall_sessions", ("status", "COMPLETED")),
                Some(1.0)
            );
            assert!(value(&after, "krawall_tokens_total", ("direction", "in")).unwrap() > 0.0);
            let latency = after
                .samples
                .iter()
                .find(|s| s.metric == "krawall_exchange_latency_seconds")
                .unwrap();
            let prometheus_parse::Value::Histogram(buckets) = &latency.value else {
                panic!("{latency:?}")
            };
            assert_eq!(
                buckets.last().unwrap().count,
                3.0,
                "the +Inf bucket counts every reply"
            );
            assert_scrape_time_families(&after);
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("krawall_exchanges_total{{outcome=\"ok\"}} stayed at {ok:?}");
}
