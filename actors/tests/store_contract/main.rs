//! Event-store contract: one set of generic tests, each run on SQLite and on PostgreSQL, and
//! with the cargo feature `kurrentdb` on KurrentDB too (`kurrent.rs`).
//!
//! PostgreSQL runs are skipped (with a `SKIPPED` line) when no server is reachable, unless
//! `KRAWALL_REQUIRE_POSTGRES=1`. Positions are checked against the log itself (`log_positions`):
//! strictly increasing everywhere, and on SQL also dense (1, 2, 3…); KurrentDB's are `$all`
//! commit positions, increasing with gaps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::Duration;

use actors::store::testing::{drop_test_database, fresh_postgres_url, fresh_sqlite_url};
use actors::store::{
    AppendError, AppendOutcome, AppendRequest, EventStore, ExpectedVersion, NewEvent,
    RecordedEvent, StoreError,
};
use futures_util::{Stream, StreamExt};
use serde_json::json;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);

fn event(n: i64) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "TestHappened".to_owned(),
        payload: json!({ "n": n, "text": "grüße ✓" }),
        metadata: json!({ "source": "contract" }),
    }
}

fn request(stream: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest {
        stream_id: stream.to_owned(),
        expected,
        events,
    }
}

async fn append_one(store: &EventStore, stream: &str, expected: ExpectedVersion) -> AppendOutcome {
    store
        .append(request(stream, expected, vec![event(0)]))
        .await
        .unwrap()
}

fn assert_conflict(result: Result<AppendOutcome, AppendError>, stream: &str, actual_version: i64) {
    match result {
        Err(AppendError::Conflict {
            stream_id, actual, ..
        }) => {
            assert_eq!(stream_id, stream);
            assert_eq!(actual, actual_version);
        }
        other => panic!("expected a conflict at version {actual_version}, got {other:?}"),
    }
}

/// Every position of the log, in order: strictly increasing, and on the SQL backends dense
/// (1, 2, 3…) — KurrentDB's commit positions have gaps.
async fn log_positions(store: &EventStore) -> Vec<i64> {
    let all = store.read_all(0, 1_000_000).await.unwrap();
    let positions: Vec<i64> = all.iter().map(|e| e.position).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "positions increase: {positions:?}"
    );
    if !store.uses_kurrentdb() {
        let dense: Vec<i64> = (1..=positions.len() as i64).collect();
        assert_eq!(positions, dense, "SQL positions are gap-free");
    }
    positions
}

/// The position of the `n`-th event of the log (1-based).
async fn nth(store: &EventStore, n: usize) -> i64 {
    log_positions(store).await[n - 1]
}

/// `events` are exactly the log's events after its first `skip` ones: no gap, no duplicate.
async fn assert_contiguous(store: &EventStore, events: &[RecordedEvent], skip: usize) {
    let log = log_positions(store).await;
    let got: Vec<i64> = events.iter().map(|e| e.position).collect();
    assert_eq!(got, log[skip..skip + events.len()], "gap or duplicate");
}

async fn take<S>(stream: &mut S, n: usize) -> Vec<RecordedEvent>
where
    S: Stream<Item = Result<RecordedEvent, StoreError>> + Unpin,
{
    let mut out = Vec::with_capacity(n);
    tokio::time::timeout(WAIT, async {
        while out.len() < n {
            out.push(stream.next().await.unwrap().unwrap());
        }
    })
    .await
    .unwrap_or_else(|_| panic!("subscription delivered {} of {n} events", out.len()));
    out
}

mod contracts;
#[cfg(feature = "kurrentdb")]
mod kurrent;
mod wiring;
