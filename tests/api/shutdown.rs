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

/// Starts `krawall serve` (loopback, authentication off) on a free port over `dir`; returns the
/// child and its base URL.
async fn start_serve(dir: &std::path::Path) -> (tokio::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_krawall"))
        .args([
            "serve",
            "--no-auth",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while reqwest::get(format!("{base}/api/health")).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (child, base)
}

/// Queues three sessions that send one message and then wait 5 minutes; returns once all run.
async fn start_slow_sessions(client: &reqwest::Client, base: &str, bot: String) -> Vec<String> {
    let target = json!({
        "name": "mock", "connectorType": "HTTP_REST", "endpoint": format!("{bot}/v1/chat/completions"),
        "authType": "NONE", "authConfig": {},
        "requestTemplate": {"messagePath": "messages.0.content", "structure": {"model": "m", "messages": [{"role": "user", "content": "{{message}}"}]}},
        "responseTemplate": {"responsePath": "choices.0.message.content"}
    });
    let post = reqwest::Method::POST;
    let target = call(
        client,
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
        client,
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
            client,
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
                client,
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
    ids
}

/// Sends SIGTERM and waits for a clean exit; returns the node's log.
async fn terminate(mut child: tokio::process::Child) -> String {
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
    log
}

#[actix_web::test]
async fn sigterm_interrupts_running_sessions_and_leaves_none_running() {
    let (mut settings, dir) = fresh_settings(Backend::Sqlite).await.unwrap();
    let bot = start_mock(
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        MockSettings::default(),
    )
    .await
    .unwrap();
    let (child, base) = start_serve(dir.path()).await;
    let ids = start_slow_sessions(&reqwest::Client::new(), &base, bot.url()).await;
    let log = terminate(child).await;
    assert!(log.contains("interrupting running sessions"), "{log}");
    // Reopen the same data dir without start-up recovery: what the stopped node left behind.
    settings.recover_sessions = false;
    let app = spawn_with(settings, dir, MockSettings::default()).await;
    for id in &ids {
        let (_, events) = app.get(&format!("/api/sessions/{id}/events")).await;
        let events = events["data"].as_array().unwrap().clone();
        let failed = events
            .iter()
            .find(|e| e["type"] == "SessionFailed")
            .unwrap_or_else(|| panic!("no SessionFailed in {events:?}"));
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
