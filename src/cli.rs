//! Command-line interface: `serve`, `worker`, `mock`, `run`, `users`, `tokens`, `export`,
//! `projections rebuild`, `bench`, `healthcheck`, `openapi`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::bench::BenchArgs;
pub use crate::hardening_args::{EgressArg, EgressArgs, HardeningArgs};

#[derive(Debug, Parser)]
#[command(
    name = "krawall",
    version,
    about = "Stress-test chatbot endpoints with realistic, expensive conversations"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the node keeps its data (shared by every subcommand that opens the store).
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory of the embedded database and the key file.
    #[arg(long, env = "KRAWALL_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL overriding the embedded SQLite (e.g. postgres://user@host/db).
    #[arg(long, env = "KRAWALL_DATABASE_URL")]
    pub database_url: Option<String>,
    /// AES-256-GCM key as 64 hex chars (default: a key file in the data dir, created 0600).
    #[arg(long, env = "KRAWALL_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,
    /// Keep the event log on KurrentDB (`kurrentdb://host:2113?tls=false`, `esdb://…`; builds
    /// with the `kurrentdb` feature only); read models stay in the database above.
    #[arg(long, env = "KRAWALL_EVENT_STORE", hide_env_values = true)]
    pub event_store: Option<String>,
    /// Prefix of this node's KurrentDB stream names (nodes sharing a log use the same one).
    #[arg(long, env = "KRAWALL_EVENT_STORE_PREFIX", default_value = "krawall.")]
    pub event_store_prefix: String,
}

/// Parsed once per process, so the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server (embedded SQLite unless --database-url is given).
    Serve {
        #[arg(long, env = "KRAWALL_BIND", default_value = "127.0.0.1:3000")]
        bind: String,
        #[command(flatten)]
        store: StoreArgs,
        /// Also start the mock chatbot and seed a demo target and scenarios.
        #[arg(long)]
        demo: bool,
        /// Where the demo mock listens (HTTP, SSE and WebSocket).
        #[arg(long, default_value = "127.0.0.1:3001")]
        mock_bind: String,
        /// Where the demo mock's gRPC service listens.
        #[arg(long, default_value = "127.0.0.1:50051")]
        grpc_mock_bind: String,
        /// Sessions running at once on this node.
        #[arg(long, env = "KRAWALL_MAX_CONCURRENT_SESSIONS", default_value_t = 1000)]
        max_concurrent_sessions: usize,
        /// Conversations running at once on this node over all sessions (its connection budget).
        #[arg(long, env = "KRAWALL_MAX_CONVERSATIONS", default_value_t = 10_000)]
        max_conversations: usize,
        /// Serve the API and dashboard without running sessions: queued sessions are offered to
        /// `krawall worker` nodes on the same database.
        #[arg(long)]
        no_dispatch: bool,
        #[command(flatten)]
        node: NodeArgs,
        #[command(flatten)]
        auth: AuthArgs,
        #[command(flatten)]
        hardening: HardeningArgs,
    },
    /// Run sessions without the HTTP API: claims queued sessions from the shared database
    /// (PostgreSQL for more than one machine), renews its leases by heartbeat, and takes over
    /// sessions of nodes whose leases expired.
    Worker {
        #[command(flatten)]
        store: StoreArgs,
        /// Sessions running at once on this worker.
        #[arg(long, env = "KRAWALL_MAX_CONCURRENT_SESSIONS", default_value_t = 1000)]
        max_concurrent_sessions: usize,
        /// Conversations running at once on this worker over all sessions.
        #[arg(long, env = "KRAWALL_MAX_CONVERSATIONS", default_value_t = 10_000)]
        max_conversations: usize,
        #[command(flatten)]
        node: NodeArgs,
        #[command(flatten)]
        egress: EgressArgs,
    },
    /// Manage dashboard users (writes to the event store; works while a server runs).
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Manage API tokens (writes to the event store; works while a server runs).
    Tokens {
        #[command(subcommand)]
        action: TokensAction,
    },
    /// Run the mock chatbot: HTTP (/v1/chat/completions, /v1/messages, /chat), SSE streams,
    /// WebSocket (/ws, /socket.io/) and gRPC (proto/krawall_mock.proto) with the same personas.
    Mock {
        #[arg(long, default_value = "127.0.0.1:3001")]
        bind: String,
        /// Where the gRPC service listens.
        #[arg(long, default_value = "127.0.0.1:50051")]
        grpc_bind: String,
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        #[arg(long, default_value_t = 0)]
        jitter_ms: u64,
        /// Fraction of requests answered with HTTP 500 (0..1).
        #[arg(long, default_value_t = 0.0)]
        error_rate: f64,
        #[arg(long, default_value = "default")]
        persona: String,
        /// Answer every Nth request of a session with 429 + Retry-After, whatever the persona.
        #[arg(long)]
        rate_limit_every: Option<u64>,
        /// CPU work before every chat reply (µs of this machine's CPU, calibrated at start): a
        /// CPU-bound bot, as in `krawall bench --workers`.
        #[arg(long, default_value_t = 0)]
        cpu_us_per_reply: u64,
    },
    /// Run one session in-process and print a summary; exits non-zero unless it completed.
    Run(RunArgs),
    /// Export exchange rows (CSV, NDJSON or Parquet) of one session (--session) or of every
    /// session matching the filters, to a file (--output) or stdout.
    Export(ExportArgs),
    /// Manage read models.
    Projections {
        #[command(subcommand)]
        action: ProjectionsAction,
    },
    /// Measure event appends/s, conversations/s against the in-process mock, live-feed latency
    /// and (with --pages) dashboard page times over a large seeded history.
    Bench(BenchArgs),
    /// Exit 0 when a node answers `GET /api/health` with 200 (for container health checks).
    Healthcheck {
        #[arg(
            long,
            env = "KRAWALL_HEALTHCHECK_URL",
            default_value = "http://127.0.0.1:3000/api/health"
        )]
        url: String,
    },
    /// Print the OpenAPI 3.1 contract of `/api` (as served at /api/openapi.json), or with
    /// --markdown the reference in docs/API.md.
    Openapi {
        /// Markdown instead of JSON: `krawall openapi --markdown > docs/API.md`.
        #[arg(long)]
        markdown: bool,
    },
}

