//! Poison events: an event that cannot be decoded is parked in `parked_events` and skipped; the
//! events after it still reach every read model, and the health query reports it.

use actors::domain::events::session_stream;
use actors::store::EventStore;
use projections::queries::parked_events;
use projections::{all_projections, catch_up, rebuild};
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{append, append_raw, queued, reply, sent, session_counts};

pub async fn undecodable_events_are_parked_and_later_events_project(store: EventStore) {
    let projections = all_projections();
    let session = Uuid::new_v4();
    append(&store, session, &[queued(session)]).await;
    let poison = vec![
        ("ResponseReceived".to_owned(), json!({"nonsense": 1})),
        ("SessionExploded".to_owned(), json!({"sessionId": session})),
    ];
    let unknown = append_raw(&store, &session_stream(session), poison).await;
    let head = append(
        &store,
        session,
        &[sent(session, 0), reply(session, 0, 3, 4, 5)],
    )
    .await;

    assert_eq!(catch_up(&store, &projections).await.unwrap(), head);
    assert_eq!(session_counts(&store, session).await, Some([1, 0, 3, 4, 5]));
    assert_parked(&store, session, unknown).await;

    assert_eq!(rebuild(&store, &projections).await.unwrap(), head);
    assert_eq!(session_counts(&store, session).await, Some([1, 0, 3, 4, 5]));
    assert_parked(&store, session, unknown).await;
}

/// Both poison events are parked for every projection, the newest (at `unknown`) first.
async fn assert_parked(store: &EventStore, session: Uuid, unknown: i64) {
    let parked = parked_events(store.pool(), 10).await.unwrap();
    assert_eq!(parked.count, 2, "{parked:?}");
    let types: Vec<_> = parked
        .latest
        .iter()
        .map(|p| p.event_type.as_str())
        .collect();
    assert_eq!(types, ["SessionExploded", "ResponseReceived"]);
    let newest = &parked.latest[0];
    assert_eq!(newest.position, unknown);
    assert_eq!(newest.stream_id, session_stream(session));
    let mut names: Vec<_> = all_projections()
        .iter()
        .map(|p| p.name().to_owned())
        .collect();
    names.sort();
    assert_eq!(newest.projections, names);
    assert!(newest.error.contains("SessionExploded"), "{}", newest.error);
    assert!(
        parked.latest[1].error.contains("missing field"),
        "{parked:?}"
    );

    let only_one = parked_events(store.pool(), 1).await.unwrap();
    assert_eq!((only_one.count, only_one.latest.len()), (2, 1));
}
