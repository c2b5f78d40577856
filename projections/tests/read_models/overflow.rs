//! Token counts, sizes and latencies come from the bot under test and are unbounded: the read
//! models clamp them and saturate their sums instead of overflowing a `BIGINT` and stalling.

use actors::store::EventStore;
use projections::projection::COUNTER_CAP;
use projections::{all_projections, catch_up, rebuild};
use uuid::Uuid;

use crate::fixtures::{append, message_rows, queued, reply, sent, session_counts};

pub async fn huge_token_counts_saturate_and_later_events_project(store: EventStore) {
    let projections = all_projections();
    let (hostile, later) = (Uuid::new_v4(), Uuid::new_v4());
    let near_max = i64::MAX as u64 - 1;
    append(
        &store,
        hostile,
        &[
            queued(hostile),
            sent(hostile, 0),
            reply(hostile, 0, near_max, near_max, near_max),
            sent(hostile, 1),
            reply(hostile, 1, u64::MAX, near_max, 5),
        ],
    )
    .await;
    let head = catch_up(&store, &projections).await.unwrap();
    let capped = [2, 0, COUNTER_CAP, COUNTER_CAP, COUNTER_CAP];
    assert_eq!(session_counts(&store, hostile).await, Some(capped));
    let row = ("ok".to_owned(), COUNTER_CAP, COUNTER_CAP, COUNTER_CAP);
    assert_eq!(message_rows(&store, hostile).await, vec![row.clone(), row]);

    let last = append(
        &store,
        later,
        &[queued(later), sent(later, 0), reply(later, 0, 3, 4, 50)],
    )
    .await;
    assert!(last > head);
    assert_eq!(catch_up(&store, &projections).await.unwrap(), last);
    assert_eq!(session_counts(&store, later).await, Some([1, 0, 3, 4, 50]));

    assert_eq!(rebuild(&store, &projections).await.unwrap(), last);
    assert_eq!(session_counts(&store, hostile).await, Some(capped));
    assert_eq!(session_counts(&store, later).await, Some([1, 0, 3, 4, 50]));
}
