//! Per-session state of the mock chatbot, keyed by `X-Session-Id`, in a bounded map.
//!
//! Upstream kept sessions and histories in unbounded maps; here the oldest session is evicted
//! once the cap is reached and each history keeps only its latest messages.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

/// Most sessions kept at once; the oldest is evicted beyond this.
pub const MAX_SESSIONS: usize = 10_000;
/// Most messages remembered per session.
const MAX_HISTORY: usize = 20;
/// Longest remembered message, in characters.
const MAX_REMEMBERED_CHARS: usize = 500;

/// What a persona may know about the session of the current request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionView {
    /// 1-based number of this request within its session.
    pub count: u64,
    /// Stable per-session number (ticket ids and the like); random for anonymous requests.
    pub seed: u64,
    /// Earlier messages of the session, oldest first, without the current one.
    pub history: Vec<String>,
}

#[derive(Debug, Default)]
struct SessionState {
    count: u64,
    history: VecDeque<String>,
}

/// Bounded map of sessions; evicts the oldest-created session when full.
#[derive(Debug)]
pub struct SessionStore {
    sessions: HashMap<String, SessionState>,
    order: VecDeque<String>,
    cap: usize,
}

impl Default for SessionStore {
    fn default() -> Self {
        Self::with_capacity(MAX_SESSIONS)
    }
}

impl SessionStore {
    pub fn with_capacity(cap: usize) -> Self {
        Self {
            sessions: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Records `message` in session `key` and returns the view for this request. Without a key
    /// every request is a fresh session (as upstream).
    pub fn record(&mut self, key: Option<&str>, message: &str) -> SessionView {
        let Some(key) = key.filter(|k| !k.is_empty()) else {
            return SessionView {
                count: 1,
                seed: fastrand::u64(..),
                history: Vec::new(),
            };
        };
        if !self.sessions.contains_key(key) {
            while self.sessions.len() >= self.cap {
                let Some(oldest) = self.order.pop_front() else {
                    break;
                };
                self.sessions.remove(&oldest);
            }
            self.order.push_back(key.to_string());
        }
        let state = self.sessions.entry(key.to_string()).or_default();
        state.count += 1;
        let view = SessionView {
            count: state.count,
            seed: seed_of(key),
            history: state.history.iter().cloned().collect(),
        };
        if state.history.len() >= MAX_HISTORY {
            state.history.pop_front();
        }
        state
            .history
            .push_back(message.chars().take(MAX_REMEMBERED_CHARS).collect());
        view
    }

    /// Number of sessions currently remembered.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }
}

fn seed_of(key: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_session_and_remembers_history() {
        let mut store = SessionStore::default();
        assert_eq!(store.record(Some("a"), "one").count, 1);
        let view = store.record(Some("a"), "two");
        assert_eq!(view.count, 2);
        assert_eq!(view.history, vec!["one".to_string()]);
        assert_eq!(store.record(Some("b"), "x").count, 1);
        assert_eq!(store.record(None, "x").count, 1);
        assert_eq!(store.record(None, "x").count, 1);
        assert_eq!(store.session_count(), 2);
        assert_eq!(
            store.record(Some("a"), "3").seed,
            store.record(Some("a"), "4").seed
        );
    }

    #[test]
    fn evicts_oldest_session_and_bounds_history() {
        let mut store = SessionStore::with_capacity(2);
        store.record(Some("a"), "m");
        store.record(Some("b"), "m");
        store.record(Some("c"), "m");
        assert_eq!(store.session_count(), 2);
        assert_eq!(store.record(Some("a"), "m").count, 1, "a was evicted");
        for i in 0..50 {
            store.record(Some("d"), &"x".repeat(i * 100));
        }
        let view = store.record(Some("d"), "last");
        assert_eq!(view.history.len(), MAX_HISTORY);
        assert!(
            view.history
                .iter()
                .all(|m| m.chars().count() <= MAX_REMEMBERED_CHARS)
        );
    }
}
