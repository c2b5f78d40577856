//! Flags of `krawall bench` (every benchmark's sizes; a flag picks which benchmarks run).

use clap::Args;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Also benchmark this PostgreSQL database (a scratch database is created inside it).
    #[arg(long, env = "KRAWALL_BENCH_DATABASE_URL")]
    pub postgres_url: Option<String>,
    /// Events appended per backend.
    #[arg(long, default_value_t = 100_000)]
    pub events: usize,
    /// Concurrent conversation counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "50,1000")]
    pub conversations: Vec<u32>,
    /// Messages per conversation.
    #[arg(long, default_value_t = 10)]
    pub messages: u32,
    /// Run only the live-feed benchmark (with --pages: both). Without --feed or --pages, every
    /// benchmark except pages runs: appends, conversations, feed.
    #[arg(long)]
    pub feed: bool,
    /// Run only the dashboard page benchmark (with --feed: both): seeds --sessions ×
    /// --messages-per-session rows on SQLite (and on --postgres-url), then times the pages.
    #[arg(long)]
    pub pages: bool,
    /// Events appended per live-feed measurement.
    #[arg(long, default_value_t = 2_000)]
    pub feed_events: usize,
    /// Sessions seeded for the page benchmark.
    #[arg(long, default_value_t = 100_000)]
    pub sessions: usize,
    /// `session_messages` rows per seeded session.
    #[arg(long, default_value_t = 10)]
    pub messages_per_session: usize,
    /// GETs per page in the page benchmark.
    #[arg(long, default_value_t = 50)]
    pub page_requests: usize,
    /// Run only the load-shape rows: --load-users concurrent conversations, then --load-rate
    /// arrivals per second, each for --load-seconds, against an external mock answering in 2 s.
    #[arg(long)]
    pub load: bool,
    #[arg(long, default_value_t = 10_000)]
    pub load_users: u32,
    #[arg(long, default_value_t = 60)]
    pub load_seconds: u64,
    #[arg(long, default_value_t = 200)]
    pub load_rate: u32,
    /// Run only the external-mock benchmark: `krawall mock` in its own process (pinned to the
    /// last core), exchanges per CPU-second of this process on SQLite (and --postgres-url) at
    /// each --conversations count, with the read-model lag.
    #[arg(long)]
    pub external: bool,
    /// Exchanges per external-mock figure, spread over the conversations.
    #[arg(long, default_value_t = 20_000)]
    pub exchanges: u32,
    /// Run only the metrics benchmark: --metrics-exchanges exchanges of one session through the
    /// metrics projection, then the `/api/sessions/{id}/metrics` query.
    #[arg(long)]
    pub metrics: bool,
    #[arg(long, default_value_t = 1_000_000)]
    pub metrics_exchanges: u32,
    /// Run only the export benchmark: seed this many message rows (e.g. 5000000) on SQLite and
    /// time their export to Parquet (seconds, peak RSS).
    #[arg(long)]
    pub export_rows: Option<usize>,
    #[command(flatten)]
    pub workers: WorkersBenchArgs,
}

/// `krawall bench --workers 1,2,3`: the scaling benchmark (`workers.rs`, docs/DEPLOYMENT.md).
#[derive(Debug, Clone, Args)]
pub struct WorkersBenchArgs {
    /// Run only the scaling benchmark with these worker-process counts: on a scratch PostgreSQL
    /// database (--postgres-url), an in-process node that only queues (as `serve --no-dispatch`)
    /// and N `krawall worker` processes run --worker-sessions sessions against `krawall mock
    /// --cpu-us-per-reply --mock-cpu-us`.
    #[arg(long, value_delimiter = ',')]
    pub workers: Vec<usize>,
    /// Sessions per figure (each runs its messages one after another); every worker may run
    /// sessions ÷ workers of them at once, so the total concurrency is the same for each count.
    #[arg(long, default_value_t = 24)]
    pub worker_sessions: u32,
    /// Messages per session in the scaling benchmark.
    #[arg(long, default_value_t = 100)]
    pub worker_messages: u32,
    /// CPU work of the mock per reply (µs).
    #[arg(long, default_value_t = 500)]
    pub mock_cpu_us: u64,
}
