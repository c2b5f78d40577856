//! The mock chatbot server: settings, shared state, and starting/stopping it on a listener.
//!
//! Runs in process on any runtime (`#[actix_web::main]`, `#[actix_web::test]`, `#[tokio::main]`)
//! with at most two workers and without installing signal handlers.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpServer, web};
use serde_json::{Map, Value, json};

use super::cpu::CpuBurn;
use super::personas::{Outcome, Persona};
use super::routes;
use super::sessions::{SessionStore, SessionView};

/// Knobs of the mock chatbot.
#[derive(Debug, Clone, PartialEq)]
pub struct MockSettings {
    /// Fixed delay before every chat answer.
    pub latency_ms: u64,
    /// Extra uniform random delay in `0..=jitter_ms`.
    pub jitter_ms: u64,
    /// Fraction (0..1) of chat requests answered with a simulated 500.
    pub error_rate: f64,
    /// Persona used when a request names none (or an unknown one).
    pub default_persona: String,
    /// Answer every Nth request of a session with a 429 (`Retry-After: 2`), whatever the persona.
    pub rate_limit_every: Option<u64>,
    /// CPU work before every chat reply, in µs of this machine's CPU (`cpu.rs`).
    pub cpu_us_per_reply: u64,
}

impl Default for MockSettings {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            jitter_ms: 0,
            error_rate: 0.0,
            default_persona: "default".to_string(),
            rate_limit_every: None,
            cpu_us_per_reply: 0,
        }
    }
}

/// A running mock chatbot; stop it with [`MockServer::stop`].
#[derive(Debug)]
pub struct MockServer {
    pub addr: SocketAddr,
    handle: ServerHandle,
}

impl MockServer {
    /// Base URL, e.g. `http://127.0.0.1:43123`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// Stops the server without waiting for in-flight requests (`/timeout` never finishes).
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// Starts the mock on `listener` (bind `127.0.0.1:0` in tests) and returns once it accepts.
pub async fn start_mock(listener: TcpListener, settings: MockSettings) -> io::Result<MockServer> {
    let addr = listener.local_addr()?;
    let state = web::Data::new(MockState::new(settings));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(routes::configure)
    })
    .workers(2)
    .shutdown_timeout(1)
    .disable_signals()
    .listen(listener)?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok(MockServer { addr, handle })
}

/// State shared by all workers of one mock server.
pub(super) struct MockState {
    settings: MockSettings,
    cpu: CpuBurn,
    default_persona: Persona,
    sessions: Mutex<SessionStore>,
    requests_served: AtomicU64,
    last_request: Mutex<Value>,
}

impl MockState {
    pub(super) fn new(settings: MockSettings) -> Self {
        Self {
            default_persona: Persona::parse(&settings.default_persona).unwrap_or_default(),
            cpu: CpuBurn::calibrated(settings.cpu_us_per_reply),
            settings,
            sessions: Mutex::new(SessionStore::default()),
            requests_served: AtomicU64::new(0),
            last_request: Mutex::new(Value::Null),
        }
    }

    pub(super) fn requests_served(&self) -> u64 {
        self.requests_served.load(Ordering::Relaxed)
    }

    pub(super) fn session_count(&self) -> usize {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .session_count()
    }

    /// Counts the request and remembers its method, path, query and headers for
    /// `GET /__last_request` (raw values: this is a test double).
    pub(super) fn record_request(&self, req: &HttpRequest) {
        self.requests_served.fetch_add(1, Ordering::Relaxed);
        let mut headers = Map::new();
        for (name, value) in req.headers() {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            match headers.get_mut(name.as_str()) {
                Some(Value::String(existing)) => {
                    existing.push_str(", ");
                    existing.push_str(&value);
                }
                _ => {
                    headers.insert(name.as_str().to_string(), Value::String(value));
                }
            }
        }
        let snapshot = json!({
            "method": req.method().as_str(),
            "path": req.path(),
            "query": req.query_string(),
            "authorization_present": req.headers().contains_key("authorization"),
            "headers": headers,
        });
        *self
            .last_request
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = snapshot;
    }

    pub(super) fn last_request(&self) -> Value {
        self.last_request
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The persona named by the `X-Persona` header, else by the body, else the default.
    pub(super) fn persona(&self, req: &HttpRequest, body_persona: Option<&str>) -> Persona {
        let header = req.headers().get("x-persona").and_then(|v| v.to_str().ok());
        header
            .and_then(Persona::parse)
            .or_else(|| body_persona.and_then(Persona::parse))
            .unwrap_or(self.default_persona)
    }

    /// Records `message` in the request's `X-Session-Id` session.
    pub(super) fn session(&self, req: &HttpRequest, message: &str) -> SessionView {
        let key = req
            .headers()
            .get("x-session-id")
            .and_then(|v| v.to_str().ok());
        self.session_for(key, message)
    }

    /// Records `message` in the session named `key` (a new session when `None`), for transports
    /// without HTTP headers per message (WebSocket connections, gRPC metadata).
    pub(super) fn session_for(&self, key: Option<&str>, message: &str) -> SessionView {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(key, message)
    }

    /// The persona with this name, else the default.
    pub(super) fn persona_named(&self, name: Option<&str>) -> Persona {
        name.and_then(Persona::parse)
            .unwrap_or(self.default_persona)
    }

    /// Sleeps for the configured latency plus jitter, then does the reply's CPU work.
    pub(super) async fn delay(&self) {
        let jitter = match self.settings.jitter_ms {
            0 => 0,
            max => fastrand::u64(0..=max),
        };
        let total = self.settings.latency_ms.saturating_add(jitter);
        if total > 0 {
            tokio::time::sleep(Duration::from_millis(total)).await;
        }
        self.cpu.burn();
    }

    /// The persona's answer, unless the `rate_limit_every` knob turns this request into a 429.
    pub(super) fn respond(
        &self,
        persona: Persona,
        message: &str,
        session: &SessionView,
    ) -> Outcome {
        match self.settings.rate_limit_every {
            Some(n) if n > 0 && session.count.is_multiple_of(n) => Outcome::RateLimited {
                retry_after_secs: 2,
            },
            _ => persona.respond(message, session),
        }
    }

    /// Whether this request should fail with a simulated 500 (per `error_rate`).
    pub(super) fn roll_error(&self) -> bool {
        self.settings.error_rate > 0.0 && fastrand::f64() < self.settings.error_rate
    }
}
