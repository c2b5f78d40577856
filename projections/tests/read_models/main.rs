//! Read models against real SQLite and PostgreSQL: hostile values from a bot, replayed batches
//! and undecodable events. Each scenario runs on both backends (PostgreSQL is skipped with a
//! `SKIPPED` line when no server is reachable, unless `KRAWALL_REQUIRE_POSTGRES=1`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod automation;
mod batched;
mod fixtures;
mod metrics;
mod overflow;
mod parking;
mod replay;

use actors::store::EventStore;
use actors::store::testing::{drop_test_database, fresh_postgres_url, fresh_sqlite_url};

pub use automation::*;
pub use batched::*;
pub use metrics::*;
pub use overflow::*;
pub use parking::*;
pub use replay::*;

pub async fn sqlite_store(dir: &tempfile::TempDir) -> EventStore {
    EventStore::connect(&fresh_sqlite_url(dir.path()))
        .await
        .unwrap()
}

/// Runs `scenario` on a fresh PostgreSQL database, then drops it (nothing when skipped).
pub async fn on_postgres<F, Fut>(scenario: F)
where
    F: FnOnce(EventStore) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(url) = fresh_postgres_url().await else {
        return;
    };
    let store = EventStore::connect(&url).await.unwrap();
    scenario(store.clone()).await;
    store.pool().close().await;
    drop_test_database(&url).await.unwrap();
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                super::$name(super::sqlite_store(&dir).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::on_postgres(super::$name).await;
            }
        }
    )*};
}

on_both_backends!(
    a_batch_applies_like_its_events_one_by_one,
    batches_split_between_exchanges_apply_like_one_by_one,
    huge_token_counts_saturate_and_later_events_project,
    applying_the_same_batch_twice_changes_nothing,
    a_lost_checkpoint_replays_without_double_counting,
    undecodable_events_are_parked_and_later_events_project,
    automation_rows_survive_replays,
    metrics_match_hand_computed_figures,
    metrics_are_the_same_one_event_at_a_time_and_after_a_replay,
    the_session_total_is_the_merge_of_its_buckets,
);
