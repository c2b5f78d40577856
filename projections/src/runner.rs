//! Runs projections: catch up from the lowest checkpoint, then tail the store's live
//! subscription; each batch's read-model changes and checkpoints commit in one transaction.
//! An event that cannot be decoded is parked (`parked_events`) and skipped, never retried forever.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ::actors::domain::events::DomainEvent;
use ::actors::store::{EventStore, RecordedEvent, open_texts};
use actix::prelude::*;
use futures_util::StreamExt;
use sqlx::{AnyConnection, Row};
use tokio::sync::watch;

use crate::accounts::{AccountsProjection, AuditProjection};
use crate::batches::BatchesProjection;
use crate::catalog::{ScenariosProjection, TargetsProjection};
use crate::comparisons::ComparisonsProjection;
use crate::messages::SessionMessagesProjection;
use crate::metrics::MetricsProjection;
use crate::pricing::PricingProjection;
use crate::projection::{Projection, ProjectionError};
use crate::schedules::SchedulesProjection;
use crate::sessions::SessionsProjection;
use crate::settings::SettingsProjection;
use crate::webhooks::WebhooksProjection;

/// Every read model Krawall maintains.
pub fn all_projections() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(TargetsProjection),
        Arc::new(ScenariosProjection),
        Arc::new(SessionsProjection),
        Arc::new(SessionMessagesProjection),
        Arc::new(PricingProjection),
        Arc::new(BatchesProjection),
        Arc::new(WebhooksProjection),
        Arc::new(SchedulesProjection),
        Arc::new(AccountsProjection),
        Arc::new(AuditProjection),
        Arc::new(SettingsProjection),
        Arc::new(MetricsProjection),
        Arc::new(ComparisonsProjection),
    ]
}

async fn checkpoints(
    store: &EventStore,
    projections: &[Arc<dyn Projection>],
) -> Result<HashMap<String, i64>, ProjectionError> {
    for p in projections {
        sqlx::query("INSERT INTO projection_checkpoints (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING")
            .bind(p.name())
            .execute(store.pool())
            .await?;
    }
    let rows = sqlx::query("SELECT name, position FROM projection_checkpoints")
        .fetch_all(store.pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("name")?,
                r.try_get::<i64, _>("position")?,
            ))
        })
        .collect()
}

/// Locks the checkpoint rows (another node may run the same projections on this database) and
/// reads them in the same statement, so no event is applied twice.
async fn lock_checkpoints(
    conn: &mut AnyConnection,
    projections: &[Arc<dyn Projection>],
) -> Result<HashMap<String, i64>, ProjectionError> {
    let lock = format!(
        "UPDATE projection_checkpoints SET position = position WHERE name IN ({}) RETURNING name, position",
        name_list(projections)
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(lock))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("name")?,
                r.try_get::<i64, _>("position")?,
            ))
        })
        .collect()
}

