//! Worker nodes on one PostgreSQL database: `serve --no-dispatch` offers sessions, three real
//! `krawall worker` processes claim them through leases; every session runs exactly once (the bot
//! counts requests per session id), and after `kill -9` of a worker its sessions are ended as
//! interrupted by the others — none left RUNNING, none re-run, no exchange sent twice.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use actors::runtime::NodeRole;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::helpers::{Backend, TestApp, fresh_settings, spawn_with};
use crate::recording_bot::RecordingBot;

const MESSAGES: usize = 6;
const SESSIONS: usize = 12;

fn spawn_worker(database_url: &str, data_dir: &Path, n: usize) -> Child {
    Command::new(env!("CARGO_BIN_EXE_krawall"))
        .args(["worker", "--database-url", database_url, "--data-dir"])
        .arg(data_dir)
        .args([
            "--node-id",
            &format!("worker-{n}"),
            "--lease-ttl-ms",
            "3000",
        ])
        .args(["--max-concurrent-sessions", "4"])
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Requests the bot received per session id (each message names its session).
fn per_session(bot: &RecordingBot) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for body in bot.requests() {
        let messages = body["messages"].as_array().cloned().unwrap_or_default();
        let last = messages
            .last()
            .and_then(|m| m["content"].as_str())
            .unwrap_or("");
        if let Some(id) = last.split_whitespace().find_map(|w| w.strip_prefix("s=")) {
            *counts.entry(id.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

async fn queue_sessions(app: &TestApp, bot: &RecordingBot) -> Vec<String> {
    let target = app
        .create(
            "/api/targets",
            &json!({"presetId": "openai-chat", "name": "bot",
                    "endpoint": format!("{}/v1/chat/completions", bot.url), "authConfig": {"token": "sk-1"}}),
        )
        .await;
    let flow: Vec<Value> = (0..MESSAGES)
        .map(|i| json!({"type": "message", "config": {"content": format!("s={{{{sessionId}}}} m={i}")}}))
        .collect();
    let scenario = app
        .create(
            "/api/scenarios",
            &json!({"name": "workers", "flowConfig": flow}),
        )
        .await;
    let mut ids = Vec::new();
    for _ in 0..SESSIONS {
        ids.push(
            app.execute(&json!({"targetId": target, "scenarioId": scenario}))
                .await,
        );
    }
    ids
}

async fn wait_for_requests(bot: &RecordingBot, n: usize) {
    for _ in 0..600 {
        if bot.requests().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the workers sent fewer than {n} requests in 30 s");
}

#[actix_web::test]
async fn three_workers_run_each_session_once_and_take_over_a_killed_one() {
    let Some((mut settings, dir)) = fresh_settings(Backend::Postgres).await else {
        return;
    };
    settings.role = NodeRole::ServeNoDispatch;
    let database_url = settings.database_url.clone().unwrap();
    let data_dir = settings.data_dir.clone();
    let app = spawn_with(settings, dir, Default::default()).await;
    let bot = RecordingBot::start(Duration::from_millis(200)).await;
    let mut workers: Vec<Child> = (1..=3)
        .map(|n| spawn_worker(&database_url, &data_dir, n))
        .collect();
    let ids = queue_sessions(&app, &bot).await;
    wait_for_requests(&bot, SESSIONS).await;
    let victim = busy_worker(&app).await;
    workers[victim].start_kill().unwrap();
    workers[victim].wait().await.unwrap();
    let at_kill = per_session(&bot);

    let mut interrupted = Vec::new();
    for id in &ids {
        let s = app.wait_for_status(id, &["COMPLETED", "FAILED"]).await;
        let sent = per_session(&bot).get(id.as_str()).copied().unwrap_or(0);
        if s["status"] == "COMPLETED" {
            assert_eq!(sent, MESSAGES, "session {id} ran more or less than once");
        } else {
            assert_eq!(s["failureReason"], "interrupted", "{s}");
            interrupted.push(id.clone());
        }
    }
    assert!(!interrupted.is_empty(), "the killed worker ran no session");
    assert!(
        interrupted.len() < SESSIONS,
        "the other workers ran nothing"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let end = per_session(&bot);
    for id in &interrupted {
        assert_eq!(
            end.get(id.as_str()),
            at_kill.get(id.as_str()),
            "{id} was re-run"
        );
        assert_no_duplicate_exchange(&app, id).await;
    }
    assert_nodes_listed(&app).await;
    for w in &mut workers {
        let _ = w.start_kill();
    }
}

/// The index of a worker that holds leases right now (from the node list).
async fn busy_worker(app: &TestApp) -> usize {
    for _ in 0..200 {
        let (_, health) = app.get("/api/health").await;
        let nodes = health["data"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let busy = nodes.iter().find_map(|n| {
            let id = n["nodeId"].as_str()?.strip_prefix("worker-")?;
            (n["leases"].as_i64()? > 0).then(|| id.parse::<usize>().ok())?
        });
        if let Some(n) = busy {
            return n - 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no worker holds a lease");
}

async fn assert_no_duplicate_exchange(app: &TestApp, id: &str) {
    let (_, rows) = app.get(&format!("/api/sessions/{id}/messages")).await;
    let rows = rows["data"]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    for r in &rows {
        let key = format!(
            "{}/{}/{}",
            r["messageIndex"], r["repetitionIndex"], r["attempt"]
        );
        assert!(seen.insert(key), "duplicate exchange in {id}: {r}");
    }
}

async fn assert_nodes_listed(app: &TestApp) {
    let (_, health) = app.get("/api/health").await;
    let nodes = health["data"]["nodes"].as_array().unwrap();
    let names: Vec<&str> = nodes.iter().filter_map(|n| n["nodeId"].as_str()).collect();
    for w in ["worker-1", "worker-2", "worker-3"] {
        assert!(names.contains(&w), "{w} missing from {health}");
    }
    assert!(
        nodes.iter().any(|n| n["role"] == "serve-no-dispatch"),
        "{health}"
    );
    assert!(
        health["data"]["node"]["running"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
