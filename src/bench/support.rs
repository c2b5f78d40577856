//! Shared pieces of the benchmarks: CPU time, scratch directories and databases, the runner.

use anyhow::Context;
use uuid::Uuid;

use super::BenchArgs;
use super::appends::bench_appends;
use super::conversations::{Protocol, bench_conversations};
use super::external::bench_external;
use super::feed::bench_feed;
use super::load::bench_load_rows;
use super::metrics::bench_metrics;
use super::pages::{PagesSize, bench_pages, drop_scratch_postgres};

/// Process CPU time (user + system) in seconds, from /proc/self/stat (clock ticks at 100 Hz).
pub fn cpu_seconds() -> f64 {
    stat_cpu_seconds("/proc/self/stat")
}

/// CPU time of another process (0 when it is gone).
pub fn process_cpu_seconds(pid: u32) -> f64 {
    stat_cpu_seconds(&format!("/proc/{pid}/stat"))
}

fn stat_cpu_seconds(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
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

/// The machine's CPU counters (the `cpu` line of /proc/stat, in ticks): busy and total.
#[derive(Debug, Clone, Copy, Default)]
pub struct MachineCpu {
    busy: f64,
    total: f64,
}

impl MachineCpu {
    pub fn read() -> Self {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let ticks: Vec<f64> = stat
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("cpu "))
            .map(|l| {
                l.split_whitespace()
                    .filter_map(|t| t.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        let total: f64 = ticks.iter().sum();
        // Fields 4 and 5 are idle and iowait.
        let idle = ticks.get(3).copied().unwrap_or(0.0) + ticks.get(4).copied().unwrap_or(0.0);
        Self {
            busy: total - idle,
            total,
        }
    }

    /// Fraction of all cores' time spent busy since `earlier` (every process, not only ours).
    pub fn busy_since(&self, earlier: &Self) -> f64 {
        (self.busy - earlier.busy) / (self.total - earlier.total).max(1.0)
    }
}

pub fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
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
    if args.metrics {
        return run_metrics(&args).await;
    }
    if let Some(rows) = args.export_rows {
        return super::export_rows::bench_export(rows).await;
    }
    if args.load {
        return bench_load_rows(args.load_users, args.load_seconds, args.load_rate).await;
    }
    if !args.workers.workers.is_empty() {
        let postgres = args.postgres_url.as_deref();
        return super::workers::bench_workers(postgres, &args.workers).await;
    }
    if args.external {
        let postgres = args.postgres_url.as_deref();
        return bench_external(postgres, &args.conversations, args.exchanges).await;
    }
    if args.feed || args.pages {
        return run_dashboard(&args).await;
    }
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
        bench_conversations(*c, args.messages, Protocol::Http).await?;
    }
    for protocol in [Protocol::WebSocket, Protocol::Sse, Protocol::Grpc] {
        bench_conversations(50, args.messages, protocol).await?;
    }
    bench_feed(args.feed_events).await
}

/// `--metrics`: the metrics projection and query on SQLite (and --postgres-url).
async fn run_metrics(args: &BenchArgs) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.join("metrics.db").display());
    let result = bench_metrics("sqlite", &url, args.metrics_exchanges).await;
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    if let Some(base) = &args.postgres_url {
        let url = scratch_postgres(base).await?;
        let result = bench_metrics("postgres", &url, args.metrics_exchanges).await;
        drop_scratch_postgres(base, &url).await?;
        result?;
    }
    Ok(())
}

/// `--feed` and/or `--pages`: only the dashboard benchmarks that were asked for.
async fn run_dashboard(args: &BenchArgs) -> anyhow::Result<()> {
    if args.feed {
        bench_feed(args.feed_events).await?;
    }
    if !args.pages {
        return Ok(());
    }
    let size = PagesSize {
        sessions: args.sessions,
        messages_per_session: args.messages_per_session,
        requests: args.page_requests,
    };
    bench_pages("sqlite", None, size).await?;
    if let Some(base) = &args.postgres_url {
        let url = scratch_postgres(base).await?;
        let result = bench_pages("postgres", Some(url.clone()), size).await;
        println!(
            "pages    postgres  dropping the scratch database (its node may log errors from now on)"
        );
        drop_scratch_postgres(base, &url).await?;
        result?;
    }
    Ok(())
}

pub async fn scratch_postgres(base: &str) -> anyhow::Result<String> {
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
