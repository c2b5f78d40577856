//! ChromeDriver as a child process (own process group, killed with its Chromium on drop) and a
//! fantoccini session on headless Chromium with the flags this machine needs.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "chromedriver";
/// Window size of every session (and so of every screenshot).
pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 900;

/// A running `chromedriver --port=N`; dropping it kills its whole process group (Chromium too).
pub struct Driver {
    child: Child,
    pub url: String,
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the browser tests can run here; prints `SKIPPED` (or panics when
/// `KRAWALL_REQUIRE_BROWSER=1`) when Chromium or ChromeDriver is missing.
pub fn browser_available() -> bool {
    let driver = Command::new(CHROMEDRIVER)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if driver && Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var("KRAWALL_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!(
            "KRAWALL_REQUIRE_BROWSER=1 but chromium/chromedriver are not installed \
             (apt-get install -y chromium chromium-driver)"
        );
    }
    // Written to the real stderr: cargo test captures eprintln!.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: chromium/chromedriver not installed"
    );
    false
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Driver {
    /// Starts ChromeDriver on a free port and waits until it accepts connections (10 s at most).
    pub fn start() -> Driver {
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profile: tempfile::tempdir().unwrap(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    /// Opens a headless Chromium session with a fresh profile, 1280×900.
    pub async fn session(&self) -> Client {
        krawall::install_crypto_provider();
        let profile_arg = format!("--user-data-dir={}", self.profile.path().display());
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            &format!("--window-size={WIDTH},{HEIGHT}"),
            &profile_arg,
        ];
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        });
        let caps: Capabilities = serde_json::from_value(caps).unwrap();
        let client = ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("chromedriver opens a Chromium session");
        fit_viewport(&client).await;
        client
    }
}

/// Resizes the window so that the viewport (what screenshots show) is WIDTH×HEIGHT.
async fn fit_viewport(client: &Client) {
    client.set_window_size(WIDTH, HEIGHT).await.unwrap();
    let inner = client
        .execute("return [window.innerWidth, window.innerHeight];", vec![])
        .await
        .unwrap();
    let dim = |i: usize| inner[i].as_u64().unwrap_or(0) as u32;
    let (w, h) = (
        WIDTH + WIDTH.saturating_sub(dim(0)),
        HEIGHT + HEIGHT.saturating_sub(dim(1)),
    );
    if (w, h) != (WIDTH, HEIGHT) {
        client.set_window_size(w, h).await.unwrap();
    }
}
