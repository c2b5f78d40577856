//! The SQL event store: one [`EventStore`] over an `sqlx::AnyPool` for SQLite and PostgreSQL.
//!
//! Connecting runs the backend's migrations; appends live in `append.rs`, subscriptions in
//! `subscribe.rs`. Over `Any` only portable types are bound: uuids and JSON travel as TEXT,
//! times as BIGINT epoch milliseconds.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use futures_util::Stream;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use tokio::sync::{Mutex, watch};
use tokio_util::sync::{CancellationToken, DropGuard};

use super::batching::BatchedAppender;
use super::{AppendError, AppendOutcome, AppendRequest, RecordedEvent, StoreError};

/// How long a subscriber waits for a wake-up before it re-checks the log anyway.
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// SQLite connections wait this long for another process's write lock.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 30_000;

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// The event store. Cheap to clone: all clones share one pool and one notifier.
#[derive(Clone)]
pub struct EventStore {
    pub(super) inner: Arc<Inner>,
    pub(super) poll_interval: Duration,
}

pub(super) struct Inner {
    pub(super) pool: AnyPool,
    pub(super) backend: Backend,
    /// Kept for the PostgreSQL `LISTEN` connection; never printed (it may hold a password).
    pub(super) url: String,
    /// Highest position known to be committed; bumped after every commit and on NOTIFY.
    pub(super) head: watch::Sender<i64>,
    /// `true` while the PostgreSQL listener is subscribed to the notification channel.
    pub(super) listening: watch::Sender<bool>,
    pub(super) listener_started: AtomicBool,
    pub(super) listener_stop: CancellationToken,
    _stop_on_drop: DropGuard,
    /// Serialises this process's writers (the database lock serialises processes).
    pub(super) write_gate: Arc<Mutex<()>>,
    /// Per-session data keys of message texts (`text_keys.rs`).
    pub(super) text_keys: super::text_keys::TextKeys,
    /// The event log on KurrentDB instead of the `events` table (`kurrent/`).
    #[cfg(feature = "kurrentdb")]
    pub(super) kurrent: Option<Arc<super::kurrent::KurrentLog>>,
    /// Durations of this process's group commits (`timing.rs`).
    pub(super) append_timings: super::timing::AppendTimings,
}

impl fmt::Debug for EventStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStore")
            .field("backend", &self.inner.backend)
            .field("head", &*self.inner.head.borrow())
            .finish_non_exhaustive()
    }
}

