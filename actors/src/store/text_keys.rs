//! Per-session data keys for message texts (crypto-shredding). A session's key is a random
//! AES-256-GCM key created when the session is queued, stored sealed with the node key in
//! `session_keys` (never in an event) and cached in memory. The texts of the session's
//! `MessageSent`, `ResponseReceived` and `MessageFailed` are stored sealed with it; destroying the
//! key (retention) leaves them unreadable in the event log for good.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{EventStore, RecordedEvent, StoreError};
use crate::domain::events::DomainEvent;
use crate::secrets::{SecretBox, SecretError, random_token};

/// A session's data key (`None`: the session has none, or it was destroyed).
pub type TextKey = Option<Arc<SecretBox>>;

/// Beyond this many cached keys the cache starts over (each entry is a few hundred bytes).
const CACHE_LIMIT: usize = 8192;

/// The node key that seals data keys, and the cache of opened ones.
#[derive(Default)]
pub(super) struct TextKeys {
    node: OnceLock<SecretBox>,
    cache: Mutex<HashMap<Uuid, TextKey>>,
}

impl TextKeys {
    fn cached(&self, session: Uuid) -> Option<TextKey> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(&session).cloned()
    }

    fn remember(&self, session: Uuid, key: TextKey) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(session, key);
    }
}

impl EventStore {
    /// Gives the store the node key; without it sessions get no data key (texts stay plain).
    pub fn install_node_key(&self, node: SecretBox) {
        let _ = self.inner.text_keys.node.set(node);
    }

    /// Creates the session's data key (before its `SessionQueued` is appended).
    pub async fn create_text_key(&self, session: Uuid) -> Result<(), StoreError> {
        let Some(node) = self.inner.text_keys.node.get() else {
            return Ok(());
        };
        let hex = random_token("");
        let key = SecretBox::from_key_hex(&hex)?;
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO session_keys (session_id, sealed_key, created_at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (session_id) DO NOTHING",
        )
        .bind(session.to_string())
        .bind(node.seal(hex.as_bytes())?)
        .bind(chrono::Utc::now().timestamp_millis())
        .execute(self.pool())
        .await?;
        self.inner.text_keys.remember(session, Some(Arc::new(key)));
        Ok(())
    }

    /// The session's data key, from the cache or the `session_keys` table.
    pub async fn text_key(&self, session: Uuid) -> Result<TextKey, StoreError> {
        let keys = &self.inner.text_keys;
        if let Some(hit) = keys.cached(session) {
            return Ok(hit);
        }
        let Some(node) = keys.node.get() else {
            return Ok(None);
        };
        let sealed: Option<String> =
            sqlx::query_scalar("SELECT sealed_key FROM session_keys WHERE session_id = $1")
                .bind(session.to_string())
                .fetch_optional(self.pool())
                .await?;
        let key = match sealed {
            Some(sealed) => {
                let hex =
                    String::from_utf8(node.open(&sealed)?).map_err(|_| SecretError::Malformed)?;
                Some(Arc::new(SecretBox::from_key_hex(&hex)?))
            }
            None => None,
        };
        keys.remember(session, key.clone());
        Ok(key)
    }

    /// Destroys the session's data key: its sealed texts can never be read again.
    pub async fn destroy_text_key(&self, session: Uuid) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query("DELETE FROM session_keys WHERE session_id = $1")
            .bind(session.to_string())
            .execute(self.pool())
            .await?;
        self.inner.text_keys.remember(session, None);
        Ok(())
    }

    /// The data keys of every session with sealed texts among these events. Without the node
    /// key that is an error, never blank texts (a rebuild must not lose them).
    pub async fn text_keys_for(
        &self,
        events: &[RecordedEvent],
    ) -> Result<HashMap<Uuid, TextKey>, StoreError> {
        let mut keys = HashMap::new();
        for e in events {
            if let Some(session) = sealed_session(&e.payload)
                && !keys.contains_key(&session)
            {
                if self.inner.text_keys.node.get().is_none() {
                    return Err(StoreError::NoNodeKey);
                }
                keys.insert(session, self.text_key(session).await?);
            }
        }
        Ok(keys)
    }

    /// Replaces the sealed texts of these events' payloads by the plain ones (blank when the key
    /// is gone); for readers that show raw events.
    pub async fn open_recorded(&self, events: &mut [RecordedEvent]) -> Result<(), StoreError> {
        let keys = self.text_keys_for(events).await?;
        for e in events
            .iter_mut()
            .filter(|e| sealed_session(&e.payload).is_some())
        {
            let mut event = DomainEvent::from_parts(&e.event_type, &e.payload)?;
            open_texts(&keys, &mut event);
            e.payload = event.to_parts()?.1;
        }
        Ok(())
    }
}

/// The session of a payload that carries sealed texts.
fn sealed_session(payload: &Value) -> Option<Uuid> {
    payload.get("sealed")?;
    payload.get("sessionId")?.as_str()?.parse().ok()
}

/// The texts of an exchange event as they are sealed: `{"content"}`, or `{"error",
/// "partialContent"}` for a failure (keys in this order, `partialContent` `null` when absent:
/// the bytes a `json!` object gave before, so older and newer seals read alike).
#[derive(Serialize)]
#[serde(untagged)]
enum SealedTexts<'a> {
    Content {
        content: &'a str,
    },
    Failure {
        error: &'a str,
        #[serde(rename = "partialContent")]
        partial_content: Option<&'a str>,
    },
}

/// The texts an opened seal holds (each absent one blank).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct OpenedTexts {
    content: Option<String>,
    error: Option<String>,
    partial_content: Option<String>,
}

