//! Event-store contract: one set of generic tests, each run on SQLite and on PostgreSQL.
//!
//! PostgreSQL runs are skipped (with a `SKIPPED` line) when no server is reachable, unless
//! `KRAWALL_REQUIRE_POSTGRES=1`.
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

/// Positions strictly increasing by exactly one, starting after `after`.
fn assert_contiguous(events: &[RecordedEvent], after: i64) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(
            e.position,
            after + 1 + i as i64,
            "gap or duplicate at index {i}"
        );
    }
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
mod wiring;