impl EventStore {
    /// Connects to `sqlite://…` (the file is created if missing) or `postgres://…` and runs
    /// the backend's migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let (pool, backend, url) = open_sql(url).await?;
        let head = head_position_on(&pool).await?;
        Ok(Self::assemble(
            (pool, backend, url),
            head,
            #[cfg(feature = "kurrentdb")]
            None,
        ))
    }

    /// The event log on KurrentDB (`kurrentdb://…`, streams named `<prefix><stream>`), with
    /// read models, checkpoints, leases and keys in the SQL database at `sql_url`.
    #[cfg(feature = "kurrentdb")]
    pub async fn connect_with_kurrentdb(
        sql_url: &str,
        kurrent_url: &str,
        prefix: &str,
    ) -> Result<Self, StoreError> {
        let sql = open_sql(sql_url).await?;
        let log = super::kurrent::KurrentLog::connect(kurrent_url, prefix, redact(kurrent_url))?;
        let head = log.head().await?;
        Ok(Self::assemble(sql, head, Some(Arc::new(log))))
    }

    fn assemble(
        (pool, backend, url): (AnyPool, Backend, String),
        head: i64,
        #[cfg(feature = "kurrentdb")] kurrent: Option<Arc<super::kurrent::KurrentLog>>,
    ) -> Self {
        let stop = CancellationToken::new();
        let inner = Inner {
            pool,
            backend,
            url,
            head: watch::channel(head).0,
            listening: watch::channel(false).0,
            listener_started: AtomicBool::new(false),
            listener_stop: stop.clone(),
            _stop_on_drop: stop.drop_guard(),
            write_gate: Arc::new(Mutex::new(())),
            text_keys: Default::default(),
            append_timings: Default::default(),
            #[cfg(feature = "kurrentdb")]
            kurrent,
        };
        Self {
            inner: Arc::new(inner),
            poll_interval: DEFAULT_POLL_INTERVAL,
        }
    }

    /// Sets how often an idle subscription re-checks the log when no wake-up arrives
    /// (default 1 s). Subscriptions created from the returned store use it.
    #[must_use]
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The shared pool, for read-model projections that live in the same database.
    pub fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// The SQL database's backend (read models; also the event log unless on KurrentDB).
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Whether the event log is on KurrentDB (the `events` table is then unused).
    pub fn uses_kurrentdb(&self) -> bool {
        #[cfg(feature = "kurrentdb")]
        if self.inner.kurrent.is_some() {
            return true;
        }
        false
    }

    /// Appends one stream's events (see [`EventStore::append_batch`] for the rules).
    pub async fn append(&self, req: AppendRequest) -> Result<AppendOutcome, AppendError> {
        let mut results = self.append_batch_slice(std::slice::from_ref(&req)).await?;
        results
            .pop()
            .ok_or(AppendError::Store(StoreError::WriterStopped))?
    }

    /// Appends all requests in one transaction (group commit). Each request is checked on
    /// its own: a conflicting request writes nothing and gets `Err(Conflict)`, the others
    /// are stored. Requests for the same stream are applied in order. Events whose id is
    /// already stored are skipped; a request whose events are all stored returns `Ok`.
    pub async fn append_batch(
        &self,
        reqs: Vec<AppendRequest>,
    ) -> Result<Vec<Result<AppendOutcome, AppendError>>, StoreError> {
        self.append_batch_slice(&reqs).await
    }

    /// All events of one stream, in version order.
    pub async fn read_stream(&self, stream_id: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        #[cfg(feature = "kurrentdb")]
        if let Some(log) = &self.inner.kurrent {
            return log.read_stream_page(stream_id, 0, usize::MAX).await;
        }
        let rows = sqlx::query(
            "SELECT position, stream_id, version, event_id, event_type, payload, metadata, \
             recorded_at_ms FROM events WHERE stream_id = $1 ORDER BY version",
        )
        .bind(stream_id.to_owned())
        .fetch_all(&self.inner.pool)
        .await?;
        rows.iter().map(decode_event).collect()
    }

    /// Up to `limit` events of one stream with `version > after_version`, in version order
    /// (pages of a long stream without loading it whole).
    pub async fn read_stream_page(
        &self,
        stream_id: &str,
        after_version: i64,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        #[cfg(feature = "kurrentdb")]
        if let Some(log) = &self.inner.kurrent {
            let limit = usize::try_from(limit).unwrap_or(0);
            return log.read_stream_page(stream_id, after_version, limit).await;
        }
        let rows = sqlx::query(
            "SELECT position, stream_id, version, event_id, event_type, payload, metadata, \
             recorded_at_ms FROM events WHERE stream_id = $1 AND version > $2 \
             ORDER BY version LIMIT $3",
        )
        .bind(stream_id.to_owned())
        .bind(after_version)
        .bind(limit)
        .fetch_all(&self.inner.pool)
        .await?;
        rows.iter().map(decode_event).collect()
    }

    /// Up to `limit` events with `position > after_position`, in position order.
    pub async fn read_all(
        &self,
        after_position: i64,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        #[cfg(feature = "kurrentdb")]
        if let Some(log) = &self.inner.kurrent {
            return log.read_all(after_position, limit).await;
        }
        let rows = sqlx::query(
            "SELECT position, stream_id, version, event_id, event_type, payload, metadata, \
             recorded_at_ms FROM events WHERE position > $1 ORDER BY position LIMIT $2",
        )
        .bind(after_position)
        .bind(limit)
        .fetch_all(&self.inner.pool)
        .await?;
        rows.iter().map(decode_event).collect()
    }

    /// Position of the newest committed event, 0 when the log is empty.
    pub async fn head_position(&self) -> Result<i64, StoreError> {
        #[cfg(feature = "kurrentdb")]
        if let Some(log) = &self.inner.kurrent {
            return log.head().await;
        }
        head_position_on(&self.inner.pool).await
    }

    /// All events after `after_position`: first the stored ones, then live ones as they
    /// commit, in position order, without gaps or duplicates. Never ends; a read error is
    /// yielded as `Err` and the stream retries after the poll interval.
    pub fn subscribe(
        &self,
        after_position: i64,
    ) -> impl Stream<Item = Result<RecordedEvent, StoreError>> + Send + use<> {
        super::subscribe::subscribe(self.clone(), after_position)
    }

    /// [`subscribe`](Self::subscribe) in chunks of up to `max` events, for followers that need
    /// not see each commit at once: while events keep arriving (a chunk short of `max`), the
    /// next chunk is read no sooner than `interval` after the previous one was handed out, and
    /// so carries everything committed meanwhile. After a quiet spell an event comes at once.
    pub fn subscribe_paced(
        &self,
        after_position: i64,
        max: usize,
        interval: Duration,
    ) -> impl Stream<Item = Vec<Result<RecordedEvent, StoreError>>> + Send + use<> {
        super::subscribe::paced(self.subscribe(after_position), max, interval)
    }

    /// Events of `types` only, after `after_position`, a page at a time through the
    /// `event_type` index: the others are neither fetched nor decoded. Every page says how far
    /// the log was read (`reached`), empty or not, so a follower can checkpoint past events it
    /// does not handle. While the log keeps growing, pages come no more often than `interval`.
    /// Never ends; a read error is yielded as `Err` and the stream retries after the poll
    /// interval.
    pub fn subscribe_types(
        &self,
        after_position: i64,
        types: &'static [&'static str],
        interval: Duration,
    ) -> impl Stream<Item = Result<super::TypedPage, StoreError>> + Send + use<> {
        super::subscribe::subscribe_types(self.clone(), after_position, types, interval)
    }

    /// Starts a writer task that group-commits appends from many callers, up to
    /// `max_batch` requests per transaction. Must be called inside a Tokio runtime.
    pub fn batching(&self, max_batch: usize) -> BatchedAppender {
        BatchedAppender::spawn(self.clone(), max_batch)
    }

    /// How long this process's group commits took so far (for `/metrics`).
    pub fn append_latency(&self) -> super::AppendLatency {
        self.inner.append_timings.snapshot()
    }

    /// Records that positions up to `position` are committed, waking subscribers.
    pub(super) fn bump_head(&self, position: i64) {
        bump(&self.inner.head, position);
    }
}

