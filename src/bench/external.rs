//! `krawall bench --external`: exchanges per CPU-second of the krawall process alone, against
//! `krawall mock` running as a separate process (pinned to the last core with `taskset` when
//! there is one), so the mock's CPU is not counted. Every exchange is persisted as events and
//! projected; the figure includes the read models catching up, and the read-model lag is sampled
//! while the load runs.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actors::commands::{ExecuteRequest, ExecutionOverrides};
use actors::domain::events::EventType;
use anyhow::Context;

use super::conversations::{Outcome, Protocol, command_error, create_fixtures, target_body};
use super::support::{cpu_seconds, scratch_postgres, tempfile_dir};
use crate::config::Settings;
use crate::startup::Core;

/// The mock chatbot in its own process; killed when dropped.
pub(super) struct ExternalMock {
    child: Child,
    port: u16,
}

impl ExternalMock {
    pub(super) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ExternalMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Spawns `krawall mock` (with `extra` flags, e.g. `--latency-ms`) on free ports, pinned to the
/// last core when `taskset` exists; returns it and the core it is pinned to.
pub(super) fn spawn_mock(extra: &[&str]) -> anyhow::Result<(ExternalMock, Option<usize>)> {
    spawn_mock_pinned(extra, true)
}

/// [`spawn_mock`], pinned only when `pin` is set.
pub(super) fn spawn_mock_pinned(
    extra: &[&str],
    pin: bool,
) -> anyhow::Result<(ExternalMock, Option<usize>)> {
    let exe = std::env::current_exe().context("cannot find the krawall executable")?;
    let (port, grpc) = (free_port()?, free_port()?);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let pinned = (pin && cores > 1 && Command::new("taskset").arg("-V").output().is_ok())
        .then_some(cores - 1);
    let mut command = match pinned {
        Some(core) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(core.to_string()).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    let child = command
        .args(["mock", "--bind", &format!("127.0.0.1:{port}")])
        .args(["--grpc-bind", &format!("127.0.0.1:{grpc}")])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start `krawall mock`")?;
    let mock = ExternalMock { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(Instant::now() < deadline, "the external mock did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((mock, pinned))
}

/// Counts stored replies and ended sessions in `(after, upto]` of the log.
async fn count_events(core: &Core, after: i64, upto: i64) -> anyhow::Result<(u64, u32)> {
    use EventType::{ResponseReceived, SessionCancelled, SessionCompleted, SessionFailed};
    let counted = [
        ResponseReceived,
        SessionCompleted,
        SessionFailed,
        SessionCancelled,
    ];
    let list = counted.map(|t| format!("'{}'", t.as_str())).join(", ");
    let sql = format!(
        "SELECT event_type, CAST(COUNT(*) AS BIGINT) FROM events WHERE position > $1 AND position <= $2 \
         AND event_type IN ({list}) GROUP BY event_type"
    );
    let rows: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(after)
        .bind(upto)
        .fetch_all(core.store.pool())
        .await?;
    let count = |t: EventType| rows.iter().find(|r| r.0 == t.as_str()).map_or(0, |r| r.1);
    let ended = count(SessionCompleted) + count(SessionFailed) + count(SessionCancelled);
    Ok((count(ResponseReceived) as u64, ended as u32))
}

/// Polls the log (cheaply, so the bench's own CPU stays small) every 100 ms until
/// `conversations` sessions ended, tracking the largest read-model lag seen, in events.
async fn wait_sampling_lag(
    core: &Core,
    from: i64,
    conversations: u32,
) -> anyhow::Result<(Outcome, i64)> {
    let (mut seen, mut replies, mut ended, mut max_lag) = (from, 0, 0, 0);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    while ended < conversations {
        tick.tick().await;
        let head = core.store.head_position().await?;
        max_lag = max_lag.max(head - core.projections.position());
        let (r, e) = count_events(core, seen, head).await?;
        (seen, replies, ended) = (head, replies + r, ended + e);
    }
    let completed = count_events_completed(core, from).await?;
    Ok((Outcome { completed, replies }, max_lag))
}

async fn count_events_completed(core: &Core, from: i64) -> anyhow::Result<u32> {
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM events WHERE position > $1 AND event_type = $2",
    )
    .bind(from)
    .bind(EventType::SessionCompleted.as_str())
    .fetch_one(core.store.pool())
    .await?;
    Ok(n as u32)
}

/// One figure: `conversations` sessions of `messages` exchanges on `database_url` (None = SQLite).
async fn measure(
    backend: &str,
    database_url: Option<String>,
    mock_url: &str,
    conversations: u32,
    messages: u32,
) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let mut settings = Settings::new(dir.clone());
    settings.database_url = database_url;
    settings.recover_sessions = false;
    settings.max_concurrent_sessions = conversations as usize;
    let core = Core::start(&settings).await?;
    let body = target_body(Protocol::Http, mock_url, "");
    let (target_id, scenario_id) = create_fixtures(&core, body, messages).await?;
    let from = core.store.head_position().await?;
    let (started, cpu) = (Instant::now(), cpu_seconds());
    for _ in 0..conversations {
        let req = ExecuteRequest {
            target_id,
            scenario_id: Some(scenario_id),
            overrides: ExecutionOverrides::default(),
        };
        core.commands.execute(req).await.map_err(command_error)?;
    }
    let (outcome, max_lag) = wait_sampling_lag(&core, from, conversations).await?;
    let load_secs = started.elapsed().as_secs_f64();
    let head = core.store.head_position().await?;
    let lag_at_end = head - core.projections.position();
    let drained = core
        .projections
        .wait_for(head, Duration::from_secs(120))
        .await;
    let (secs, cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let drain_ms = (secs - load_secs) * 1e3;
    let events_per_sec = (head - from) as f64 / load_secs;
    let replies = outcome.replies.max(1) as f64;
    println!(
        "external {backend:<8} {conversations:>5} conv × {messages:>4} msgs: {}/{conversations} completed, {} exchanges in {load_secs:.2} s wall = {:.0}/s; CPU {cpu:.2} s = {:.0} exchanges/CPU-s ({:.0} µs/exchange); read-model lag max {} events (≈{:.0} ms), {lag_at_end} at end, drained {} in {drain_ms:.0} ms",
        outcome.completed,
        outcome.replies,
        outcome.replies as f64 / load_secs,
        replies / cpu.max(1e-9),
        cpu * 1e6 / replies,
        max_lag,
        max_lag as f64 * 1e3 / events_per_sec.max(1.0),
        if drained { "fully" } else { "NOT" },
    );
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

/// Runs the external-mock figures: SQLite (and PostgreSQL when a URL is given) at each
/// conversation count, `exchanges` exchanges per figure spread over the conversations.
pub async fn bench_external(
    postgres: Option<&str>,
    conversation_counts: &[u32],
    exchanges: u32,
) -> anyhow::Result<()> {
    let (mock, pinned) = spawn_mock(&[])?;
    let mock_url = mock.url();
    match pinned {
        Some(core) => println!(
            "external mock {mock_url} pinned to core {core}; CPU counted for the krawall process only"
        ),
        None => println!(
            "external mock {mock_url} (not pinned); CPU counted for the krawall process only"
        ),
    }
    for &conversations in conversation_counts {
        let messages = (exchanges / conversations.max(1)).max(1);
        measure("sqlite", None, &mock_url, conversations, messages).await?;
        if let Some(base) = postgres {
            let url = scratch_postgres(base).await?;
            measure("postgres", Some(url), &mock_url, conversations, messages).await?;
        }
    }
    drop(mock);
    Ok(())
}