/// How a node identifies itself and holds its session leases.
#[derive(Debug, Clone, Args)]
pub struct NodeArgs {
    /// This node's name in the lease table and the node list (default: host-pid-random).
    #[arg(long, env = "KRAWALL_NODE_ID")]
    pub node_id: Option<String>,
    /// How long a session lease lives without a heartbeat (ms); a dead node's sessions are taken
    /// over after at most this long. The heartbeat runs every third of it.
    #[arg(long, env = "KRAWALL_LEASE_TTL_MS", default_value_t = 15_000,
          value_parser = clap::value_parser!(u64).range(300..=3_600_000))]
    pub lease_ttl_ms: u64,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// A scenario YAML/JSON file, or the id of a stored scenario.
    pub scenario: String,
    /// A stored target id, or an http(s) URL of an OpenAI-compatible chat endpoint.
    #[arg(long)]
    pub target: String,
    /// For a URL target: where the message goes in the request body.
    #[arg(long, default_value = "messages.0.content")]
    pub message_path: String,
    /// For a URL target: where the reply text is in the response.
    #[arg(long, default_value = "choices.0.message.content")]
    pub response_path: String,
    /// For a URL target: bearer token (or set KRAWALL_TARGET_TOKEN).
    #[arg(long, env = "KRAWALL_TARGET_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[arg(long)]
    pub repetitions: Option<u32>,
    #[arg(long)]
    pub concurrency: Option<u32>,
    /// Fail (exit 2) when more than this percentage of messages failed.
    #[arg(long)]
    pub max_error_rate: Option<f64>,
    /// A threshold METRIC=CONDITION (repeatable), e.g. --threshold 'latency_p95_ms=<2000';
    /// laid over the scenario's thresholds. Exit 3 when one fails.
    #[arg(long = "threshold")]
    pub thresholds: Vec<String>,
    /// Write the threshold verdicts as a JUnit XML report (one testcase per threshold).
    #[arg(long)]
    pub junit: Option<std::path::PathBuf>,
    /// Stop the session (FAILED, budget_exceeded) above this many tokens in + out.
    #[arg(long)]
    pub max_tokens: Option<u64>,
    /// Stop the session (FAILED, budget_exceeded) above this cost (the model's currency).
    #[arg(long)]
    pub max_cost: Option<f64>,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Load shape and conversation flags of `krawall run` (see docs/load.md). `--load` takes the
