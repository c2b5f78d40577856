//! Settings of a Krawall node, from CLI flags and `KRAWALL_*` environment variables.

use std::path::PathBuf;
use std::time::Duration;

use actors::runtime::NodeRole;

/// Everything needed to build a node. Loaded once in `main`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `HOST:PORT` the HTTP server binds (port 0 picks a free one).
    pub bind: String,
    /// Where the embedded database and the key file live.
    pub data_dir: PathBuf,
    /// Overrides the embedded SQLite database (`postgres://…` for teams).
    pub database_url: Option<String>,
    /// `--event-store`: the event log on KurrentDB instead of the database above.
    pub event_store: Option<String>,
    /// `--event-store-prefix`: the KurrentDB stream-name prefix.
    pub event_store_prefix: String,
    /// 64 hex chars; when absent the key file `<data_dir>/secret.key` is used (created 0600).
    pub encryption_key: Option<String>,
    /// Sessions running at once on this node.
    pub max_concurrent_sessions: usize,
    /// Conversations running at once on this node, over all sessions.
    pub max_conversations: usize,
    /// Arbiter threads for session actors.
    pub session_arbiters: usize,
    /// HTTP worker threads.
    pub http_workers: usize,
    /// Resume or fail sessions a previous process left unfinished.
    pub recover_sessions: bool,
    /// Run the scheduler and the webhook delivery worker (off for `krawall run` and the bench,
    /// which are not serving nodes).
    pub background_workers: bool,
    /// Serve (API + sessions), serve without running sessions, or run sessions only.
    pub role: NodeRole,
    /// This node's name in the lease table (default: host-pid-random, unique per start).
    pub node_id: Option<String>,
    /// How long a session lease lives without a heartbeat.
    pub lease_ttl: Duration,
    /// `--public-url`: the URLs users reach the node by; their hosts join the Host allow-list.
    pub public_urls: Vec<reqwest::Url>,
    /// `--egress` / `--egress-allow`: where outbound connections may go.
    pub egress: actors::connectors::egress::EgressPolicy,
    /// Whether callers must authenticate (see docs/DEPLOYMENT.md).
    pub auth: AuthMode,
}

/// Whether the HTTP server authenticates its callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Every route except the allow-list needs a token or a login (the default).
    Required,
    /// No authentication (`--no-auth`); refused on a non-loopback bind address.
    Off,
    /// No authentication on any address (`--insecure-no-auth`, logged loudly at start).
    InsecureOff,
}

impl Settings {
    /// Defaults for a data dir: embedded database, one arbiter per core.
    pub fn new(data_dir: PathBuf) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            bind: "127.0.0.1:3000".into(),
            data_dir,
            database_url: None,
            event_store: None,
            event_store_prefix: "krawall.".into(),
            encryption_key: None,
            max_concurrent_sessions: 1000,
            max_conversations: actors::runtime::DEFAULT_NODE_CONVERSATIONS,
            session_arbiters: cores,
            http_workers: cores,
            recover_sessions: true,
            background_workers: true,
            role: NodeRole::Serve,
            node_id: None,
            lease_ttl: actors::runtime::DEFAULT_LEASE_TTL,
            auth: AuthMode::Required,
            public_urls: Vec::new(),
            egress: Default::default(),
        }
    }

    /// The event-store URL: the override, or a SQLite file under the data dir.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", self.sqlite_file().display()))
    }

    /// The embedded database file (used unless `database_url` is set).
    pub fn sqlite_file(&self) -> PathBuf {
        self.data_dir.join("krawall.db")
    }

    /// Defaults for the data dir, database and key of a subcommand's `StoreArgs`.
    pub fn from_store_args(store: &crate::cli::StoreArgs) -> Self {
        let mut settings = Self::new(store.data_dir.clone());
        settings.database_url = store.database_url.clone();
        settings.encryption_key = store.encryption_key.clone();
        settings.event_store = store.event_store.clone();
        settings.event_store_prefix = store.event_store_prefix.clone();
        settings
    }

    pub fn key_file(&self) -> PathBuf {
        self.data_dir.join("secret.key")
    }
}
