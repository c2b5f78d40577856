//! The contract on KurrentDB (cargo feature `kurrentdb`): every contract of `wiring.rs` runs
//! against the server at `KRAWALL_KURRENTDB_URL` (e.g. `kurrentdb://127.0.0.1:2113?tls=false`),
//! each in its own stream prefix (`krawall-test-<uuid>.`), with the read side on a fresh SQLite
//! file. No KurrentDB server is installable on this project's machines (no package on the
//! registries they reach), so CI only compiles these tests (`cargo clippy -p actors --features
//! kurrentdb --all-targets`); run them where a server is:
//! `KRAWALL_KURRENTDB_URL=kurrentdb://… cargo test -p actors --features kurrentdb --test store_contract`.
//! Without the variable the KurrentDB runs fail (they never pass without a server).

use super::*;

fn url() -> String {
    std::env::var("KRAWALL_KURRENTDB_URL").unwrap_or_else(|_| {
        panic!(
            "set KRAWALL_KURRENTDB_URL (e.g. kurrentdb://127.0.0.1:2113?tls=false) to run the \
             KurrentDB contract; no server can be installed here"
        )
    })
}

fn prefix() -> String {
    format!("krawall-test-{}.", Uuid::new_v4().simple())
}

async fn open(prefix: &str, read_side: &tempfile::TempDir) -> EventStore {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let sql = fresh_sqlite_url(read_side.path());
    EventStore::connect_with_kurrentdb(&sql, &url(), prefix)
        .await
        .unwrap()
}

/// A store whose log is a fresh prefix on the server; keep the directory (the read side).
pub async fn store() -> (EventStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&prefix(), &dir).await;
    assert!(store.uses_kurrentdb());
    (store, dir)
}

mod cross_instance_contract {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kurrentdb() {
        let prefix = prefix();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        // A 60 s poll interval: only the `$all` subscription can deliver within 10 s.
        let reader = open(&prefix, &a)
            .await
            .with_poll_interval(Duration::from_secs(60));
        let writer = open(&prefix, &b).await;
        contracts::cross_instance_contract(reader, writer).await;
    }
}

/// Needs no server: a connection string that does not parse is refused, without echoing it
/// (it may hold a password).
#[tokio::test]
async fn refuses_a_bad_connection_string_without_showing_it() {
    let dir = tempfile::tempdir().unwrap();
    let sql = fresh_sqlite_url(dir.path());
    match EventStore::connect_with_kurrentdb(&sql, "kurrentdb://admin:secret@[::1", "p.").await {
        Err(StoreError::KurrentSetup(shown)) => assert!(!shown.contains("secret"), "{shown}"),
        other => panic!("expected KurrentSetup, got {other:?}"),
    }
}

/// Needs no server: nothing listens on port 1, so opening the store fails with a KurrentDB error
/// (the head read) instead of hanging or pretending.
#[tokio::test]
async fn an_unreachable_server_is_an_error() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let sql = fresh_sqlite_url(dir.path());
    let opened = tokio::time::timeout(
        Duration::from_secs(60),
        EventStore::connect_with_kurrentdb(&sql, "kurrentdb://127.0.0.1:1?tls=false", "p."),
    )
    .await
    .expect("gives up within 60 s");
    assert!(matches!(opened, Err(StoreError::Kurrent(_))), "{opened:?}");
}
