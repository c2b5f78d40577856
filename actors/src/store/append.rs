//! Appending: one locked transaction per batch, expected-version checks, idempotent event ids.
//!
//! A batch runs as: take the write lock (in-process gate, plus `BEGIN IMMEDIATE` on SQLite or
//! a transaction-scoped advisory lock on PostgreSQL, so positions commit in position order),
//! load the touched streams' versions and the already-stored event ids, plan every request in
//! memory, insert the new rows, `pg_notify`, commit. If the unique indexes still reject a row
//! (a writer that bypassed the lock), the batch is rolled back and its requests are retried one
//! by one, where a repeated violation becomes [`AppendError::Conflict`].

use std::collections::HashMap;

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::plan::{NewRow, Ref, StoredEvent, StreamState, plan, resolve};
use super::sql::{Backend, EventStore, Inner};
use super::{AppendError, AppendOutcome, AppendRequest, StoreError};

/// Key of the PostgreSQL advisory lock that serialises appends across processes ("Krawall").
const APPEND_LOCK_KEY: i64 = 0x004b_7261_7761_6c6c;
/// PostgreSQL channel on which every append announces its last position.
pub(super) const NOTIFY_CHANNEL: &str = "krawall_events";

/// Bytes of JSON per statement. sqlx 0.9.0 no longer sets `TCP_NODELAY`
/// (transact-rs/sqlx#4335), so a message the kernel does not take in one write waits for a
/// delayed ACK (~40 ms); statements this small go out in one write on loopback.
const CHUNK_BYTES: usize = 12 * 1024;

pub(super) type Results = Vec<Result<AppendOutcome, AppendError>>;

/// Why a batch transaction failed.
enum BatchFailure {
    /// A unique index rejected a row written by someone who bypassed the append lock.
    UniqueViolation,
    Store(StoreError),
}

impl From<sqlx::Error> for BatchFailure {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::UniqueViolation,
            _ => Self::Store(e.into()),
        }
    }
}

impl From<StoreError> for BatchFailure {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl EventStore {
    /// One caller's requests: positions follow request order.
    pub(super) async fn append_batch_slice(
        &self,
        reqs: &[AppendRequest],
    ) -> Result<Results, StoreError> {
        self.append_requests(reqs, false).await
    }

    /// The group-commit writer's batch, requests of independent callers: on KurrentDB
    /// different streams are then written concurrently (each stream's requests in order).
    pub(super) async fn append_group(&self, reqs: &[AppendRequest]) -> Result<Results, StoreError> {
        self.append_requests(reqs, true).await
    }

    async fn append_requests(
        &self,
        reqs: &[AppendRequest],
        independent: bool,
    ) -> Result<Results, StoreError> {
        if reqs.is_empty() {
            return Ok(Vec::new());
        }
        #[cfg(feature = "kurrentdb")]
        if let Some(log) = &self.inner.kurrent {
            return self.append_on_kurrentdb(log, reqs, independent).await;
        }
        let _ = independent;
        let _gate = self.inner.write_gate.lock().await;
        match self.write_and_wake(reqs).await {
            Ok(results) => Ok(results),
            Err(BatchFailure::Store(e)) => Err(e),
            Err(BatchFailure::UniqueViolation) => Ok(self.append_each(reqs).await),
        }
    }

    async fn write_and_wake(&self, reqs: &[AppendRequest]) -> Result<Results, BatchFailure> {
        let started = std::time::Instant::now();
        let (results, last) = write_batch(&self.inner, reqs).await?;
        self.inner.append_timings.record(started.elapsed());
        self.bump_head(last);
        Ok(results)
    }

    /// The unique-violation fallback: every request in its own transaction.
    async fn append_each(&self, reqs: &[AppendRequest]) -> Results {
        let mut out = Vec::with_capacity(reqs.len());
        for req in reqs {
            out.push(
                self.append_alone(req)
                    .await
                    .unwrap_or_else(|e| Err(e.into())),
            );
        }
        out
    }

