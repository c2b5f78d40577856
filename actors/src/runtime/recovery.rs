//! Recovery: finds sessions without a terminal event (queued or interrupted mid-run), offers them
//! to every node through the lease table, and ends a session whose runner was lost.

use sqlx::Row;
use uuid::Uuid;

use crate::domain::events::FailureReason;
use crate::domain::session::SessionCommand;
use crate::store::{EventStore, StoreError};

use super::leases::Leases;
use super::session_log::{SessionLog, SessionLogError};
use super::summary::SummaryBuilder;

/// A session without a terminal event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    pub session_id: Uuid,
    /// It had started, so it was interrupted mid-run.
    pub started: bool,
}

/// Sessions that were queued and never completed, failed or cancelled, oldest first.
pub async fn unfinished_sessions(store: &EventStore) -> Result<Vec<Unfinished>, StoreError> {
    let rows = sqlx::query(
        "SELECT q.stream_id AS stream_id,
                CAST(CASE WHEN EXISTS (SELECT 1 FROM events s WHERE s.stream_id = q.stream_id
                                        AND s.event_type = 'SessionStarted') THEN 1 ELSE 0 END AS BIGINT) AS started
         FROM events q
         WHERE q.event_type = 'SessionQueued'
           AND NOT EXISTS (SELECT 1 FROM events t WHERE t.stream_id = q.stream_id
                           AND t.event_type IN ('SessionCompleted', 'SessionFailed', 'SessionCancelled'))
         ORDER BY q.position",
    )
    .fetch_all(store.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let stream: String = row.try_get("stream_id")?;
        let started: i64 = row.try_get("started")?;
        if let Some(id) = stream
            .strip_prefix("session-")
            .and_then(|s| Uuid::parse_str(s).ok())
        {
            out.push(Unfinished {
                session_id: id,
                started: started != 0,
            });
        }
    }
    Ok(out)
}

/// Offers every unfinished session (an offer that exists, claimed or not, is left alone), so a
/// crash between `SessionQueued` and its offer loses nothing. Returns how many are unfinished.
pub async fn offer_unfinished(store: &EventStore, leases: &Leases) -> Result<usize, StoreError> {
    let unfinished = unfinished_sessions(store).await?;
    for s in &unfinished {
        leases.offer(s.session_id).await?;
    }
    Ok(unfinished.len())
}

/// Ends a session that was running on a node that stopped or died (its lease expired and this
/// node claimed it): it is never re-run, so no exchange is sent twice.
pub async fn end_interrupted(log: &mut SessionLog) -> Result<(), SessionLogError> {
    let cmd = SessionCommand::Fail {
        reason: FailureReason::Interrupted,
        error: "the node running the session stopped".into(),
        summary: SummaryBuilder::default().build(),
    };
    log.execute(cmd).await.map(|_| ())
}
