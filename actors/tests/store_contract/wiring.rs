//! Runs every contract against SQLite and PostgreSQL (and KurrentDB with the `kurrentdb`
//! feature), plus backend-specific checks.

use super::*;

pub async fn sqlite_store(dir: &tempfile::TempDir) -> EventStore {
    EventStore::connect(&fresh_sqlite_url(dir.path()))
        .await
        .unwrap()
}

/// The SQLite and PostgreSQL runs of one contract.
macro_rules! sql_tests {
    ($name:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sqlite() {
            let dir = tempfile::tempdir().unwrap();
            super::super::contracts::$name(super::sqlite_store(&dir).await).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres() {
            let Some(url) = actors::store::testing::fresh_postgres_url().await else {
                return;
            };
            let store = actors::store::EventStore::connect(&url).await.unwrap();
            super::super::contracts::$name(store.clone()).await;
            store.pool().close().await;
            super::super::drop_test_database(&url).await.unwrap();
        }
    };
}

/// Every backend's run of each contract (KurrentDB with the cargo feature, see `kurrent.rs`).
macro_rules! contract {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            sql_tests!($name);

            #[cfg(feature = "kurrentdb")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn kurrentdb() {
                let (store, _read_side) = super::super::kurrent::store().await;
                super::super::contracts::$name(store).await;
            }
        }
    )*};
}

contract!(
    submitted_appends_contract,
    expected_version_contract,
    concurrent_writers_contract,
    read_stream_contract,
    read_all_contract,
    idempotency_contract,
    batch_contract,
    subscription_contract,
    typed_subscription_contract,
    batched_appender_contract,
);

/// SQL only: a writer that bypasses the store's lock and the unique `(stream_id, version)`
/// index that catches it. KurrentDB has no such side door (its expected revision is checked
/// by the server on every append).
mod unique_index_backstop_contract {
    sql_tests!(unique_index_backstop_contract);
}

mod cross_instance_contract {
    use std::time::Duration;

    async fn reader(url: &str, poll: Duration) -> super::super::EventStore {
        let store = super::super::EventStore::connect(url).await.unwrap();
        store.with_poll_interval(poll)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        // No notifications across SQLite processes: the periodic re-check delivers.
        let dir = tempfile::tempdir().unwrap();
        let url = super::super::fresh_sqlite_url(dir.path());
        super::super::contracts::cross_instance_contract(
            reader(&url, Duration::from_millis(200)).await,
            super::super::EventStore::connect(&url).await.unwrap(),
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(url) = super::super::fresh_postgres_url().await else {
            return;
        };
        // A 60 s poll interval: only LISTEN/NOTIFY can deliver within the 10 s deadline.
        super::super::contracts::cross_instance_contract(
            reader(&url, Duration::from_secs(60)).await,
            super::super::EventStore::connect(&url).await.unwrap(),
        )
        .await;
        super::super::drop_test_database(&url).await.unwrap();
    }
}

#[tokio::test]
async fn rejects_unsupported_urls() {
    match EventStore::connect("mysql://user:secret@host/db").await {
        Err(StoreError::UnsupportedUrl(shown)) => assert!(!shown.contains("secret")),
        other => panic!("expected UnsupportedUrl, got {other:?}"),
    }
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data() {
    let store = EventStore::connect("sqlite::memory:").await.unwrap();
    append_one(&store, "m", ExpectedVersion::NoStream).await;
    let mut subscription = Box::pin(store.subscribe(0));
    assert_eq!(take(&mut subscription, 1).await[0].stream_id, "m");
    assert_eq!(store.read_stream("m").await.unwrap().len(), 1);
}
