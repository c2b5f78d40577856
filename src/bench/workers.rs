//! `krawall bench --workers 1,2,3`: how exchanges/s scale with `krawall worker` processes.
//!
//! For each count N, on a fresh scratch PostgreSQL database: this process starts a node that
//! only queues sessions and runs the read models (what `serve --no-dispatch` does, without
//! HTTP), N real `krawall worker` processes claim the sessions through leases (each may run
//! sessions ÷ N at once, so the total concurrency is the same for every N), and one `krawall
//! mock --cpu-us-per-reply` process (not pinned: every process competes for the same cores)
//! answers. The clock runs from the first `execute` to the last session's terminal event.
//! Printed per N: exchanges/s, the ratio to the first count, CPU per exchange of the workers,
//! this node and the mock (from /proc), and how busy the whole machine was.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actors::commands::{ExecuteRequest, ExecutionOverrides};
use actors::runtime::NodeRole;
use anyhow::Context;

use super::WorkersBenchArgs;
use super::conversations::{Outcome, Protocol, command_error, create_fixtures, target_body};
use super::external::{ExternalMock, spawn_mock_pinned};
use super::pages::drop_scratch_postgres;
use super::support::{
    MachineCpu, cpu_seconds, process_cpu_seconds, scratch_postgres, tempfile_dir,
};
use crate::config::Settings;
use crate::startup::Core;

