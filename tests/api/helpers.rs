//! `spawn_app()`: a node on 127.0.0.1:0 with a fresh SQLite or PostgreSQL database and the mock.

use std::time::Duration;

use actors::domain::account::Role;
use krawall::config::Settings;
use krawall::mock::{MockServer, MockSettings, start_mock};
use krawall::startup::{Application, Core};
use serde_json::{Value, json};

/// Which event-store backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    /// Authenticated as an admin (`Authorization: Bearer` of `admin_token` on every request).
    pub client: reqwest::Client,
    pub admin_token: String,
    pub mock: MockServer,
    pub core: Core,
    pub _dir: tempfile::TempDir,
}

/// Settings for a fresh database of the given backend; `None` when Postgres is skipped.
pub async fn fresh_settings(backend: Backend) -> Option<(Settings, tempfile::TempDir)> {
    krawall::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::new(dir.path().to_path_buf());
    settings.bind = "127.0.0.1:0".into();
    settings.http_workers = 1;
    settings.session_arbiters = 1;
    if backend == Backend::Postgres {
        settings.database_url = Some(actors::store::testing::fresh_postgres_url().await?);
    }
    Some((settings, dir))
}

/// Starts a node; `None` when the backend is unavailable and the test should skip.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let (settings, dir) = fresh_settings(backend).await?;
    Some(spawn_with(settings, dir, MockSettings::default()).await)
}

pub async fn spawn_with(settings: Settings, dir: tempfile::TempDir, mock: MockSettings) -> TestApp {
    let mock = start_mock(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), mock)
        .await
        .unwrap();
    let app = Application::build(&settings).await.expect("node starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let core = app.core.clone();
    actix_web::rt::spawn(app.run_until_stopped());
    let admin_token = issue_token(&core, "test-admin", Role::Admin).await;
    TestApp {
        address,
        client: bearer_client(&admin_token),
        admin_token,
        mock,
        core,
        _dir: dir,
    }
}

/// Issues an API token straight through the write side.
pub async fn issue_token(core: &Core, name: &str, role: Role) -> String {
    let (token, _) = core
        .accounts
        .create_token(name, role, "test")
        .await
        .unwrap();
    token.plaintext
}

/// A client sending `Authorization: Bearer <token>` on every request.
pub fn bearer_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// A client without credentials that does not follow redirects.
pub fn anonymous_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    /// A client authenticated with a fresh token of `role`.
    pub async fn client_with_role(&self, role: Role) -> reqwest::Client {
        bearer_client(&issue_token(&self.core, &format!("test-{}", role.as_str()), role).await)
    }

    /// The URL of `path` on this node.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.address))
            .json(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .put(format!("{}{path}", self.address))
            .json(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn patch(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .patch(format!("{}{path}", self.address))
            .json(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .delete(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// A target body pointing at the mock's OpenAI-compatible endpoint.
    pub fn mock_target(&self, path: &str) -> Value {
        json!({
            "name": "mock", "connectorType": "HTTP_REST", "endpoint": format!("{}{path}", self.mock.url()),
            "authType": "BEARER_TOKEN", "authConfig": {"token": "sk-test-secret-123"},
            "requestTemplate": {"messagePath": "messages.0.content", "structure": {"model": "mock-gpt-4", "messages": [{"role": "user", "content": "{{message}}"}]}},
            "responseTemplate": {"responsePath": "choices.0.message.content", "tokenUsagePath": "usage", "errorPath": "error.message"}
        })
    }

    pub async fn create(&self, path: &str, body: &Value) -> String {
        let (status, resp) = self.post(path, body).await;
        assert_eq!(status, 201, "{resp}");
        resp["data"]["id"].as_str().unwrap().to_string()
    }

    /// Queues a session and returns its id.
    pub async fn execute(&self, body: &Value) -> String {
        let (status, resp) = self.post("/api/execute", body).await;
        assert_eq!(status, 202, "{resp}");
        assert_eq!(resp["data"]["status"], "QUEUED");
        resp["data"]["sessionId"].as_str().unwrap().to_string()
    }

    /// Polls the session until its status is one of `statuses` (30 s at most).
    pub async fn wait_for_status(&self, id: &str, statuses: &[&str]) -> Value {
        for _ in 0..600 {
            let (_, resp) = self.get(&format!("/api/sessions/{id}")).await;
            if statuses.iter().any(|s| resp["data"]["status"] == *s) {
                return resp["data"].clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("session {id} never reached {statuses:?}");
    }

    pub async fn event_types(&self, id: &str) -> Vec<String> {
        let (status, resp) = self.get(&format!("/api/sessions/{id}/events")).await;
        assert_eq!(status, 200, "{resp}");
        resp["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect()
    }
}

/// A scenario with three message steps, a loop and a conditional.
pub fn branching_scenario() -> Value {
    json!({
        "name": "branching", "repetitions": 2, "concurrency": 1,
        "messageTemplates": {"greeting": "Hello from rep {{repetitionIndex}}"},
        "flowConfig": [
            {"type": "message", "config": {"content": "{{greeting}}"}},
            {"type": "loop", "config": {"iterations": 2, "steps": [
                {"type": "message", "config": {"content": "Please elaborate on point {{index}}"}}
            ]}},
            {"type": "conditional", "config": {"condition": "length>5",
                "thenSteps": [{"type": "message", "config": {"content": "Summarize: {{lastResponse}}"}}],
                "elseSteps": [{"type": "message", "config": {"content": "never"}}]}}
        ]
    })
}

/// One outbound message of a connector test (first message of the session).
pub fn outbound(session_id: uuid::Uuid, text: &str) -> actors::connectors::OutboundMessage {
    actors::connectors::OutboundMessage {
        text: text.into(),
        session_id,
        message_index: 0,
        inject: None,
        context: None,
    }
}

/// The mock's `rate-limited` persona answered 429 with a Retry-After of 2–4 s.
pub fn assert_rate_limited(err: &actors::connectors::ConnectorError) {
    assert_eq!(err.kind, actors::domain::events::ErrorKind::RateLimited);
    assert_eq!(err.status, Some(429));
    let retry = err.retry_after_ms.unwrap();
    assert!((2000..=4000).contains(&retry), "{retry}");
    assert!(
        err.message.contains("Rate limit exceeded"),
        "{}",
        err.message
    );
}
