//! Graceful SIGTERM on the real `krawall serve` binary: running sessions are marked interrupted
//! (not left RUNNING), the appender is flushed and the process exits within a bounded time.

use std::process::Stdio;
use std::time::{Duration, Instant};

use krawall::mock::{MockSettings, start_mock};
use serde_json::{Value, json};

use crate::helpers::{Backend, fresh_settings, spawn_with};

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> Value {
    let mut req = client.request(method, url);
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap().json().await.unwrap()
}

#[actix_web::test]
async fn sigterm_interrupts_running_sessions_and_leaves_none_running() {
    let (mut settings, dir) = fresh_settings(Backend::Sqlite).await.unwrap();
    let mock = start_mock(
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        MockSettings::default(),
    )
    .await
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_krawall"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client
        .get(format!("{base}/api/health"))
        .send()
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let target = json!({
        "name": "mock", "connectorType": "HTTP_REST", "endpoint": format!("{}/v1/chat/completions", mock.url()),
        "authType": "NONE", "authConfig": {},
        "requestTemplate": {"messagePath": "messages.0.content", "structure": {"model": "m", "messages": [{"role": "user", "content": "{{message}}"}]}},
        "responseTemplate": {"responsePath": "choices.0.message.content"}
    });
    let post = reqwest::Method::POST;
    let target = call(
        &client,
        post.clone(),
        format!("{base}/api/targets"),
        Some(target),
    )
    .await;
    let target = target["data"]["id"].as_str().unwrap().to_string();
    let slow = json!({"name": "slow", "flowConfig": [
        {"type": "message", "config": {"content": "hi"}},
        {"type": "delay", "config": {"durationMs": 300000}}
    ]});
    let scenario = call(
        &client,
        post.clone(),
        format!("{base}/api/scenarios"),
        Some(slow),
    )
    .await;
    let scenario = scenario["data"]["id"].as_str().unwrap().to_string();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let body = json!({"targetId": target, "scenarioId": scenario});
        let resp = call(
            &client,
            post.clone(),
            format!("{base}/api/execute"),
            Some(body),
        )
        .await;
        ids.push(resp["data"]["sessionId"].as_str().unwrap().to_string());
    }
    for id in &ids {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = call(
                &client,
                reqwest::Method::GET,
                format!("{base}/api/sessions/{id}"),
                None,
            )
            .await;
            if s["data"]["status"] == "RUNNING" {
                break;
            }
            assert!(Instant::now() < deadline, "{s}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let pid = child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("serve exits within 20 s of SIGTERM")
        .unwrap();
    let mut log = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        use tokio::io::AsyncReadExt;
        let _ = stderr.read_to_string(&mut log).await;
    }
    assert!(status.success(), "{status:?}\n{log}");
    assert!(log.contains("interrupting running sessions"), "{log}");
    // Reopen the same data dir without start-up recovery: what the stopped node left behind.
    settings.recover_sessions = false;
    let app = spawn_with(settings, dir, MockSettings::default()).await;
    for id in &ids {
        let (_, events) = app.get(&format!("/api/sessions/{id}/events")).await;
        let types: Vec<&str> = events["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        let failed = events["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == "SessionFailed")
            .cloned()
            .unwrap_or_else(|| panic!("no SessionFailed in {types:?}"));
        assert_eq!(failed["data"]["reason"], "interrupted", "{failed}");
        assert!(
            failed["data"]["error"]
                .as_str()
                .unwrap()
                .contains("SIGTERM"),
            "{failed}"
        );
        // The read models catch up with the log after the restart.
        let s = app.wait_for_status(id, &["FAILED"]).await;
        assert_eq!(s["failureReason"], "interrupted", "{s}");
    }
    let (_, running) = app.get("/api/sessions?status=RUNNING").await;
    assert_eq!(running["data"]["total"], 0, "{running}");
}
