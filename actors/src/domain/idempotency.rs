//! `Idempotency-Key` of `POST /api/execute`: the first request with a key records which session
//! it queued (`IdempotencyKeyRecorded`, stream `idempotency-<sha256 of the key>`); a retry with
//! the same key and body within [`KEY_TTL_MS`] gets that session back instead of a second one.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::validation::FieldError;

/// How long a key is remembered (24 h); after that the same key queues a new session.
pub const KEY_TTL_MS: i64 = 24 * 60 * 60 * 1000;
/// Longest accepted key.
pub const MAX_KEY_LEN: usize = 255;

/// A key was used to queue a session (the key itself is stored only as a hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyKeyRecorded {
    /// SHA-256 of the key, hex.
    pub key_hash: String,
    /// SHA-256 of the request body, hex.
    pub body_hash: String,
    pub session_id: Uuid,
    pub recorded_at_ms: i64,
}

/// What a request with a key should do, given the key's latest record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyDecision {
    /// Unknown or expired key: queue a session and record it.
    Queue,
    /// Same key, same body: answer with the session queued the first time.
    Replay(Uuid),
    /// Same key, another body: refuse.
    Mismatch,
}

/// A checked `Idempotency-Key` header with the hash of its request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key_hash: String,
    pub body_hash: String,
}

impl IdempotencyKey {
    /// 1..=255 visible ASCII characters.
    pub fn parse(key: &str, body: &[u8]) -> Result<Self, FieldError> {
        let valid = !key.is_empty()
            && key.len() <= MAX_KEY_LEN
            && key.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
        if !valid {
            return Err(FieldError {
                field: "Idempotency-Key".into(),
                rule: format!("must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
            });
        }
        Ok(Self {
            key_hash: hex::encode(Sha256::digest(key.as_bytes())),
            body_hash: hex::encode(Sha256::digest(body)),
        })
    }

    /// The stream that records this key.
    pub fn stream(&self) -> String {
        format!("idempotency-{}", self.key_hash)
    }

    /// Decides against the key's latest record (`None`: never used).
    pub fn decide(&self, latest: Option<&IdempotencyKeyRecorded>, now_ms: i64) -> KeyDecision {
        match latest {
            Some(r) if now_ms - r.recorded_at_ms < KEY_TTL_MS => {
                if r.body_hash == self.body_hash {
                    KeyDecision::Replay(r.session_id)
                } else {
                    KeyDecision::Mismatch
                }
            }
            _ => KeyDecision::Queue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_body_replays_another_body_mismatches_and_keys_expire() {
        let key = IdempotencyKey::parse("retry-1", b"{\"a\":1}").unwrap();
        assert_eq!(key.decide(None, 0), KeyDecision::Queue);
        let id = Uuid::now_v7();
        let record = IdempotencyKeyRecorded {
            key_hash: key.key_hash.clone(),
            body_hash: key.body_hash.clone(),
            session_id: id,
            recorded_at_ms: 1_000,
        };
        assert_eq!(key.decide(Some(&record), 2_000), KeyDecision::Replay(id));
        let other = IdempotencyKey::parse("retry-1", b"{\"a\":2}").unwrap();
        assert_eq!(other.decide(Some(&record), 2_000), KeyDecision::Mismatch);
        assert_eq!(
            key.decide(Some(&record), 1_000 + KEY_TTL_MS),
            KeyDecision::Queue
        );
        assert_eq!(key.stream(), other.stream());
    }

    #[test]
    fn keys_are_checked() {
        assert!(IdempotencyKey::parse("", b"").is_err());
        assert!(IdempotencyKey::parse("é", b"").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256), b"").is_err());
        assert!(IdempotencyKey::parse("2f1c-ok key", b"").is_ok());
    }
}
