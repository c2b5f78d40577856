//! The metrics projection (`metrics_buckets`, `metrics_totals`, `metrics_sessions`): per session
//! and time bucket, and per session in total, counters and HDR histograms of the exchanges with
//! their percentiles, written set-based per batch: one upsert of the sessions' spans (returning
//! their start times), one read of the touched buckets and of the sessions' totals, one upsert of
//! each. A bucket or total row only takes events after its `applied_position`, so applying a
//! batch again changes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use actors::domain::events::{DomainEvent, ErrorKind};
use actors::domain::scenario::ErrorAction;
use actors::store::RecordedEvent;
use serde_json::Value;
use sqlx::{AnyConnection, Row};

use crate::bulk::{Col, run};
use crate::metrics_bucket::{
    BUCKET_COLUMNS, Bucket, TOTAL_COLUMNS, bucket_column_names, bucket_of, total_column_names,
};
use crate::projection::{Decoded, Projection, ProjectionError, bounded};

pub struct MetricsProjection;

/// What one event adds to its bucket.
#[derive(Debug, Clone)]
enum Contribution {
    Reply {
        latency: u64,
        ttft: Option<u64>,
        itl: Option<u64>,
        tokens: (u64, u64),
        cost: Option<f64>,
        repetition: Option<f64>,
        quality: Option<f64>,
    },
    Failure {
        kind: ErrorKind,
        retried: bool,
    },
    Backoff(u64),
}

impl Contribution {
    fn of(event: &DomainEvent) -> Option<(String, Self)> {
        let c = match event {
            DomainEvent::MessageSent(s) if s.backoff_ms > 0 => {
                (s.exchange.session_id, Self::Backoff(s.backoff_ms))
            }
            DomainEvent::ResponseReceived(r) => {
                let stream = r.stream.as_ref();
                let reply = Self::Reply {
                    latency: r.latency_ms,
                    ttft: stream.map(|s| s.ttft_ms),
                    itl: stream
                        .filter(|s| s.chunks > 1)
                        .map(|s| s.inter_chunk_mean_ms.round().max(0.0) as u64),
                    tokens: (r.tokens.input, r.tokens.output),
                    cost: r.cost.filter(|c| c.is_finite()),
                    repetition: r.repetition_score.filter(|c| c.is_finite()),
                    quality: r.quality_score.filter(|c| c.is_finite()),
                };
                (r.exchange.session_id, reply)
            }
            DomainEvent::MessageFailed(f) => {
                let retried = f.action == ErrorAction::Retry;
                let failure = Self::Failure {
                    kind: f.kind,
                    retried,
                };
                (f.exchange.session_id, failure)
            }
            _ => return None,
        };
        Some((c.0.to_string(), c.1))
    }

    /// Adds this contribution to `b` unless `b` already holds the event at `position`; whether
    /// it did.
    fn apply_once(&self, b: &mut Bucket, position: i64) -> bool {
        if position <= b.applied_position {
            return false;
        }
        self.apply_to(b);
        b.applied_position = position;
        true
    }

    fn apply_to(&self, bucket: &mut Bucket) {
        let b = &mut bucket.counters;
        match self {
            Self::Reply {
                latency,
                ttft,
                itl,
                tokens,
                cost,
                repetition,
                quality,
            } => {
                b.replies += 1;
                let h = &mut bucket.histograms;
                h.latency.record(*latency);
                ttft.inspect(|v| h.ttft.record(*v));
                itl.inspect(|v| h.itl.record(*v));
                b.tokens_in = (b.tokens_in + bounded(tokens.0)).min(crate::projection::COUNTER_CAP);
                b.tokens_out =
                    (b.tokens_out + bounded(tokens.1)).min(crate::projection::COUNTER_CAP);
                if let Some(c) = cost {
                    b.cost = Some(b.cost.unwrap_or(0.0) + c);
                }
                if let Some(r) = repetition {
                    b.repetition_sum += r;
                    b.repetition_count += 1;
                }
                if let Some(q) = quality {
                    b.quality_sum += q;
                    b.quality_count += 1;
                }
            }
            Self::Failure { kind, retried } => {
                *b.errors_by_kind
                    .entry(kind.as_str().to_owned())
                    .or_insert(0) += 1;
                b.rate_limited += i64::from(*kind == ErrorKind::RateLimited);
                if *retried {
                    b.retries += 1;
                } else {
                    b.errors += 1;
                }
            }
            Self::Backoff(ms) => {
                b.backoff_ms = (b.backoff_ms + bounded(*ms)).min(crate::projection::COUNTER_CAP);
            }
        }
    }
}

