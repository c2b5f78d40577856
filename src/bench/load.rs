//! Load-shape rows of `krawall bench --load`: many concurrent conversations (closed model) and an
//! arrival rate (open model) against an external `krawall mock` process answering in 2 s, with
//! the node's peak RSS, achieved vs intended rates and the reported latency vs the mock's.

use std::time::Instant;

use actors::commands::{ExecuteRequest, ExecutionOverrides};
use actors::domain::events::SessionSummary;
use actors::domain::load::LoadSpec;
use actors::domain::scenario_input::parse_scenario;
use anyhow::Context;
use serde_json::json;
use uuid::Uuid;

use super::external::spawn_mock;
use super::support::{cpu_seconds, tempfile_dir};
use crate::config::Settings;
use crate::follow::follow_session;
use crate::startup::Core;

/// Latency of the external mock.
const MOCK_LATENCY_MS: u64 = 2_000;
/// Messages per conversation.
const TURNS: u32 = 3;

/// Peak and current resident memory of this process, in MiB (from /proc/self/status).
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// One row: runs `load` on a fresh node against the external mock and prints the figures.
async fn bench_load(label: &str, load: LoadSpec, intended_per_s: f64) -> anyhow::Result<()> {
    let latency = MOCK_LATENCY_MS.to_string();
    let (mock, _) = spawn_mock(&["--latency-ms", &latency])?;
    let dir = tempfile_dir()?;
    let mut settings = Settings::new(dir.clone());
    settings.recover_sessions = false;
    settings.background_workers = false;
    settings.max_conversations = 12_000;
    let core = Core::start(&settings).await?;
    let (target_id, scenario_id) = fixtures(&core, &mock.url()).await?;
    let request = ExecuteRequest {
        target_id,
        scenario_id: Some(scenario_id),
        overrides: ExecutionOverrides {
            load: Some(load),
            history: None,
            ..ExecutionOverrides::default()
        },
    };
    let (cpu0, started) = (cpu_seconds(), Instant::now());
    let (session, position) = core
        .commands
        .execute(request)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (summary, _) = follow_session(&core, session, position - 1, |_| {}).await?;
    let (wall, cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    print_row(label, &summary, wall, cpu, intended_per_s);
    drop(mock);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn print_row(label: &str, s: &SessionSummary, wall: f64, cpu: f64, intended_per_s: f64) {
    let replies = s.message_count.saturating_sub(s.error_count);
    let Some(load) = &s.load else {
        println!("load     {label:<34} no load report (the session did not run its shape)");
        return;
    };
    let (peak_rss, rss) = rss_mib();
    println!(
        "load     {label:<34} {:>7.0} exchanges/s achieved of {intended_per_s:.0} intended, \
         {} conversations started{} ({} dropped, peak {} at once), {} errors",
        replies as f64 / wall,
        load.started_conversations,
        load.intended_conversations
            .map_or(String::new(), |i| format!(" of {i} intended")),
        load.dropped_conversations,
        load.peak_concurrent,
        s.error_count,
    );
    println!(
        "load     {label:<34} p50 {} ms / p99 {} ms (mock {MOCK_LATENCY_MS} ms), p99 from due {} ms; \
         peak RSS {peak_rss:.0} MiB (now {rss:.0}); CPU {:.0} µs per exchange ({:.1} s CPU over {wall:.1} s)",
        s.p50_latency_ms,
        s.p99_latency_ms,
        s.p99_latency_from_due_ms,
        cpu * 1e6 / replies.max(1) as f64,
        cpu,
    );
}

async fn fixtures(core: &Core, mock_url: &str) -> anyhow::Result<(Uuid, Uuid)> {
    let preset = actors::domain::presets::preset("openai-chat").context("preset")?;
    let mut target = actors::domain::presets::apply_preset(&preset, &json!({"name": "bench"}));
    target["endpoint"] = json!(format!("{mock_url}/v1/chat/completions"));
    target["authType"] = json!("NONE");
    let (target_id, _) = core
        .commands
        .create_target(serde_json::from_value(target)?, json!({}))
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let flow: Vec<_> = (0..TURNS)
        .map(|i| json!({"type": "message", "config": {"content": format!("Question {i}: tell me more.")}}))
        .collect();
    let spec = parse_scenario(&json!({"name": "bench load", "flowConfig": flow}))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (scenario_id, _) = core
        .commands
        .create_scenario(spec)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok((target_id, scenario_id))
}

/// `--load`: `users` concurrent conversations for `seconds`, then `rate` arrivals per second.
pub async fn bench_load_rows(users: u32, seconds: u64, rate: u32) -> anyhow::Result<()> {
    let closed: LoadSpec = serde_json::from_value(json!({
        "executor": "constant-users", "users": users, "duration": format!("{seconds}s")}))?;
    let label = format!("constant-users {users} × {seconds}s");
    let intended = f64::from(users) * 1000.0 / MOCK_LATENCY_MS as f64;
    bench_load(&label, closed, intended).await?;
    let open: LoadSpec = serde_json::from_value(json!({
        "executor": "constant-arrival-rate", "rate": rate, "duration": format!("{seconds}s")}))?;
    let label = format!("constant-arrival-rate {rate}/s × {seconds}s");
    bench_load(&label, open, f64::from(rate * TURNS)).await
}