/// Lease TTL of every node of the benchmark: heartbeats (and so claims) every 300 ms.
const LEASE_TTL: Duration = Duration::from_millis(900);
/// How long the workers may take to start and register.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The worker processes of one figure; killed when dropped.
struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Workers {
    fn spawn(
        database_url: &str,
        key: &str,
        dir: &Path,
        n: usize,
        room: usize,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find the krawall executable")?;
        let mut workers = Workers(Vec::with_capacity(n));
        for i in 1..=n {
            let child = Command::new(&exe)
                .arg("worker")
                .arg("--data-dir")
                .arg(dir.join(format!("worker-{i}")))
                .args(["--node-id", &format!("bench-worker-{i}")])
                .args(["--lease-ttl-ms", &LEASE_TTL.as_millis().to_string()])
                .args(["--max-concurrent-sessions", &room.to_string()])
                // In the environment, not on the command line (`ps` shows arguments).
                .env("KRAWALL_DATABASE_URL", database_url)
                .env("KRAWALL_ENCRYPTION_KEY", key)
                // The same event log as this process's node: the database above.
                .env_remove("KRAWALL_EVENT_STORE")
                .env("RUST_LOG", "error")
                .stdout(Stdio::null())
                .spawn()
                .context("cannot start `krawall worker`")?;
            workers.0.push(child);
        }
        Ok(workers)
    }

    fn pids(&self) -> Vec<u32> {
        self.0.iter().map(Child::id).collect()
    }

    /// An error once any worker has exited (they only stop when killed).
    async fn watch(&mut self) -> anyhow::Error {
        loop {
            for (i, child) in self.0.iter_mut().enumerate() {
                if let Ok(Some(status)) = child.try_wait() {
                    return anyhow::anyhow!("worker {} exited: {status}", i + 1);
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// CPU seconds used so far by the workers, this process and the mock, and the machine's.
struct CpuSnapshot {
    workers: f64,
    node: f64,
    mock: f64,
    machine: MachineCpu,
}

impl CpuSnapshot {
    fn take(workers: &Workers, mock: &ExternalMock) -> Self {
        Self {
            workers: workers.pids().into_iter().map(process_cpu_seconds).sum(),
            node: cpu_seconds(),
            mock: process_cpu_seconds(mock.pid()),
            machine: MachineCpu::read(),
        }
    }
}

/// One measured worker count.
struct Figure {
    workers: usize,
    sessions: u32,
    outcome: Outcome,
    secs: f64,
    before: CpuSnapshot,
    after: CpuSnapshot,
}

impl Figure {
    fn rate(&self) -> f64 {
        self.outcome.replies as f64 / self.secs.max(1e-9)
    }

    fn print(&self, baseline: (usize, f64)) {
        let per =
            |before: f64, after: f64| (after - before) * 1e6 / self.outcome.replies.max(1) as f64;
        let (b, a) = (&self.before, &self.after);
        println!(
            "workers {}: {}/{} sessions completed, {} exchanges in {:.2} s = {:.0}/s, ×{:.2} vs {} worker(s); CPU per exchange: workers {:.0} µs, node {:.0} µs, mock {:.0} µs; machine busy {:.0} %",
            self.workers,
            self.outcome.completed,
            self.sessions,
            self.outcome.replies,
            self.secs,
            self.rate(),
            self.rate() / baseline.1.max(1e-9),
            baseline.0,
            per(b.workers, a.workers),
            per(b.node, a.node),
            per(b.mock, a.mock),
            a.machine.busy_since(&b.machine) * 100.0,
        );
    }
}

/// Runs one figure per worker count; needs a PostgreSQL server (`--postgres-url`).
pub async fn bench_workers(postgres: Option<&str>, args: &WorkersBenchArgs) -> anyhow::Result<()> {
    let base = postgres.context(
        "--workers needs --postgres-url (or KRAWALL_BENCH_DATABASE_URL): workers share a PostgreSQL database",
    )?;
    let cpu = args.mock_cpu_us.to_string();
    let (mock, _) = spawn_mock_pinned(&["--cpu-us-per-reply", &cpu], false)?;
    println!(
        "workers: {} sessions × {} messages per figure, mock {} burning {} µs CPU per reply; \
         every process shares the machine's cores",
        args.worker_sessions,
        args.worker_messages,
        mock.url(),
        args.mock_cpu_us
    );
    let mut scratch = Vec::new();
    let mut cores = Vec::new();
    let mut baseline = None;
    for &n in args.workers.iter().filter(|n| **n > 0) {
        let url = scratch_postgres(base).await?;
        scratch.push(url.clone());
        let (core, figure) = measure(&url, &mock, n, args).await?;
        // Kept alive until every figure is done: dropping its database under it would only
        // make its actors log errors.
        cores.push(core);
        let baseline = *baseline.get_or_insert((n, figure.rate()));
        figure.print(baseline);
    }
    drop(mock);
    println!(
        "workers: dropping the scratch databases (the benchmark's nodes may log errors from now on)"
    );
    for url in &scratch {
        drop_scratch_postgres(base, url).await?;
    }
    Ok(())
}

/// Starts the queueing node and `n` workers on `url`, runs the sessions, stops the workers.
async fn measure(
    url: &str,
    mock: &ExternalMock,
    n: usize,
    args: &WorkersBenchArgs,
) -> anyhow::Result<(Core, Figure)> {
    let dir = tempfile_dir()?;
    let key: String = (0..32)
        .map(|_| format!("{:02x}", fastrand::u8(..)))
        .collect();
    let mut settings = Settings::new(dir.clone());
    settings.database_url = Some(url.to_string());
    settings.encryption_key = Some(key.clone());
    settings.role = NodeRole::ServeNoDispatch;
    settings.background_workers = false;
    settings.lease_ttl = LEASE_TTL;
    let core = Core::start(&settings).await?;
    let body = target_body(Protocol::Http, &mock.url(), "");
    let (target_id, scenario_id) = create_fixtures(&core, body, args.worker_messages).await?;
    let room = usize::try_from(args.worker_sessions.div_ceil(n as u32)).unwrap_or(1);
    let mut workers = Workers::spawn(url, &key, &dir, n, room)?;
    tokio::select! {
        started = wait_for_workers(&core, n) => started?,
        error = workers.watch() => return Err(error),
    }
    let from = core.store.head_position().await?;
    let before = CpuSnapshot::take(&workers, mock);
    let started = Instant::now();
    for _ in 0..args.worker_sessions {
        let req = ExecuteRequest {
            target_id,
            scenario_id: Some(scenario_id),
            overrides: ExecutionOverrides::default(),
        };
        core.commands.execute(req).await.map_err(command_error)?;
    }
    let outcome = tokio::select! {
        outcome = super::conversations::wait_for_sessions(&core, from, args.worker_sessions) => outcome?,
        error = workers.watch() => return Err(error),
    };
    let secs = started.elapsed().as_secs_f64();
    let after = CpuSnapshot::take(&workers, mock);
    drop(workers);
    let _ = std::fs::remove_dir_all(&dir);
    let figure = Figure {
        workers: n,
        sessions: args.worker_sessions,
        outcome,
        secs,
        before,
        after,
    };
    Ok((core, figure))
}

/// Waits until `n` workers have a live heartbeat in the node list.
async fn wait_for_workers(core: &Core, n: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let since = chrono::Utc::now().timestamp_millis() - 2 * LEASE_TTL.as_millis() as i64;
        let live: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM nodes WHERE role = 'worker' AND heartbeat_at_ms >= $1",
        )
        .bind(since)
        .fetch_one(core.store.pool())
        .await?;
        if live >= n as i64 {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{live} of {n} workers registered in {START_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
