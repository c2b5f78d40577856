//! The `Projection` contract: applying an event again (same batch twice, in order or in
//! reverse) leaves the read models as they were; counters never count twice.

use actors::domain::events::DomainEvent;
use actors::store::{EventStore, RecordedEvent};
use projections::{all_projections, catch_up};
use uuid::Uuid;

use crate::fixtures::{
    append, append_target, completed, failed, message_rows, queued, reply, sent, session_counts,
    session_status, started, target, target_row,
};

/// Applies `batch` to every projection directly, ignoring checkpoints, in one transaction.
pub async fn apply_directly(store: &EventStore, batch: &[RecordedEvent]) {
    let mut tx = store.pool().begin().await.unwrap();
    for recorded in batch {
        let event = DomainEvent::from_parts(&recorded.event_type, &recorded.payload).unwrap();
        for p in all_projections() {
            p.apply(&mut tx, recorded, &event).await.unwrap();
        }
    }
    tx.commit().await.unwrap();
}

async fn seed(store: &EventStore, session: Uuid, target_id: Uuid) {
    append_target(
        store,
        target_id,
        &[
            target(target_id, "first", true),
            target(target_id, "second", false),
        ],
    )
    .await;
    append(
        store,
        session,
        &[
            queued(session),
            started(session),
            sent(session, 0),
            reply(session, 0, 3, 4, 10),
            sent(session, 1),
            failed(session, 1),
            completed(session),
        ],
    )
    .await;
}

pub async fn applying_the_same_batch_twice_changes_nothing(store: EventStore) {
    let (session, target_id) = (Uuid::new_v4(), Uuid::new_v4());
    seed(&store, session, target_id).await;
    catch_up(&store, &all_projections()).await.unwrap();
    let expected_counts = Some([2, 1, 3, 4, 10]);
    assert_eq!(session_counts(&store, session).await, expected_counts);
    let messages = message_rows(&store, session).await;
    assert_eq!(messages.len(), 2);
    assert_eq!(target_row(&store, target_id).await, ("second".into(), 2));

    let batch = store.read_all(0, 100).await.unwrap();
    apply_directly(&store, &batch).await;
    let reversed: Vec<_> = batch.iter().rev().cloned().collect();
    apply_directly(&store, &reversed).await;

    assert_eq!(session_counts(&store, session).await, expected_counts);
    assert_eq!(session_status(&store, session).await, "COMPLETED");
    assert_eq!(message_rows(&store, session).await, messages);
    assert_eq!(target_row(&store, target_id).await, ("second".into(), 2));
}

pub async fn a_lost_checkpoint_replays_without_double_counting(store: EventStore) {
    let (session, target_id) = (Uuid::new_v4(), Uuid::new_v4());
    seed(&store, session, target_id).await;
    let head = catch_up(&store, &all_projections()).await.unwrap();
    sqlx::query("UPDATE projection_checkpoints SET position = 0")
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(catch_up(&store, &all_projections()).await.unwrap(), head);
    assert_eq!(
        session_counts(&store, session).await,
        Some([2, 1, 3, 4, 10])
    );
    assert_eq!(session_status(&store, session).await, "COMPLETED");
}