/// `'a', 'b', …` of the projections' names (static identifiers from the code, never input).
fn name_list(projections: &[Arc<dyn Projection>]) -> String {
    projections
        .iter()
        .map(|p| format!("'{}'", p.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records an event no projection can decode in `parked_events` (one row per projection that
/// skips it) so the read models move past it instead of retrying it forever.
async fn park(
    conn: &mut AnyConnection,
    recorded: &RecordedEvent,
    pending: &[&Arc<dyn Projection>],
    error: &serde_json::Error,
) -> Result<(), ProjectionError> {
    tracing::error!(
        position = recorded.position,
        stream = %recorded.stream_id,
        event_type = %recorded.event_type,
        %error,
        "undecodable event parked"
    );
    let now = chrono::Utc::now().timestamp_millis();
    for p in pending {
        sqlx::query(
            "INSERT INTO parked_events (position, projection, stream_id, event_type, error, parked_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (position, projection) DO NOTHING",
        )
        .bind(recorded.position)
        .bind(p.name())
        .bind(&recorded.stream_id)
        .bind(&recorded.event_type)
        .bind(error.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Applies a batch of events to every projection that has not seen them, in one transaction:
/// each event is decoded once, each projection gets its run of events in one `apply_all`, and
/// the checkpoints advance with one statement. `applied` is the position up to which the caller
/// applied the log before this batch: a checkpoint below it means the read models were rebuilt
/// meanwhile, and the batch is refused ([`ProjectionError::Rewound`]) rather than applied over
/// a gap.
async fn apply_batch(
    store: &EventStore,
    projections: &[Arc<dyn Projection>],
    batch: &[RecordedEvent],
    applied: i64,
) -> Result<(), ProjectionError> {
    let Some(last) = batch.last().map(|e| e.position) else {
        return Ok(());
    };
    // Data keys are read before the write transaction (an in-memory SQLite has one connection).
    let keys = store.text_keys_for(batch).await?;
    let mut tx = store.begin_read_model_write().await?;
    let done = lock_checkpoints(&mut tx, projections).await?;
    let from = |p: &Arc<dyn Projection>| done.get(p.name()).copied().unwrap_or(0);
    if let Some(p) = projections.iter().find(|p| from(p) < applied) {
        return Err(ProjectionError::Rewound {
            projection: p.name().to_string(),
            checkpoint: from(p),
            applied,
        });
    }
    let mut decoded = Vec::with_capacity(batch.len());
    for recorded in batch {
        match DomainEvent::from_parts(&recorded.event_type, &recorded.payload) {
            Ok(mut event) => {
                open_texts(&keys, &mut event);
                decoded.push((recorded, event))
            }
            Err(error) => {
                let pending: Vec<_> = projections
                    .iter()
                    .filter(|p| recorded.position > from(p))
                    .collect();
                park(&mut tx, recorded, &pending, &error).await?;
            }
        }
    }
    for p in projections {
        let run: Vec<_> = decoded
            .iter()
            .filter(|(recorded, _)| recorded.position > from(p))
            .map(|(recorded, event)| (*recorded, event))
            .collect();
        p.apply_all(&mut tx, &run).await?;
    }
    let advance = format!(
        "UPDATE projection_checkpoints SET position = $1 WHERE name IN ({}) AND position < $1",
        name_list(projections)
    );
    sqlx::query(sqlx::AssertSqlSafe(advance))
        .bind(last)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Brings every projection up to the store's current head (used by rebuild and tests).
pub async fn catch_up(
    store: &EventStore,
    projections: &[Arc<dyn Projection>],
) -> Result<i64, ProjectionError> {
    catch_up_reporting(store, projections, None).await
}

/// [`catch_up`], publishing each applied batch's position (a node that starts under load may
/// catch up for as long as the load lasts; readers waiting on the handle must see progress).
async fn catch_up_reporting(
    store: &EventStore,
    projections: &[Arc<dyn Projection>],
    progress: Option<&watch::Sender<i64>>,
) -> Result<i64, ProjectionError> {
    let done = checkpoints(store, projections).await?;
    let mut from = projections
        .iter()
        .map(|p| done.get(p.name()).copied().unwrap_or(0))
        .min()
        .unwrap_or(0);
    loop {
        let batch = store.read_all(from, 500).await?;
        let Some(last) = batch.last().map(|e| e.position) else {
            return Ok(from);
        };
        apply_batch(store, projections, &batch, from).await?;
        from = last;
        if let Some(progress) = progress {
            progress.send_replace(last);
        }
    }
}

/// Empties every read model, its checkpoint and its parked events, then replays the whole log
/// (undecodable events are parked again).
pub async fn rebuild(
    store: &EventStore,
    projections: &[Arc<dyn Projection>],
) -> Result<i64, ProjectionError> {
    let mut tx = store.pool().begin().await?;
    for p in projections {
        for table in p.tables() {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                .execute(&mut *tx)
                .await?;
        }
        for sql in [
            "DELETE FROM projection_checkpoints WHERE name = $1",
            "DELETE FROM parked_events WHERE projection = $1",
        ] {
            sqlx::query(sql).bind(p.name()).execute(&mut *tx).await?;
        }
    }
    tx.commit().await?;
    catch_up(store, projections).await
}

/// Lets readers wait until the read models include a given position (read-your-writes).
#[derive(Clone, Debug)]
pub struct ProjectionHandle {
    position: watch::Receiver<i64>,
}

impl ProjectionHandle {
    /// Position of the last event applied to every read model.
    pub fn position(&self) -> i64 {
        *self.position.borrow()
    }

    /// Waits until the read models include `position`; false on timeout.
    pub async fn wait_for(&self, position: i64, timeout: Duration) -> bool {
        let mut rx = self.position.clone();
        tokio::time::timeout(timeout, rx.wait_for(|p| *p >= position))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

/// The actor that keeps the read models live.
pub struct ProjectionActor {
    store: EventStore,
    projections: Vec<Arc<dyn Projection>>,
    position: Arc<watch::Sender<i64>>,
}

impl ProjectionActor {
    pub fn new(store: EventStore) -> (Self, ProjectionHandle) {
        let (tx, rx) = watch::channel(0);
        (
            Self {
                store,
                projections: all_projections(),
                position: Arc::new(tx),
            },
            ProjectionHandle { position: rx },
        )
    }
}

/// Shortest interval between two live batches while events keep arriving: the next batch then
/// carries every event of the interval (fewer transactions, histogram rewrites and checkpoint
/// writes under load, where a batch per group commit held a handful of events). An event after
/// a quiet spell is applied at once; under load the read models lag by up to this much more.
const LIVE_BATCH_INTERVAL: Duration = Duration::from_millis(50);
/// Events per live batch at most.
const LIVE_BATCH_EVENTS: usize = 512;

async fn run_live(
    store: EventStore,
    projections: Vec<Arc<dyn Projection>>,
    position: Arc<watch::Sender<i64>>,
) -> Result<(), ProjectionError> {
    let from = catch_up_reporting(&store, &projections, Some(&position)).await?;
    position.send_replace(from);
    let mut applied = from;
    let paced = store.subscribe_paced(from, LIVE_BATCH_EVENTS, LIVE_BATCH_INTERVAL);
    let mut stream = std::pin::pin!(paced);
    while let Some(chunk) = stream.next().await {
        let batch = chunk.into_iter().collect::<Result<Vec<_>, _>>()?;
        apply_batch(&store, &projections, &batch, applied).await?;
        if let Some(last) = batch.last() {
            applied = last.position;
            position.send_replace(last.position);
        }
    }
    Ok(())
}

impl Actor for ProjectionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let (store, projections, position) = (
            self.store.clone(),
            self.projections.clone(),
            self.position.clone(),
        );
        let fut = async move {
            loop {
                match run_live(store.clone(), projections.clone(), position.clone()).await {
                    Ok(()) => tracing::warn!("projection subscription ended; restarting"),
                    Err(e @ ProjectionError::Rewound { .. }) => {
                        tracing::info!(reason = %e, "read models rebuilt; following from the checkpoints")
                    }
                    Err(e) => tracing::error!(error = %e, "projection failed; retrying in 1 s"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        };
        ctx.spawn(fut.into_actor(self));
    }
}