    async fn append_alone(
        &self,
        req: &AppendRequest,
    ) -> Result<Result<AppendOutcome, AppendError>, StoreError> {
        // A retry re-reads the committed rows, so it normally resolves the violation itself.
        for _ in 0..2 {
            match self.write_and_wake(std::slice::from_ref(req)).await {
                Ok(mut results) => return results.pop().ok_or(StoreError::WriterStopped),
                Err(BatchFailure::Store(e)) => return Err(e),
                Err(BatchFailure::UniqueViolation) => {}
            }
        }
        let actual: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = $1")
                .bind(req.stream_id.clone())
                .fetch_one(&self.inner.pool)
                .await?;
        Ok(Err(AppendError::Conflict {
            stream_id: req.stream_id.clone(),
            expected: req.expected,
            actual,
        }))
    }
}

/// One locked transaction for the whole batch; returns the results and the last new position.
async fn write_batch(
    inner: &Inner,
    reqs: &[AppendRequest],
) -> Result<(Results, i64), BatchFailure> {
    let mut tx = begin_locked(inner).await?;
    let streams = load_streams(&mut tx, inner.backend, reqs).await?;
    let stored = load_events(&mut tx, inner.backend, reqs).await?;
    let (rows, planned) = plan(reqs, streams, stored)?;
    let positions = insert_rows(&mut tx, inner.backend, &rows, now_ms()).await?;
    let last = positions.iter().copied().max().unwrap_or(0);
    if inner.backend == Backend::Postgres && last > 0 {
        sqlx::query("SELECT 1 FROM pg_notify($1, $2)")
            .bind(NOTIFY_CHANNEL)
            .bind(last.to_string())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok((resolve(planned, &positions), last))
}

async fn begin_locked(inner: &Inner) -> Result<Transaction<'static, Any>, sqlx::Error> {
    match inner.backend {
        Backend::Sqlite => inner.pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => {
            let mut tx = inner.pool.begin().await?;
            sqlx::query("SELECT 1 FROM pg_advisory_xact_lock($1)")
                .bind(APPEND_LOCK_KEY)
                .execute(&mut *tx)
                .await?;
            Ok(tx)
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The batch's keys and rows travel as one JSON array parameter, so every statement has a
/// constant text (prepared once per connection) whatever the batch size.
struct Sql {
    streams: &'static str,
    events: &'static str,
}

const SQLITE: Sql = Sql {
    streams: "SELECT stream_id, MAX(version) AS version, MAX(position) AS position FROM events \
              WHERE stream_id IN (SELECT value FROM json_each($1)) GROUP BY stream_id",
    events: "SELECT event_id, version, position FROM events \
             WHERE event_id IN (SELECT value FROM json_each($1))",
};

const POSTGRES: Sql = Sql {
    streams: "SELECT stream_id, MAX(version) AS version, MAX(position) AS position FROM events \
              WHERE stream_id IN (SELECT json_array_elements_text($1::json)) GROUP BY stream_id",
    events: "SELECT event_id, version, position FROM events \
             WHERE event_id IN (SELECT json_array_elements_text($1::json))",
};

/// PostgreSQL's insert of JSON rows (SQLite binds `VALUES`, see [`insert_values`]).
const POSTGRES_INSERT: &str = "INSERT INTO events \
             (stream_id, version, event_id, event_type, payload, metadata, recorded_at_ms) \
             SELECT r.doc->>0, (r.doc->>1)::bigint, r.doc->>2, r.doc->>3, r.doc->>4, r.doc->>5, $2 \
             FROM json_array_elements($1::json) WITH ORDINALITY AS r(doc, ord) ORDER BY r.ord \
             RETURNING event_id, position";

fn sql(backend: Backend) -> &'static Sql {
    match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    }
}

/// The unique keys, sorted.
fn unique(mut keys: Vec<String>) -> Vec<String> {
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Serialises `items` as JSON arrays of at most about [`CHUNK_BYTES`] each (an item larger
/// than that gets an array of its own), preserving order.
fn json_chunks<T: Serialize>(
    items: impl IntoIterator<Item = T>,
) -> Result<Vec<String>, StoreError> {
    let mut chunks = Vec::new();
    let mut current = String::from("[");
    for item in items {
        let json = serde_json::to_string(&item)?;
        if current.len() > 1 && current.len() + json.len() + 2 > CHUNK_BYTES {
            current.push(']');
            chunks.push(std::mem::replace(&mut current, String::from("[")));
        }
        if current.len() > 1 {
            current.push(',');
        }
        current.push_str(&json);
    }
    if current.len() > 1 {
        current.push(']');
        chunks.push(current);
    }
    Ok(chunks)
}

/// Runs `statement` once per chunk (bound as `$1`, plus `$2` if given), in order.
async fn fetch_chunked(
    tx: &mut Transaction<'static, Any>,
    statement: &'static str,
    chunks: Vec<String>,
    second: Option<i64>,
) -> Result<Vec<AnyRow>, sqlx::Error> {
    let mut rows = Vec::new();
    for chunk in chunks {
        let mut query = sqlx::query(statement).bind(chunk);
        if let Some(value) = second {
            query = query.bind(value);
        }
        rows.extend(query.fetch_all(&mut **tx).await?);
    }
    Ok(rows)
}

/// Current version and last position of every stream the batch touches. Within a stream,
/// versions and positions grow together, so the maxima belong to the same (newest) event.
async fn load_streams(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    reqs: &[AppendRequest],
) -> Result<HashMap<String, StreamState>, BatchFailure> {
    let ids = unique(reqs.iter().map(|r| r.stream_id.clone()).collect());
    let rows = fetch_chunked(tx, sql(backend).streams, json_chunks(ids)?, None).await?;
    let mut streams = HashMap::with_capacity(rows.len());
    for row in rows {
        let state = StreamState {
            version: row.try_get("version")?,
            last: Some(Ref::Committed(row.try_get("position")?)),
        };
        streams.insert(row.try_get("stream_id")?, state);
    }
    Ok(streams)
}

/// Which of the batch's event ids are already stored.
async fn load_events(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    reqs: &[AppendRequest],
) -> Result<HashMap<String, StoredEvent>, BatchFailure> {
    let ids = reqs
        .iter()
        .flat_map(|r| r.events.iter().map(|e| e.event_id.to_string()))
        .collect();
    let chunks = json_chunks(unique(ids))?;
    let rows = fetch_chunked(tx, sql(backend).events, chunks, None).await?;
    let mut stored = HashMap::with_capacity(rows.len());
    for row in rows {
        let event = StoredEvent {
            version: row.try_get("version")?,
            at: Ref::Committed(row.try_get("position")?),
        };
        stored.insert(row.try_get("event_id")?, event);
    }
    Ok(stored)
}

/// Inserts the rows in order; returns their positions in row order.
async fn insert_rows(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[NewRow],
    recorded_at_ms: i64,
) -> Result<Vec<i64>, BatchFailure> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let returned = match backend {
        Backend::Sqlite => insert_values(tx, rows, recorded_at_ms).await?,
        Backend::Postgres => insert_json(tx, rows, recorded_at_ms).await?,
    };
    let mut by_id: HashMap<String, i64> = HashMap::with_capacity(rows.len());
    for row in returned {
        by_id.insert(row.try_get("event_id")?, row.try_get("position")?);
    }
    let positions: Option<Vec<i64>> = rows
        .iter()
        .map(|r| by_id.get(&r.event_id).copied())
        .collect();
    positions.ok_or_else(|| {
        BatchFailure::Store(StoreError::Database(sqlx::Error::Protocol(
            "INSERT … RETURNING did not return every inserted event".into(),
        )))
    })
}

/// Rows per multi-row `INSERT … VALUES` on SQLite (7 parameters each).
const VALUES_ROWS: usize = 32;

/// SQLite: the rows as bound parameters of multi-row `VALUES` (inserted, and so numbered, in
/// order). Shipping them as one JSON array cost more than the insert itself: the payloads were
/// escaped into the array and SQLite parsed and unescaped them again.
async fn insert_values(
    tx: &mut Transaction<'static, Any>,
    rows: &[NewRow],
    recorded_at_ms: i64,
) -> Result<Vec<AnyRow>, sqlx::Error> {
    let mut returned = Vec::with_capacity(rows.len());
    for group in rows.chunks(VALUES_ROWS) {
        // Anonymous `?` parameters, bound in order: sqlx looks each numbered `$n` up by name,
        // a linear scan per parameter in SQLite (quadratic in the row count).
        let values = vec!["(?, ?, ?, ?, ?, ?, ?)"; group.len()];
        let sql = format!(
            "INSERT INTO events (stream_id, version, event_id, event_type, payload, metadata, \
             recorded_at_ms) VALUES {} RETURNING event_id, position",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in group {
            query = query
                .bind(r.stream_id.clone())
                .bind(r.version)
                .bind(r.event_id.clone())
                .bind(r.event_type.clone())
                .bind(r.payload.clone())
                .bind(r.metadata.clone())
                .bind(recorded_at_ms);
        }
        returned.extend(query.fetch_all(&mut **tx).await?);
    }
    Ok(returned)
}

/// PostgreSQL: the rows as one JSON array parameter per chunk.
async fn insert_json(
    tx: &mut Transaction<'static, Any>,
    rows: &[NewRow],
    recorded_at_ms: i64,
) -> Result<Vec<AnyRow>, BatchFailure> {
    let tuples = rows.iter().map(|r| {
        let NewRow {
            stream_id,
            version,
            event_id,
            event_type,
            payload,
            metadata,
        } = r;
        (stream_id, version, event_id, event_type, payload, metadata)
    });
    let chunks = json_chunks(tuples)?;
    Ok(fetch_chunked(tx, POSTGRES_INSERT, chunks, Some(recorded_at_ms)).await?)
}
