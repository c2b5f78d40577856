//! Per-session data keys for message texts (crypto-shredding). A session's key is a random
//! AES-256-GCM key created when the session is queued, stored sealed with the node key in
//! `session_keys` (never in an event) and cached in memory. The texts of the session's
//! `MessageSent`, `ResponseReceived` and `MessageFailed` are stored sealed with it; destroying the
//! key (retention) leaves them unreadable in the event log for good.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};
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

/// Seals an exchange event's texts with the session's key (one AES-GCM seal per event).
pub fn seal_texts(key: &SecretBox, event: &mut DomainEvent) -> Result<(), SecretError> {
    let (texts, sealed) = match event {
        DomainEvent::MessageSent(s) => (
            json!({"content": std::mem::take(&mut s.content)}),
            &mut s.sealed,
        ),
        DomainEvent::ResponseReceived(r) => (
            json!({"content": std::mem::take(&mut r.content)}),
            &mut r.sealed,
        ),
        DomainEvent::MessageFailed(f) => (
            json!({"error": std::mem::take(&mut f.error), "partialContent": f.partial_content.take()}),
            &mut f.sealed,
        ),
        _ => return Ok(()),
    };
    *sealed = Some(key.seal_json(&texts)?);
    Ok(())
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
    let texts = key
        .and_then(|k| k.open_json(&sealed).ok())
        .unwrap_or(Value::Null);
    let text = |name: &str| texts.get(name).and_then(Value::as_str).map(str::to_owned);
    match event {
        DomainEvent::MessageSent(s) => s.content = text("content").unwrap_or_default(),
        DomainEvent::ResponseReceived(r) => r.content = text("content").unwrap_or_default(),
        DomainEvent::MessageFailed(f) => {
            f.error = text("error").unwrap_or_default();
            f.partial_content = text("partialContent");
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
