//! Smoke test of `krawall bench --workers` at tiny sizes (debug build): the real binary runs the
//! scaling benchmark with 1 and 2 worker processes on PostgreSQL; every session completes, each
//! figure counts exactly sessions × messages exchanges, and the ratio is printed against the
//! first count. Speed is not asserted.

use actors::store::testing::{drop_test_database, fresh_postgres_url};

const SESSIONS: u32 = 2;
const MESSAGES: u32 = 3;

/// The figure line of `n` workers.
fn figure(stdout: &str, n: usize) -> &str {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("workers {n}: ")))
        .unwrap_or_else(|| panic!("no figure for {n} workers in:\n{stdout}"))
}

#[tokio::test]
async fn bench_workers_runs_every_session_with_one_and_two_workers() {
    let Some(url) = fresh_postgres_url().await else {
        return;
    };
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_krawall"))
        .args(["bench", "--workers", "1,2", "--mock-cpu-us", "50"])
        .args(["--worker-sessions", &SESSIONS.to_string()])
        .args(["--worker-messages", &MESSAGES.to_string()])
        // The bench creates (and drops) its scratch databases on this server.
        .env("KRAWALL_BENCH_DATABASE_URL", &url)
        .env("RUST_LOG", "error")
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    drop_test_database(&url).await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let exchanges = SESSIONS * MESSAGES;
    for n in [1, 2] {
        let line = figure(&stdout, n);
        let want = format!("{SESSIONS}/{SESSIONS} sessions completed, {exchanges} exchanges in ");
        assert!(line.contains(&want), "{line}");
        assert!(line.contains("CPU per exchange: workers "), "{line}");
    }
    assert!(
        figure(&stdout, 1).contains("×1.00 vs 1 worker(s)"),
        "{stdout}"
    );
}
