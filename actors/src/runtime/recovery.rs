//! Recovery: finds sessions without a terminal event (queued or interrupted mid-run), offers them
//! to every node through the lease table, and ends a session whose runner was lost.

use std::collections::{HashMap, HashSet};

use sqlx::Row;
use uuid::Uuid;

use crate::domain::events::{EventType, FailureReason};
use crate::domain::session::SessionCommand;
use crate::store::{EventStore, RecordedEvent, StoreError};

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
    if store.uses_kurrentdb() {
        let lifecycle = store.read_types(&[QUEUED, STARTED, ENDED[0], ENDED[1], ENDED[2]]);
        return Ok(fold_unfinished(&lifecycle.await?));
    }
    let rows = sqlx::query(
        "SELECT q.stream_id AS stream_id,
                CAST(CASE WHEN EXISTS (SELECT 1 FROM events s WHERE s.stream_id = q.stream_id
                                        AND s.event_type = $1) THEN 1 ELSE 0 END AS BIGINT) AS started
         FROM events q
         WHERE q.event_type = $2
           AND NOT EXISTS (SELECT 1 FROM events t WHERE t.stream_id = q.stream_id
                           AND t.event_type IN ($3, $4, $5))
         ORDER BY q.position",
    )
    .bind(STARTED)
    .bind(QUEUED)
    .bind(ENDED[0])
    .bind(ENDED[1])
    .bind(ENDED[2])
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

const QUEUED: &str = EventType::SessionQueued.as_str();
const STARTED: &str = EventType::SessionStarted.as_str();
const ENDED: [&str; 3] = crate::domain::event_type::names([
    EventType::SessionCompleted,
    EventType::SessionFailed,
    EventType::SessionCancelled,
]);

/// [`unfinished_sessions`] from the lifecycle events themselves (in log order), for an event
/// log without SQL (KurrentDB).
fn fold_unfinished(events: &[RecordedEvent]) -> Vec<Unfinished> {
    let mut sessions: Vec<(String, Unfinished)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut ended = HashSet::new();
    for e in events {
        let Some(id) = e
            .stream_id
            .strip_prefix("session-")
            .and_then(|s| Uuid::parse_str(s).ok())
        else {
            continue;
        };
        match e.event_type.as_str() {
            QUEUED => {
                index.insert(e.stream_id.clone(), sessions.len());
                let session = Unfinished {
                    session_id: id,
                    started: false,
                };
                sessions.push((e.stream_id.clone(), session));
            }
            STARTED => {
                if let Some(i) = index.get(&e.stream_id) {
                    sessions[*i].1.started = true;
                }
            }
            t if ENDED.contains(&t) => {
                ended.insert(e.stream_id.clone());
            }
            _ => {}
        }
    }
    sessions
        .into_iter()
        .filter(|(stream, _)| !ended.contains(stream))
        .map(|(_, s)| s)
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(session: Uuid, event_type: &str) -> RecordedEvent {
        RecordedEvent {
            position: 0,
            stream_id: format!("session-{session}"),
            version: 1,
            event_id: Uuid::new_v4(),
            event_type: event_type.into(),
            payload: serde_json::Value::Null,
            metadata: serde_json::Value::Null,
            recorded_at_ms: 0,
        }
    }

    #[test]
    fn folds_the_lifecycle_into_unfinished_sessions_oldest_first() {
        let (done, running, queued) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let events = [
            event(done, QUEUED),
            event(running, QUEUED),
            event(done, STARTED),
            event(queued, QUEUED),
            event(running, STARTED),
            event(done, "SessionFailed"),
        ];
        let unfinished = fold_unfinished(&events);
        let want = [
            Unfinished {
                session_id: running,
                started: true,
            },
            Unfinished {
                session_id: queued,
                started: false,
            },
        ];
        assert_eq!(unfinished, want);
    }
}
