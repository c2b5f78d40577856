//! `--event-store kurrentdb://…` on a build without the `kurrentdb` feature: the command refuses
//! to start and says how to get KurrentDB support, instead of silently using SQL.

#[cfg(not(feature = "kurrentdb"))]
#[tokio::test]
async fn event_store_without_the_feature_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_krawall"))
        .args(["tokens", "list", "--data-dir"])
        .arg(dir.path())
        .args(["--event-store", "kurrentdb://127.0.0.1:2113?tls=false"])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("--features kurrentdb"), "{stderr}");
}