/// A batch's contributions waiting to be written.
#[derive(Default)]
struct Pending {
    /// `SessionStarted` times seen in the batch.
    started: HashMap<String, i64>,
    /// (session, recorded at, position, contribution), in position order.
    items: Vec<(String, i64, i64, Contribution)>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.started.is_empty() && self.items.is_empty()
    }

    async fn flush(&mut self, conn: &mut AnyConnection) -> Result<(), ProjectionError> {
        if self.is_empty() {
            return Ok(());
        }
        let starts = self.write_sessions(conn).await?;
        let mut buckets = self.load_buckets(conn, &starts).await?;
        let mut totals = self.load_totals(conn, &starts).await?;
        let (mut touched, mut touched_totals) = (BTreeSet::new(), BTreeSet::new());
        for (session, at, position, c) in &self.items {
            let Some(&start) = starts.get(session) else {
                continue;
            };
            let (bucket_start, width) = bucket_of(start, *at);
            let key = (session.clone(), bucket_start);
            let b = buckets
                .entry(key.clone())
                .or_insert_with(|| Bucket::new(bucket_start, width));
            if c.apply_once(b, *position) {
                touched.insert(key);
            }
            let total = totals
                .entry(session.clone())
                .or_insert_with(|| Bucket::new(start, 0));
            if c.apply_once(total, *position) {
                touched_totals.insert(session.clone());
            }
        }
        let rows: Vec<Vec<Value>> = touched
            .iter()
            .filter_map(|k| buckets.get(k).map(|b| b.bucket_values(&k.0)))
            .collect();
        upsert(
            conn,
            "metrics_buckets",
            &bucket_column_names(),
            &BUCKET_COLUMNS,
            &rows,
        )
        .await?;
        let rows: Vec<Vec<Value>> = touched_totals
            .iter()
            .filter_map(|s| totals.get(s).map(|t| t.total_values(s)))
            .collect();
        upsert(
            conn,
            "metrics_totals",
            &total_column_names(),
            &TOTAL_COLUMNS,
            &rows,
        )
        .await?;
        *self = Self::default();
        Ok(())
    }

    /// Upserts `metrics_sessions` (start kept, last exchange time raised) and returns the start
    /// of every session the batch touches.
    async fn write_sessions(
        &self,
        conn: &mut AnyConnection,
    ) -> Result<HashMap<String, i64>, ProjectionError> {
        let mut spans: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for (session, at) in &self.started {
            spans.insert(session.clone(), (*at, *at));
        }
        for (session, at, _, _) in &self.items {
            let span = spans.entry(session.clone()).or_insert((*at, *at));
            span.1 = span.1.max(*at);
        }
        let rows: Vec<(String, i64, i64)> = spans
            .into_iter()
            .map(|(s, (start, last))| (s, start, last))
            .collect();
        let returned = run(
            conn,
            &[Col::Text, Col::Int, Col::Int],
            &rows,
            upsert_sessions_sql,
        )
        .await?;
        let mut starts = HashMap::new();
        for row in returned {
            starts.insert(row.try_get("session_id")?, row.try_get("started_at_ms")?);
        }
        Ok(starts)
    }

    /// The stored buckets the batch's items fall in.
    async fn load_buckets(
        &self,
        conn: &mut AnyConnection,
        starts: &HashMap<String, i64>,
    ) -> Result<HashMap<(String, i64), Bucket>, ProjectionError> {
        let mut keys: Vec<(String, i64)> = self
            .items
            .iter()
            .filter_map(|(s, at, _, _)| starts.get(s).map(|st| (s.clone(), bucket_of(*st, *at).0)))
            .collect();
        keys.sort();
        keys.dedup();
        let mut buckets = HashMap::new();
        if keys.is_empty() {
            return Ok(buckets);
        }
        let rows = run(conn, &[Col::Text, Col::Int], &keys, select_buckets_sql).await?;
        for row in rows {
            let session: String = row.try_get("session_id")?;
            let bucket = Bucket::from_row(&row)?;
            buckets.insert((session, bucket.start_ms), bucket);
        }
        Ok(buckets)
    }

    /// The stored totals of the sessions the batch's items belong to.
    async fn load_totals(
        &self,
        conn: &mut AnyConnection,
        starts: &HashMap<String, i64>,
    ) -> Result<HashMap<String, Bucket>, ProjectionError> {
        let sessions: BTreeSet<(String,)> = self
            .items
            .iter()
            .filter(|(s, ..)| starts.contains_key(s))
            .map(|(s, ..)| (s.clone(),))
            .collect();
        let mut totals = HashMap::new();
        if sessions.is_empty() {
            return Ok(totals);
        }
        let keys: Vec<(String,)> = sessions.into_iter().collect();
        let rows = run(conn, &[Col::Text], &keys, |select| {
            format!("SELECT t.* FROM metrics_totals t JOIN ({select}) AS d ON t.session_id = d.c0")
        })
        .await?;
        for row in rows {
            totals.insert(row.try_get("session_id")?, Bucket::from_total_row(&row)?);
        }
        Ok(totals)
    }
}

