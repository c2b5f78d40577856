//! Node-wide resources shared by every session on this node: the conversation budget (so a node
//! cannot exhaust its file descriptors) and the per-target rate limiters (token buckets).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::domain::target::RateLimit;

/// Default number of conversations one node runs at once, over all its sessions.
pub const DEFAULT_NODE_CONVERSATIONS: usize = 10_000;

/// Shared by the dispatcher and every session it starts; cheap to clone.
#[derive(Clone)]
pub struct NodeResources {
    /// One permit per running conversation.
    pub conversations: Arc<Semaphore>,
    pub capacity: usize,
    limiters: Arc<Mutex<HashMap<LimiterKey, Arc<TargetLimiter>>>>,
    /// Dispatching nodes alive on the shared database (this one included): each node's bucket
    /// for a target gets 1/peers of the target's limit.
    peers: Arc<AtomicUsize>,
    /// Set by a graceful shutdown: running sessions end as interrupted, nothing new starts.
    shutting_down: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for NodeResources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeResources")
            .field("capacity", &self.capacity)
            .field("available", &self.conversations.available_permits())
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct LimiterKey {
    target: Uuid,
    rps_bits: u64,
    tpm: u64,
    peers: usize,
}

impl NodeResources {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            conversations: Arc::new(Semaphore::new(capacity)),
            capacity,
            limiters: Arc::default(),
            peers: Arc::new(AtomicUsize::new(1)),
            shutting_down: Arc::default(),
        }
    }

    /// Marks the node as shutting down (see [`NodeResources::shutting_down`]).
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Whether a graceful shutdown has begun.
    pub fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// The limiter of a target (shared by all sessions of the target with the same limits).
    /// Sets how many dispatching nodes share the targets' limits (from the heartbeat's node
    /// list); sessions that start afterwards get buckets of `limit / peers`.
    pub fn set_peers(&self, peers: usize) {
        self.peers.store(peers.max(1), Ordering::Relaxed);
    }

    pub fn limiter(&self, target: Uuid, limit: &RateLimit) -> Option<Arc<TargetLimiter>> {
        let peers = self.peers.load(Ordering::Relaxed).max(1);
        let key = LimiterKey {
            target,
            rps_bits: limit.requests_per_second.unwrap_or(0.0).to_bits(),
            tpm: limit.tokens_per_minute.unwrap_or(0),
            peers,
        };
        let limiter = TargetLimiter::new(&node_share(limit, peers))?;
        let mut map = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
        Some(map.entry(key).or_insert_with(|| Arc::new(limiter)).clone())
    }
}

/// Token buckets of one target: requests per second and estimated input tokens per minute.
/// This node's share of a target's limit when `peers` nodes dispatch against it.
fn node_share(limit: &RateLimit, peers: usize) -> RateLimit {
    let n = peers.max(1);
    RateLimit {
        requests_per_second: limit.requests_per_second.map(|r| r / n as f64),
        tokens_per_minute: limit.tokens_per_minute.map(|t| t.div_ceil(n as u64).max(1)),
    }
}

pub struct TargetLimiter {
    requests: Option<DefaultDirectRateLimiter>,
    tokens: Option<(DefaultDirectRateLimiter, NonZeroU32)>,
}

impl TargetLimiter {
    fn new(limit: &RateLimit) -> Option<Self> {
        let requests = limit
            .requests_per_second
            .filter(|r| r.is_finite() && *r > 0.0)
            .and_then(|rps| Quota::with_period(Duration::from_secs_f64(1.0 / rps)))
            .map(RateLimiter::direct);
        let tokens = limit
            .tokens_per_minute
            .and_then(|t| NonZeroU32::new(u32::try_from(t).unwrap_or(u32::MAX)))
            .map(|tpm| (RateLimiter::direct(Quota::per_minute(tpm)), tpm));
        (requests.is_some() || tokens.is_some()).then_some(Self { requests, tokens })
    }

    /// Waits until one request carrying `tokens` estimated input tokens may be sent; returns
    /// the time waited.
    pub async fn acquire(&self, tokens: u64) -> Duration {
        let started = Instant::now();
        if let Some((bucket, burst)) = &self.tokens {
            let n = u32::try_from(tokens.max(1))
                .unwrap_or(u32::MAX)
                .min(burst.get());
            if let Some(n) = NonZeroU32::new(n) {
                let _ = bucket.until_n_ready(n).await;
            }
        }
        if let Some(bucket) = &self.requests {
            bucket.until_ready().await;
        }
        started.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_per_second_paces_sends() {
        let node = NodeResources::new(10);
        let limit = RateLimit {
            requests_per_second: Some(20.0),
            tokens_per_minute: None,
        };
        let limiter = node.limiter(Uuid::nil(), &limit).unwrap();
        let same = node.limiter(Uuid::nil(), &limit).unwrap();
        assert!(
            Arc::ptr_eq(&limiter, &same),
            "one bucket per target and limit"
        );
        let started = Instant::now();
        for _ in 0..11 {
            limiter.acquire(1).await;
        }
        // 11 sends at 20/s need at least 10 intervals of 50 ms.
        assert!(
            started.elapsed() >= Duration::from_millis(450),
            "{:?}",
            started.elapsed()
        );
        assert!(
            node.limiter(
                Uuid::nil(),
                &RateLimit {
                    requests_per_second: None,
                    tokens_per_minute: None
                }
            )
            .is_none()
        );
    }

    #[test]
    fn peers_split_a_targets_limit() {
        let limit = RateLimit {
            requests_per_second: Some(30.0),
            tokens_per_minute: Some(1_000),
        };
        let share = node_share(&limit, 3);
        assert_eq!(share.requests_per_second, Some(10.0));
        assert_eq!(share.tokens_per_minute, Some(334));
        assert_eq!(node_share(&limit, 0), limit);
        let node = NodeResources::new(10);
        let alone = node.limiter(Uuid::nil(), &limit).unwrap();
        node.set_peers(3);
        let shared = node.limiter(Uuid::nil(), &limit).unwrap();
        assert!(!Arc::ptr_eq(&alone, &shared), "a new share is a new bucket");
    }
}