pub(super) fn bump(head: &watch::Sender<i64>, position: i64) {
    head.send_if_modified(|h| {
        let newer = position > *h;
        if newer {
            *h = position;
        }
        newer
    });
}

/// Decodes one `events` row selected with the standard column list.
pub(super) fn decode_event(row: &AnyRow) -> Result<RecordedEvent, StoreError> {
    let event_id: String = row.try_get("event_id")?;
    let payload: String = row.try_get("payload")?;
    let metadata: String = row.try_get("metadata")?;
    Ok(RecordedEvent {
        position: row.try_get("position")?,
        stream_id: row.try_get("stream_id")?,
        version: row.try_get("version")?,
        event_id: event_id.parse()?,
        event_type: row.try_get("event_type")?,
        payload: serde_json::from_str(&payload)?,
        metadata: serde_json::from_str(&metadata)?,
        recorded_at_ms: row.try_get("recorded_at_ms")?,
    })
}

/// Opens the SQL database of `url` and runs its migrations.
async fn open_sql(url: &str) -> Result<(AnyPool, Backend, String), StoreError> {
    sqlx::any::install_default_drivers();
    let backend = Backend::from_url(url).ok_or_else(|| StoreError::UnsupportedUrl(redact(url)))?;
    let (pool, url) = match backend {
        Backend::Sqlite => {
            let url = sqlite_url(url);
            (sqlite_pool(&url).await?, url)
        }
        Backend::Postgres => (postgres_pool(url).await?, url.to_owned()),
    };
    match backend {
        Backend::Sqlite => sqlx::migrate!("../migrations/sqlite").run(&pool).await?,
        Backend::Postgres => sqlx::migrate!("../migrations/postgres").run(&pool).await?,
    }
    Ok((pool, backend, url))
}

async fn head_position_on(pool: &AnyPool) -> Result<i64, StoreError> {
    let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events")
        .fetch_one(pool)
        .await?;
    Ok(head)
}

/// Adds `mode=rwc` (create if missing) unless the URL is in-memory or chooses a mode itself.
fn sqlite_url(url: &str) -> String {
    if is_in_memory(url) || url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

async fn sqlite_pool(url: &str) -> Result<AnyPool, StoreError> {
    let mut options = AnyPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(60));
    if is_in_memory(url) {
        // Every connection to `:memory:` is its own database: keep exactly one, forever.
        options = options
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    }
    let pool = options
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA synchronous = NORMAL").await?;
                // Read pages straight from the OS page cache instead of copying them into each
                // connection's cache (which every commit of another connection invalidates).
                conn.execute("PRAGMA mmap_size = 268435456").await?;
                // Checkpoint every ~40 MB of WAL instead of ~4 MB: pages written by many
                // commits (indexes, running sessions' rows) are copied back once.
                conn.execute("PRAGMA wal_autocheckpoint = 10000").await?;
                let busy = format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}");
                conn.execute(sqlx::AssertSqlSafe(busy)).await?;
                Ok(())
            })
        })
        .connect(url)
        .await?;
    Ok(pool)
}

async fn postgres_pool(url: &str) -> Result<AnyPool, StoreError> {
    let pool = AnyPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(60))
        .connect(url)
        .await?;
    Ok(pool)
}

/// Keeps only the scheme of a URL, so credentials never reach an error message.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://…"),
        None => url.chars().take(16).collect(),
    }
}
