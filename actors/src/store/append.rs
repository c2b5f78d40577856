//! Appending: one locked transaction per batch, expected-version checks, idempotent event ids.
//!
//! A batch runs as: take the write lock (in-process gate, plus `BEGIN IMMEDIATE` on SQLite or
//! a transaction-scoped advisory lock on PostgreSQL, so positions commit in position order),
//! load the touched streams' versions and the already-stored event ids, plan every request in
//! memory, insert the new rows, `pg_notify`, commit. If the unique indexes still reject a row
//! (a writer that bypassed the lock), the batch is rolled back and its requests are retried one
//! by one, where a repeated violation becomes [`AppendError::Conflict`].

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::plan::{NewRow, Ref, StoredEvent, StreamState, plan, resolve};
use super::sql::{Backend, EventStore, Inner};
use super::{AppendError, AppendOutcome, AppendRequest, StoreError};

/// Key of the PostgreSQL advisory lock that serialises appends across processes ("Krawall").
const APPEND_LOCK_KEY: i64 = 0x004b_7261_7761_6c6c;
/// PostgreSQL channel on which every append announces its last position.
pub(super) const NOTIFY_CHANNEL: &str = "krawall_events";
/// Keys per `IN (…)` lookup.
const LOOKUP_CHUNK: usize = 500;
/// Rows per multi-row `INSERT` (7 parameters each; far below both backends' limits).
const INSERT_CHUNK: usize = 500;

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
    pub(super) async fn append_batch_slice(
        &self,
        reqs: &[AppendRequest],
    ) -> Result<Results, StoreError> {
        if reqs.is_empty() {
            return Ok(Vec::new());
        }
        let _gate = self.inner.write_gate.lock().await;
        match self.write_and_wake(reqs).await {
            Ok(results) => Ok(results),
            Err(BatchFailure::Store(e)) => Err(e),
            Err(BatchFailure::UniqueViolation) => Ok(self.append_each(reqs).await),
        }
    }

    async fn write_and_wake(&self, reqs: &[AppendRequest]) -> Result<Results, BatchFailure> {
        let (results, last) = write_batch(&self.inner, reqs).await?;
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
    let t0 = std::time::Instant::now();
    let mut tx = begin_locked(inner).await?;
    let t1 = t0.elapsed();
    let streams = load_streams(&mut tx, reqs).await?;
    let t2 = t0.elapsed();
    let stored = load_events(&mut tx, reqs).await?;
    let t3 = t0.elapsed();
    let (rows, planned) = plan(reqs, streams, stored)?;
    let t4 = t0.elapsed();
    let positions = insert_rows(&mut tx, rows, now_ms()).await?;
    let t5 = t0.elapsed();
    eprintln!("n={} lock={t1:?} streams={t2:?} events={t3:?} plan={t4:?} insert={t5:?}", reqs.len());
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

/// Runs `{head} IN ($1, …, $n) {tail}` for each chunk of `keys`.
async fn select_in(
    tx: &mut Transaction<'static, Any>,
    head: &str,
    tail: &str,
    keys: &[String],
) -> Result<Vec<AnyRow>, sqlx::Error> {
    let mut rows = Vec::new();
    for chunk in keys.chunks(LOOKUP_CHUNK) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        // Only generated placeholders are spliced in; every value is bound.
        let sql = format!("{head} IN ({}) {tail}", marks.join(", "));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for key in chunk {
            query = query.bind(key.clone());
        }
        rows.extend(query.fetch_all(&mut **tx).await?);
    }
    Ok(rows)
}

/// Current version and last event of every stream the batch touches.
async fn load_streams(
    tx: &mut Transaction<'static, Any>,
    reqs: &[AppendRequest],
) -> Result<HashMap<String, StreamState>, sqlx::Error> {
    let mut ids: Vec<String> = reqs.iter().map(|r| r.stream_id.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = select_in(
        tx,
        "SELECT e.stream_id, e.version, e.position FROM events e WHERE e.stream_id",
        "AND e.version = (SELECT MAX(m.version) FROM events m WHERE m.stream_id = e.stream_id)",
        &ids,
    )
    .await?;
    let mut streams = HashMap::with_capacity(ids.len());
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
    reqs: &[AppendRequest],
) -> Result<HashMap<String, StoredEvent>, sqlx::Error> {
    let mut ids: Vec<String> = reqs
        .iter()
        .flat_map(|r| r.events.iter().map(|e| e.event_id.to_string()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = select_in(
        tx,
        "SELECT event_id, version, position FROM events WHERE event_id",
        "",
        &ids,
    )
    .await?;
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

/// Inserts the rows; returns their positions in row order.
async fn insert_rows(
    tx: &mut Transaction<'static, Any>,
    rows: Vec<NewRow>,
    recorded_at_ms: i64,
) -> Result<Vec<i64>, BatchFailure> {
    let ids: Vec<String> = rows.iter().map(|r| r.event_id.clone()).collect();
    let mut by_id: HashMap<String, i64> = HashMap::with_capacity(rows.len());
    let mut rest = rows;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(INSERT_CHUNK));
        let chunk = std::mem::replace(&mut rest, tail);
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let marks: Vec<String> = (1..=7).map(|c| format!("${}", i * 7 + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        // Only generated placeholders are spliced in; every value is bound.
        let sql = format!(
            "INSERT INTO events (stream_id, version, event_id, event_type, payload, metadata, \
             recorded_at_ms) VALUES {} RETURNING event_id, position",
            values.join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for row in chunk {
            query = query
                .bind(row.stream_id)
                .bind(row.version)
                .bind(row.event_id)
                .bind(row.event_type)
                .bind(row.payload)
                .bind(row.metadata)
                .bind(recorded_at_ms);
        }
        for returned in query.fetch_all(&mut **tx).await? {
            by_id.insert(returned.try_get("event_id")?, returned.try_get("position")?);
        }
    }
    let positions: Option<Vec<i64>> = ids.iter().map(|id| by_id.get(id).copied()).collect();
    positions.ok_or_else(|| {
        BatchFailure::Store(StoreError::Database(sqlx::Error::Protocol(
            "INSERT … RETURNING did not return every inserted event".into(),
        )))
    })
}
