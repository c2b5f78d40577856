//! Test support: fresh, isolated databases for store and projection tests.
//!
//! Compiled only with the `testing` feature, which the test-only dev-dependencies enable; the
//! release library does not contain it.
//!
//! PostgreSQL tests call [`fresh_postgres_url`], which creates a new database per call and
//! returns `None` (printing `SKIPPED`) when no server is reachable, unless
//! `KRAWALL_REQUIRE_POSTGRES=1`, in which case it panics so CI fails instead of skipping.

use std::path::Path;
use std::time::Duration;

use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection, Executor};

/// Server used when `KRAWALL_TEST_DATABASE_URL` is not set.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Error of the test helpers (they run only in tests).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Creates `krawall_test_<uuid>` on the test server and returns its URL, or `None` when the
/// server is unreachable (panics instead if `KRAWALL_REQUIRE_POSTGRES=1`).
pub async fn fresh_postgres_url() -> Option<String> {
    let base = std::env::var("KRAWALL_TEST_DATABASE_URL")
        .unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned());
    let required = std::env::var("KRAWALL_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    match create_database(&base).await {
        Ok(url) => Some(url),
        Err(e) if required => panic!(
            "PostgreSQL is required (KRAWALL_REQUIRE_POSTGRES=1) but not usable at {}: {e}",
            mask_password(&base)
        ),
        Err(e) => {
            // Written to the real stderr, not through `eprintln!`, so `cargo test` shows it even
            // for passing tests (libtest captures only the print macros).
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: PostgreSQL not reachable at {} ({e}); set KRAWALL_TEST_DATABASE_URL",
                mask_password(&base)
            );
            None
        }
    }
}

/// Drops a database created by [`fresh_postgres_url`] (forcibly closing its connections).
/// Refuses any database whose name does not start with `krawall_test_`.
pub async fn drop_test_database(url: &str) -> Result<(), BoxError> {
    let path = url.split('?').next().unwrap_or(url);
    let name = path.rsplit('/').next().unwrap_or_default();
    let generated = name.starts_with("krawall_test_")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !generated {
        return Err(format!("refusing to drop {name:?}: not a test database").into());
    }
    let mut conn = tokio::time::timeout(
        CONNECT_TIMEOUT,
        PgConnection::connect(&with_database(url, "postgres")),
    )
    .await
    .map_err(|_| format!("no answer within {CONNECT_TIMEOUT:?}"))??;
    // `name` was checked above to be a generated identifier.
    conn.execute(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .await?;
    conn.close().await?;
    Ok(())
}

/// A SQLite URL for a new database file inside `dir` (created on connect).
pub fn fresh_sqlite_url(dir: &Path) -> String {
    let name = format!("krawall_test_{}.db", uuid::Uuid::new_v4().simple());
    format!("sqlite://{}?mode=rwc", dir.join(name).display())
}

async fn create_database(base: &str) -> Result<String, BoxError> {
    let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect(base))
        .await
        .map_err(|_| format!("no answer within {CONNECT_TIMEOUT:?}"))??;
    let name = format!("krawall_test_{}", uuid::Uuid::new_v4().simple());
    // `name` is generated here (letters, digits, underscore), never user input.
    conn.execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await?;
    conn.close().await?;
    Ok(with_database(base, &name))
}

/// Replaces the database path of a `postgres://` URL, keeping credentials and parameters.
fn with_database(base: &str, name: &str) -> String {
    let (main, query) = match base.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (base, None),
    };
    let authority_start = main.find("://").map_or(0, |i| i + 3);
    let root = match main[authority_start..].find('/') {
        Some(i) => &main[..authority_start + i],
        None => main,
    };
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages.
fn mask_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end], &rest[at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{mask_password, with_database};

    #[test]
    fn replaces_the_database_path() {
        let cases = [
            ("postgres://u@h:5432/postgres", "postgres://u@h:5432/x"),
            ("postgres://u@h:5432", "postgres://u@h:5432/x"),
            (
                "postgres://u@h/db?sslmode=disable",
                "postgres://u@h/x?sslmode=disable",
            ),
        ];
        for (base, want) in cases {
            assert_eq!(with_database(base, "x"), want);
        }
    }

    #[test]
    fn masks_the_password() {
        assert_eq!(
            mask_password("postgres://u:pw@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(mask_password("postgres://u@h/db"), "postgres://u@h/db");
    }
}
