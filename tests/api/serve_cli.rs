//! `krawall serve` as a real process: `--demo` prints a login that works, a non-loopback bind
//! with `--no-auth` refuses to start, and `--insecure-no-auth` starts but logs at error level.
//! The data dir it creates is 0700, the database, its WAL and the key file 0600.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::helpers::anonymous_client;

/// A `krawall serve` process with its stderr lines on a channel.
struct Serve {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    _dir: tempfile::TempDir,
}

fn serve(args: &[&str]) -> Serve {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_krawall"))
        .arg("serve")
        .args(args)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let (tx, lines) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            let _ = tx.send(line);
        }
    });
    Serve {
        child,
        lines,
        _dir: dir,
    }
}

impl Serve {
    /// The first stderr line containing `needle` (within 30 s).
    async fn line_with(&mut self, needle: &str) -> String {
        let found = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = self.lines.recv().await {
                if line.contains(needle) {
                    return Some(line);
                }
            }
            None
        })
        .await;
        found
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("serve never printed {needle:?}"))
    }

    /// The node's base URL, from its "listening" line.
    async fn base_url(&mut self) -> String {
        let line = self.line_with("Krawall listening on http://").await;
        let port: String = line
            .rsplit(':')
            .next()
            .unwrap()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        format!("http://127.0.0.1:{port}")
    }
}

#[actix_web::test]
async fn serve_demo_prints_a_login_that_works() {
    let mut node = serve(&[
        "--demo",
        "--bind",
        "127.0.0.1:0",
        "--mock-bind",
        "127.0.0.1:0",
        "--grpc-mock-bind",
        "127.0.0.1:0",
    ]);
    let login = node.line_with("Demo login").await;
    let password = login
        .split("password:")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert!(login.contains("username: demo"), "{login}");
    let base = node.base_url().await;
    let client = anonymous_client();
    let r = client
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=demo&password={password}&next=%2F"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("krawall_session="))
        .expect("a session cookie");
    let targets: serde_json::Value = client
        .get(format!("{base}/api/targets"))
        .header("cookie", session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        targets["data"].as_array().unwrap().len() >= 4,
        "the demo targets: {targets}"
    );
    assert_private_files(&node._dir.path().join("data"));
    node.child.kill().await.unwrap();
}

fn assert_private_files(data: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |name: &str| {
        let path = data.join(name);
        let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        meta.permissions().mode() & 0o777
    };
    assert_eq!(mode(""), 0o700, "data dir");
    for file in ["krawall.db", "krawall.db-wal", "secret.key"] {
        assert_eq!(mode(file), 0o600, "{file}");
    }
}

#[actix_web::test]
async fn a_public_bind_needs_authentication_or_a_loud_insecure_flag() {
    let mut refused = serve(&["--bind", "0.0.0.0:0", "--no-auth"]);
    let why = refused.line_with("refusing to serve").await;
    assert!(why.contains("--insecure-no-auth"), "{why}");
    let status = tokio::time::timeout(Duration::from_secs(30), refused.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success());

    let mut insecure = serve(&["--bind", "0.0.0.0:0", "--insecure-no-auth"]);
    let warning = insecure.line_with("INSECURE").await;
    assert!(warning.contains("ERROR"), "{warning}");
    let base = insecure.base_url().await;
    let open = anonymous_client()
        .get(format!("{base}/api/targets"))
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), 200);
    insecure.child.kill().await.unwrap();
}