/// Seals an exchange event's texts with the session's key (one AES-GCM seal per event).
pub fn seal_texts(key: &SecretBox, event: &mut DomainEvent) -> Result<(), SecretError> {
    let (bytes, sealed) = match event {
        DomainEvent::MessageSent(s) => (
            texts_json(&SealedTexts::Content {
                content: &std::mem::take(&mut s.content),
            })?,
            &mut s.sealed,
        ),
        DomainEvent::ResponseReceived(r) => (
            texts_json(&SealedTexts::Content {
                content: &std::mem::take(&mut r.content),
            })?,
            &mut r.sealed,
        ),
        DomainEvent::MessageFailed(f) => {
            let partial = f.partial_content.take();
            let texts = SealedTexts::Failure {
                error: &std::mem::take(&mut f.error),
                partial_content: partial.as_deref(),
            };
            (texts_json(&texts)?, &mut f.sealed)
        }
        _ => return Ok(()),
    };
    *sealed = Some(key.seal(&bytes)?);
    Ok(())
}

fn texts_json(texts: &SealedTexts<'_>) -> Result<Vec<u8>, SecretError> {
    serde_json::to_vec(texts).map_err(|_| SecretError::Json)
}

/// Opens an exchange event's sealed texts with the keys given; blank when its key is missing.
pub fn open_texts(keys: &HashMap<Uuid, TextKey>, event: &mut DomainEvent) {
    let (session, sealed) = match event {
        DomainEvent::MessageSent(s) => (s.exchange.session_id, s.sealed.take()),
        DomainEvent::ResponseReceived(r) => (r.exchange.session_id, r.sealed.take()),
        DomainEvent::MessageFailed(f) => (f.exchange.session_id, f.sealed.take()),
        _ => return,
    };
    let Some(sealed) = sealed else {
        return;
    };
    let key = keys.get(&session).cloned().flatten();
    let texts: OpenedTexts = key
        .and_then(|k| k.open(&sealed).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    match event {
        DomainEvent::MessageSent(s) => s.content = texts.content.unwrap_or_default(),
        DomainEvent::ResponseReceived(r) => r.content = texts.content.unwrap_or_default(),
        DomainEvent::MessageFailed(f) => {
            f.error = texts.error.unwrap_or_default();
            f.partial_content = texts.partial_content;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::{ExchangeRef, MessageFailed, MessageSent};

    fn key() -> Arc<SecretBox> {
        Arc::new(SecretBox::from_key_hex(&random_token("")).unwrap())
    }

    fn exchange(session: Uuid) -> ExchangeRef {
        ExchangeRef {
            session_id: session,
            message_index: 0,
            repetition_index: 0,
            attempt: 0,
        }
    }

    fn sent(session: Uuid) -> DomainEvent {
        DomainEvent::MessageSent(MessageSent {
            exchange: exchange(session),
            content: "secret prompt".into(),
            context_messages: 1,
            context_tokens: 3,
            wait_ms: 0,
            backoff_ms: 0,
            sealed: None,
        })
    }

    #[test]
    fn sealed_texts_open_with_the_key_and_are_blank_without_it() {
        let session = Uuid::now_v7();
        let k = key();
        let mut event = sent(session);
        seal_texts(&k, &mut event).unwrap();
        let stored = serde_json::to_string(&event).unwrap();
        assert!(!stored.contains("secret prompt"), "{stored}");
        let mut opened = event.clone();
        open_texts(&HashMap::from([(session, Some(k))]), &mut opened);
        assert_eq!(opened, sent(session));
        let mut shredded = event;
        open_texts(&HashMap::from([(session, None)]), &mut shredded);
        let DomainEvent::MessageSent(s) = shredded else {
            panic!("not a MessageSent")
        };
        assert_eq!((s.content.as_str(), s.sealed), ("", None));
    }

    #[test]
    fn sealed_bytes_are_the_former_json_objects() {
        let k = key();
        let open = |event: &DomainEvent| {
            let sealed = match event {
                DomainEvent::MessageSent(s) => s.sealed.clone(),
                DomainEvent::MessageFailed(f) => f.sealed.clone(),
                _ => None,
            };
            k.open(&sealed.unwrap()).unwrap()
        };
        let mut event = sent(Uuid::now_v7());
        seal_texts(&k, &mut event).unwrap();
        let former = serde_json::json!({"content": "secret prompt"});
        assert_eq!(open(&event), serde_json::to_vec(&former).unwrap());
        for partial in [None, Some("half \"quoted\" ✓")] {
            let mut failed = DomainEvent::MessageFailed(MessageFailed {
                exchange: exchange(Uuid::now_v7()),
                kind: crate::domain::events::ErrorKind::Timeout,
                error: "no reply".into(),
                status: None,
                latency_ms: 1,
                action: crate::domain::scenario::ErrorAction::Skip,
                partial_content: partial.map(str::to_owned),
                sealed: None,
            });
            seal_texts(&k, &mut failed).unwrap();
            let former = serde_json::json!({"error": "no reply", "partialContent": partial});
            assert_eq!(open(&failed), serde_json::to_vec(&former).unwrap());
        }
    }

    #[test]
    fn failure_texts_round_trip() {
        let session = Uuid::now_v7();
        let k = key();
        let failed = DomainEvent::MessageFailed(MessageFailed {
            exchange: exchange(session),
            kind: crate::domain::events::ErrorKind::HttpStatus,
            error: "HTTP 500: echoed prompt".into(),
            status: Some(500),
            latency_ms: 3,
            action: crate::domain::scenario::ErrorAction::Skip,
            partial_content: Some("half a reply".into()),
            sealed: None,
        });
        let mut event = failed.clone();
        seal_texts(&k, &mut event).unwrap();
        assert!(!serde_json::to_string(&event).unwrap().contains("echoed"));
        open_texts(&HashMap::from([(session, Some(k))]), &mut event);
        assert_eq!(event, failed);
    }
}
