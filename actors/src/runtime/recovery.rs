//! Start-up recovery: finds sessions a previous process left queued or running.

use sqlx::Row;
use uuid::Uuid;

use crate::store::{EventStore, StoreError};

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
