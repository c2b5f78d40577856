//! `Ui`: a node (fresh SQLite, in-process mock with latency) plus a Chromium session, with small
//! helpers that find elements by `data-testid`, wait for conditions and save screenshots.

use std::path::PathBuf;
use std::time::Duration;

use actors::domain::account::Role;
use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use krawall::config::Settings;
use krawall::mock::{MockServer, MockSettings, start_mock};
use krawall::startup::Application;
use serde_json::{Value, json};

use crate::driver::{Driver, browser_available};

/// The browser tests' admin password.
const PASSWORD: &str = "browser test password";

/// How long any single wait lasts before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

pub struct Ui {
    pub client: Client,
    pub base: String,
    pub mock: MockServer,
    pub http: reqwest::Client,
    _driver: Driver,
    _dir: tempfile::TempDir,
}

/// `[data-testid="…"]`
pub fn tid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

impl Ui {
    /// Starts a node, the mock (150 ms per reply) and a browser; `None` when the browser is missing.
    pub async fn start() -> Option<Ui> {
        if !browser_available() {
            return None;
        }
        krawall::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::new(dir.path().to_path_buf());
        settings.bind = "127.0.0.1:0".into();
        settings.http_workers = 2;
        settings.session_arbiters = 1;
        let mock_settings = MockSettings {
            latency_ms: 150,
            ..MockSettings::default()
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mock = start_mock(listener, mock_settings).await.unwrap();
        let app = Application::build(&settings).await.expect("node starts");
        let base = format!("http://127.0.0.1:{}", app.port());
        let accounts = app.core.accounts.clone();
        accounts
            .create_user("admin", PASSWORD, Role::Admin, "test")
            .await
            .unwrap();
        let (token, _) = accounts
            .create_token("browser-test", Role::Admin, "test")
            .await
            .unwrap();
        actix_web::rt::spawn(app.run_until_stopped());
        let driver = Driver::start();
        let client = driver.session().await;
        let mut headers = reqwest::header::HeaderMap::new();
        let bearer = format!("Bearer {}", token.plaintext);
        headers.insert("authorization", bearer.parse().unwrap());
        let ui = Ui {
            client,
            base,
            mock,
            http: reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .unwrap(),
            _driver: driver,
            _dir: dir,
        };
        ui.log_in().await;
        Some(ui)
    }

    /// Logs the browser in through the login page (every page needs a session).
    pub async fn log_in(&self) {
        self.goto("/login").await;
        self.fill(&tid("login-username"), "admin").await;
        self.fill(&tid("login-password"), PASSWORD).await;
        self.click("login-submit").await;
        self.wait_js(
            "return !location.pathname.startsWith('/login') && document.cookie.includes('krawall_csrf=');",
            "the login to finish",
        )
        .await;
    }

    /// Ends the WebDriver session (Chromium quits), then ChromeDriver is killed on drop.
    pub async fn finish(self) {
        let _ = self.client.clone().close().await;
        self.mock.stop().await;
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    }

    pub fn mock_endpoint(&self) -> String {
        format!("{}/v1/chat/completions", self.mock.url())
    }

    /// Waits for a CSS selector to match.
    pub async fn css(&self, selector: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(selector))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!("no element {selector} on {}: {e}", self.url().await),
        }
    }

    /// Waits for `[data-testid=id]`.
    pub async fn id(&self, id: &str) -> Element {
        self.css(&tid(id)).await
    }

    pub async fn click(&self, id: &str) {
        self.id(id)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {id}: {e}"));
    }

    /// Clears an input and types `text` into it.
    pub async fn fill(&self, selector: &str, text: &str) {
        let input = self.css(selector).await;
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    /// Whether `[data-testid=id]` is rendered (not `hidden`, not `display: none`).
    pub async fn displayed(&self, id: &str) -> bool {
        self.id(id).await.is_displayed().await.unwrap()
    }

    pub async fn text(&self, id: &str) -> String {
        self.id(id).await.text().await.unwrap()
    }

    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// Runs `script` (a JS expression body returning a value) in the page.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Polls the JS predicate `script` (must `return` a boolean) until true, up to `WAIT`.
    pub async fn wait_js(&self, script: &str, what: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if self.client.execute(script, vec![]).await.ok() == Some(Value::Bool(true)) {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                let body = self
                    .js("return document.body.innerText.slice(0, 2000)")
                    .await;
                panic!(
                    "timed out waiting for {what} on {}\npage text: {body}",
                    self.url().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `[data-testid=id]`'s text contains `needle`.
    pub async fn wait_text(&self, id: &str, needle: &str) {
        let script = format!(
            "const e = document.querySelector({}); return !!e && e.textContent.includes({});",
            json!(tid(id)),
            json!(needle)
        );
        self.wait_js(&script, &format!("{id} to contain {needle:?}"))
            .await;
    }

    /// Number of elements matching a selector, now.
    pub async fn count(&self, selector: &str) -> usize {
        self.client
            .find_all(Locator::Css(selector))
            .await
            .map_or(0, |v| v.len())
    }

    /// Saves a PNG of the viewport: to `docs/screenshots/{name}.png` when `KRAWALL_SCREENSHOTS=1`
    /// (to refresh the README's pictures), else under the target directory's temp folder.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
        let dir = if std::env::var("KRAWALL_SCREENSHOTS").is_ok_and(|v| v == "1") {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots")
        } else {
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
        };
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Fails when a script, stylesheet or other resource of the page failed to load.
    pub async fn assert_resources_ok(&self, path: &str) {
        let failed = self
            .js("return performance.getEntriesByType('resource')
                   .filter(e => e.responseStatus >= 400 && !e.name.endsWith('/favicon.ico'))
                   .map(e => `${e.name} ${e.responseStatus}`);")
            .await;
        assert_eq!(failed, json!([]), "GET {path}: resources failed to load");
    }

    /// Fails on a page that answered with an error or shows the error page.
    pub async fn assert_page_ok(&self, path: &str) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "GET {path}");
        let title = self.client.title().await.unwrap();
        assert!(title.contains("Krawall"), "GET {path}: title {title:?}");
        assert!(
            self.count("main.error-page").await == 0,
            "GET {path} shows the error page"
        );
        assert!(
            self.count("nav[aria-label=Main]").await == 1,
            "GET {path} has no main nav"
        );
    }
}
