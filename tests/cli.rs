//! The `krawall` binary end to end: `run` against the mock (exit codes, summary) and
//! `projections rebuild` on the same data dir.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Output;

use krawall::mock::{MockSettings, start_mock};

async fn krawall(args: &[&str], data_dir: &std::path::Path) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_krawall"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("KRAWALL_DATABASE_URL")
        .output()
        .await
        .unwrap()
}

/// Exit code 2 when the error rate is over `--max-error-rate`, 1 for an invalid scenario.
async fn failures_set_the_exit_code(mock_url: &str, scenario: &Path, dir: &Path) {
    let ok_url = format!("{mock_url}/v1/chat/completions");
    let failing = format!("{mock_url}/error");
    let out = krawall(
        &[
            "run",
            scenario.to_str().unwrap(),
            "--target",
            &failing,
            "--max-error-rate",
            "10",
        ],
        dir,
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "error rate above the limit: {}",
        String::from_utf8_lossy(&out.stdout)
    );

    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "name: bad\nflowConfig:\n  - type: teleport\n").unwrap();
    let out = krawall(&["run", bad.to_str().unwrap(), "--target", &ok_url], dir).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("flowConfig[0].type"));
}

/// A failed threshold exits 3 and writes a JUnit report; a constant-users load prints its report.
async fn thresholds_gate_ci(url: &str, scenario: &Path, dir: &Path) {
    let junit = dir.join("junit.xml");
    let args = [
        "run",
        scenario.to_str().unwrap(),
        "--target",
        url,
        "--threshold",
        "error_rate=<0.01",
        "--threshold",
        "latency_p95_ms=<60000",
        "--faults",
        r#"{"serverErrorRate": 1}"#,
        "--junit",
        junit.to_str().unwrap(),
    ];
    let out = krawall(&args, dir).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("FAIL error_rate <0.01 (actual 1)"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
    let args = [
        "run",
        scenario.to_str().unwrap(),
        "--target",
        url,
        "--executor",
        "constant-users",
        "--users",
        "2",
        "--duration",
        "1s",
    ];
    let out = krawall(&args, dir).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("constant-users (duration)"), "{stdout}");
}

#[actix_web::test]
async fn run_prints_a_summary_and_sets_the_exit_code() {
    krawall::install_crypto_provider();
    let mock = start_mock(
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        MockSettings::default(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.yaml");
    std::fs::write(&scenario, "name: cli\nrepetitions: 2\nflowConfig:\n  - type: message\n    config: {content: \"Hello {{index}}\"}\n  - type: loop\n    config:\n      iterations: 2\n      steps:\n        - {type: message, config: {content: again}}\n").unwrap();
    let url = format!("{}/v1/chat/completions", mock.url());
    let out = krawall(
        &["run", scenario.to_str().unwrap(), "--target", &url],
        dir.path(),
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("COMPLETED") && stdout.contains("messages          6"),
        "{stdout}"
    );

    failures_set_the_exit_code(&mock.url(), &scenario, dir.path()).await;
    thresholds_gate_ci(&url, &scenario, dir.path()).await;
    let healthcheck = |url: String| async move {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_krawall"))
            .args(["healthcheck", "--url", &url])
            .output()
            .await
            .unwrap();
        out.status.code()
    };
    assert_eq!(healthcheck(format!("{}/health", mock.url())).await, Some(0));
    assert_eq!(
        healthcheck("http://127.0.0.1:9/api/health".into()).await,
        Some(1)
    );

    let out = krawall(&["projections", "rebuild"], dir.path()).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("rebuilt"));
}
