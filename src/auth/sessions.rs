//! Dashboard sessions (in memory: a restart logs everyone out) and the login rate limits.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actors::credentials::{secrets_equal, token_hash};
use actors::secrets::random_token;
use governor::{DefaultKeyedRateLimiter, Quota};

/// The HttpOnly session cookie.
pub const SESSION_COOKIE: &str = "krawall_session";
/// The CSRF cookie the dashboard's scripts read and echo in `X-CSRF-Token`.
pub const CSRF_COOKIE: &str = "krawall_csrf";
/// How long a session lasts after login.
pub const SESSION_TTL_SECS: i64 = 12 * 3600;
const SESSION_TTL: Duration = Duration::from_secs(SESSION_TTL_SECS as u64);

/// One logged-in dashboard user (its role is read from the user's stream on every request).
#[derive(Debug, Clone)]
pub struct Session {
    pub username: String,
    pub csrf: String,
    expires: Instant,
}

impl Session {
    /// Whether `presented` is this session's CSRF token (constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        secrets_equal(&self.csrf, presented)
    }
}

/// Sessions by the SHA-256 of their id; shared by every HTTP worker.
#[derive(Clone, Default)]
pub struct SessionStore {
    inner: Arc<Mutex<HashMap<String, Session>>>,
}

impl SessionStore {
    /// Starts a session; returns its id (the cookie value) and CSRF token.
    pub fn create(&self, username: &str) -> (String, String) {
        let id = random_token("ks_");
        let csrf = random_token("");
        let session = Session {
            username: username.to_string(),
            csrf: csrf.clone(),
            expires: Instant::now() + SESSION_TTL,
        };
        if let Ok(mut map) = self.inner.lock() {
            let now = Instant::now();
            map.retain(|_, s| s.expires > now);
            map.insert(token_hash(&id), session);
        }
        (id, csrf)
    }

    /// The live session with this id.
    pub fn get(&self, id: &str) -> Option<Session> {
        let map = self.inner.lock().ok()?;
        map.get(&token_hash(id))
            .filter(|s| s.expires > Instant::now())
            .cloned()
    }

    /// Ends a session (logout).
    pub fn remove(&self, id: &str) {
        if let Ok(mut map) = self.inner.lock() {
            map.remove(&token_hash(id));
        }
    }
}

/// Login attempts allowed per minute from one address and for one username.
pub const LOGINS_PER_MINUTE_PER_IP: u32 = 20;
pub const LOGINS_PER_MINUTE_PER_USER: u32 = 5;

/// Rate limits of `POST /login` (every attempt counts, successful or not).
#[derive(Clone)]
pub struct LoginLimiter {
    per_ip: Arc<DefaultKeyedRateLimiter<String>>,
    per_user: Arc<DefaultKeyedRateLimiter<String>>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self {
            per_ip: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(
                LOGINS_PER_MINUTE_PER_IP,
            ))),
            per_user: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(
                LOGINS_PER_MINUTE_PER_USER,
            ))),
        }
    }
}

impl LoginLimiter {
    /// Whether one more attempt from `ip` for `username` is allowed (and counts it).
    pub fn allow(&self, ip: &str, username: &str) -> bool {
        let ip_ok = self.per_ip.check_key(&ip.to_string()).is_ok();
        let user_ok = self.per_user.check_key(&username.to_lowercase()).is_ok();
        ip_ok && user_ok
    }
}