/// whole `executionConfig.load` object as JSON; the other flags set or override its fields.
#[derive(Debug, Clone, Default, Args)]
pub struct LoadArgs {
    /// `executionConfig.load` as JSON, e.g. '{"executor":"constant-users","users":10,"duration":"1m"}'.
    #[arg(long)]
    pub load: Option<String>,
    /// constant-users, ramping-users, constant-arrival-rate or ramping-arrival-rate.
    #[arg(long)]
    pub executor: Option<String>,
    /// Concurrent users (constant-users).
    #[arg(long)]
    pub users: Option<u32>,
    /// Conversations started per --time-unit (constant-arrival-rate).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Unit of --rate and of arrival-rate stage targets (default 1s).
    #[arg(long)]
    pub time_unit: Option<String>,
    /// Length of the run, e.g. 30s, 5m.
    #[arg(long)]
    pub duration: Option<String>,
    /// A ramp stage DURATION:TARGET (repeat for more), e.g. --stage 30s:100 --stage 1m:100.
    #[arg(long = "stage")]
    pub stages: Vec<String>,
    /// Users or rate before the first stage.
    #[arg(long)]
    pub start: Option<f64>,
    /// Conversations to start in all; reaching it ends the run.
    #[arg(long)]
    pub max_conversations: Option<u64>,
    /// Arrival-rate executors: conversations running at once; later arrivals are dropped.
    #[arg(long)]
    pub max_concurrent: Option<u32>,
    /// Pause between a user's conversations (users executors).
    #[arg(long)]
    pub think_time_ms: Option<u64>,
    /// uniform or poisson arrivals.
    #[arg(long)]
    pub distribution: Option<String>,
    /// Fail the session when the error rate (0-1) passes this after the warm-up.
    #[arg(long)]
    pub abort_on_error_rate: Option<f64>,
    /// History each request carries: full, none, window:N or max-tokens:N.
    #[arg(long)]
    pub history: Option<String>,
    /// `executionConfig.faults` as JSON, e.g. '{"serverErrorRate":0.1,"seed":1}'.
    #[arg(long)]
    pub faults: Option<String>,
}

/// Authentication switches of `serve` (authentication is on unless one of them is given).
#[derive(Debug, Clone, Copy, Args)]
pub struct AuthArgs {
    /// Turn authentication off; refused unless the bind address is loopback.
    #[arg(long, env = "KRAWALL_NO_AUTH")]
    pub no_auth: bool,
    /// Turn authentication off on any address. Anyone who reaches the port can read and change
    /// everything and spend your API keys; logged loudly at start.
    #[arg(long)]
    pub insecure_no_auth: bool,
}

#[derive(Debug, Subcommand)]
pub enum UsersAction {
    /// Create a user; the password is prompted for (or read from stdin with --password-stdin).
    Add {
        #[arg(long, default_value = "admin")]
        username: String,
        /// viewer, operator or admin.
        #[arg(long, default_value = "viewer")]
        role: String,
        /// Read the password from the first line of stdin (for scripts).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokensAction {
    /// Issue an API token and print it (once) on stdout.
    Create {
        #[arg(long)]
        name: String,
        /// viewer, operator or admin.
        #[arg(long)]
        role: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List every token (id, name, role, revoked).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token by id; it stops working at once.
    Revoke {
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// One session's id; without it, every session matching the filters (newest first).
    #[arg(long)]
    pub session: Option<String>,
    /// Filter: session status (QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED).
    #[arg(long)]
    pub status: Option<String>,
    /// Filter: target id.
    #[arg(long)]
    pub target_id: Option<String>,
    /// Filter: scenario id.
    #[arg(long)]
    pub scenario_id: Option<String>,
    /// csv, ndjson or parquet.
    #[arg(long, default_value = "csv", value_parser = parse_export_format)]
    pub format: export::ExportFormat,
    /// File to write; `-` (the default) writes to stdout.
    #[arg(long, short, default_value = "-")]
    pub output: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

fn parse_export_format(s: &str) -> Result<export::ExportFormat, String> {
    s.parse().map_err(|e: export::ExportError| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum ProjectionsAction {
    /// Empty every read model and replay the whole event log.
    Rebuild {
        #[command(flatten)]
        store: StoreArgs,
    },
}
