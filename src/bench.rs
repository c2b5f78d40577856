//! `krawall bench`: event appends/s per backend (group commit) and conversations/messages per
//! second against the in-process mock at 0 ms latency, with CPU time per message.
//! A benchmark, not a test: it prints figures and asserts nothing about speed.

use std::time::Instant;

use actors::commands::{ExecuteRequest, ExecutionOverrides};
use actors::domain::scenario_input::parse_scenario;
use actors::store::{AppendRequest, EventStore, ExpectedVersion, NewEvent};
use anyhow::Context;
use futures_util::StreamExt;
use serde_json::json;
use uuid::Uuid;

use crate::cli::BenchArgs;
use crate::config::Settings;
use crate::mock::{MockSettings, start_mock};
use crate::startup::Core;

/// Process CPU time (user + system) in seconds, from /proc/self/stat (clock ticks at 100 Hz).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

async fn bench_appends(label: &str, url: &str, events: usize) -> anyhow::Result<()> {
    let store = EventStore::connect(url).await?;
    let appender = store.batching(1024);
    let writers = 500usize;
    let per_writer = events.div_ceil(writers);
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let tasks = (0..writers).map(|_| {
        let appender = appender.clone();
        tokio::spawn(async move {
            let stream_id = format!("bench-{}", Uuid::now_v7());
            for version in 0..per_writer as i64 {
                let event = NewEvent {
                    event_id: Uuid::now_v7(),
                    event_type: "BenchEvent".into(),
                    payload: json!({"n": version, "text": "x".repeat(200)}),
                    metadata: json!({}),
                };
                let expected = if version == 0 {
                    ExpectedVersion::NoStream
                } else {
                    ExpectedVersion::Exact(version)
                };
                appender
                    .append(AppendRequest {
                        stream_id: stream_id.clone(),
                        expected,
                        events: vec![event],
                    })
                    .await?;
            }
            Ok::<_, actors::store::AppendError>(())
        })
    });
    for result in futures_util::future::join_all(tasks).await {
        result??;
    }
    let secs = started.elapsed().as_secs_f64();
    let total = writers * per_writer;
    println!(
        "appends  {label:<9} {total:>8} events, {writers} concurrent writers, 1 event/append: {:>9.0} events/s, CPU {:.1} µs/event",
        total as f64 / secs,
        (cpu_seconds() - cpu) * 1e6 / total as f64
    );
    Ok(())
}

async fn bench_conversations(conversations: u32, messages: u32) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let mut settings = Settings::new(dir.clone());
    settings.recover_sessions = false;
    settings.max_concurrent_sessions = conversations as usize;
    let core = Core::start(&settings).await?;
    let mock = start_mock(
        std::net::TcpListener::bind("127.0.0.1:0")?,
        MockSettings::default(),
    )
    .await?;
    let target = serde_json::from_value(json!({
        "name": "bench", "connectorType": "HTTP_REST", "endpoint": format!("{}/v1/chat/completions", mock.url()), "authType": "NONE",
        "requestTemplate": {"messagePath": "messages.0.content", "structure": {"model": "m", "messages": [{"role": "user", "content": ""}]}},
        "responseTemplate": {"responsePath": "choices.0.message.content", "tokenUsagePath": "usage"}}))?;
    let err = |e: actors::commands::CommandError| anyhow::anyhow!("{e:?}");
    let (target_id, _) = core
        .commands
        .create_target(target, json!({}))
        .await
        .map_err(err)?;
    let steps: Vec<_> = (0..messages).map(|i| json!({"type": "message", "config": {"content": format!("Question {i}: {{{{lastResponse}}}}")}})).collect();
    let spec = parse_scenario(&json!({"name": "bench", "flowConfig": steps}))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (scenario_id, _) = core.commands.create_scenario(spec).await.map_err(err)?;
    let from = core.store.head_position().await?;
    let (started, cpu) = (Instant::now(), cpu_seconds());
    for _ in 0..conversations {
        let req = ExecuteRequest {
            target_id,
            scenario_id: Some(scenario_id),
            overrides: ExecutionOverrides::default(),
        };
        core.commands.execute(req).await.map_err(err)?;
    }
    let mut events = std::pin::pin!(core.store.subscribe(from));
    let (mut finished, mut completed) = (0, 0);
    while finished < conversations {
        let e = events.next().await.context("subscription ended")??;
        match e.event_type.as_str() {
            "SessionCompleted" => (finished, completed) = (finished + 1, completed + 1),
            "SessionFailed" | "SessionCancelled" => finished += 1,
            _ => {}
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let total = f64::from(conversations * messages);
    println!(
        "sessions {conversations:>5} concurrent × {messages} msgs: {completed}/{conversations} completed in {secs:.2} s = {:.1} conv/s, {:.0} msg/s, CPU {:.0} µs/msg (incl. in-process mock + SQLite)",
        f64::from(conversations) / secs,
        total / secs,
        (cpu_seconds() - cpu) * 1e6 / total
    );
    mock.stop().await;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("krawall-bench-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Runs every benchmark and prints one line per figure.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    println!(
        "machine: {} cores; figures vary run to run",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let dir = tempfile_dir()?;
    bench_appends(
        "sqlite",
        &format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
        args.events,
    )
    .await?;
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(base) = &args.postgres_url {
        let url = scratch_postgres(base).await?;
        bench_appends("postgres", &url, args.events).await?;
    }
    for c in &args.conversations {
        bench_conversations(*c, args.messages).await?;
    }
    Ok(())
}

async fn scratch_postgres(base: &str) -> anyhow::Result<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(base)
        .await
        .context("cannot reach the PostgreSQL server")?;
    let name = format!("krawall_bench_{}", Uuid::now_v7().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&pool)
        .await?;
    let (prefix, _) = base
        .rsplit_once('/')
        .context("database URL has no database name")?;
    Ok(format!("{prefix}/{name}"))
}