fn upsert_sessions_sql(select: &str) -> String {
    format!(
        "INSERT INTO metrics_sessions (session_id, started_at_ms, last_at_ms)
         SELECT d.* FROM ({select}) AS d WHERE true
         ON CONFLICT (session_id) DO UPDATE SET last_at_ms = CASE
             WHEN excluded.last_at_ms > metrics_sessions.last_at_ms THEN excluded.last_at_ms
             ELSE metrics_sessions.last_at_ms END
         RETURNING session_id, started_at_ms"
    )
}

fn select_buckets_sql(select: &str) -> String {
    format!(
        "SELECT b.* FROM metrics_buckets b JOIN ({select}) AS d
         ON b.session_id = d.c0 AND b.bucket_start_ms = d.c1"
    )
}

/// Inserts or replaces `rows` of `table` (keyed by its first columns: `session_id`, and
/// `bucket_start_ms` for a bucket); nothing for no rows.
async fn upsert(
    conn: &mut AnyConnection,
    table: &str,
    names: &str,
    cols: &[Col],
    rows: &[Vec<Value>],
) -> Result<(), ProjectionError> {
    if rows.is_empty() {
        return Ok(());
    }
    let keys: &[&str] = if table == "metrics_buckets" {
        &["session_id", "bucket_start_ms"]
    } else {
        &["session_id"]
    };
    let sets: Vec<String> = names
        .split(", ")
        .filter(|c| !keys.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let statement = |select: &str| {
        format!(
            "INSERT INTO {table} ({names})
             SELECT d.* FROM ({select}) AS d WHERE true
             ON CONFLICT ({}) DO UPDATE SET {}",
            keys.join(", "),
            sets.join(", ")
        )
    };
    run(conn, cols, rows, statement).await?;
    Ok(())
}

async fn delete_session(conn: &mut AnyConnection, id: &str) -> Result<(), ProjectionError> {
    for table in ["metrics_buckets", "metrics_totals", "metrics_sessions"] {
        let sql = format!("DELETE FROM {table} WHERE session_id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_owned())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl Projection for MetricsProjection {
    fn name(&self) -> &'static str {
        "metrics"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["metrics_buckets", "metrics_totals", "metrics_sessions"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        self.apply_all(conn, &[(meta, event)]).await
    }

    async fn apply_all(
        &self,
        conn: &mut AnyConnection,
        events: &[Decoded<'_>],
    ) -> Result<(), ProjectionError> {
        let mut pending = Pending::default();
        for &(meta, event) in events {
            match event {
                DomainEvent::SessionStarted(s) => {
                    let id = s.session_id.to_string();
                    pending.started.entry(id).or_insert(meta.recorded_at_ms);
                }
                DomainEvent::SessionDeleted(d) => {
                    pending.flush(conn).await?;
                    delete_session(conn, &d.id.to_string()).await?;
                }
                other => {
                    if let Some((session, c)) = Contribution::of(other) {
                        let at = meta.recorded_at_ms;
                        pending.items.push((session, at, meta.position, c));
                    }
                }
            }
        }
        pending.flush(conn).await
    }
}
