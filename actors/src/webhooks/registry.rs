//! The worker's view of the configured webhooks, folded from `Webhook*` events in log order.

use std::collections::HashMap;

use uuid::Uuid;

use crate::domain::events::DomainEvent;
use crate::domain::webhook::{WebhookEvent, WebhookSnapshot};

/// A live webhook and the position of the event that created it.
#[derive(Debug, Clone)]
pub struct Hook {
    pub snapshot: WebhookSnapshot,
    pub created_at: i64,
}

/// Webhooks by id, plus the last position applied (events at or before it are ignored).
#[derive(Debug, Default)]
pub struct Registry {
    hooks: HashMap<Uuid, Hook>,
    applied: i64,
}

impl Registry {
    /// Applies a webhook lifecycle event at `position` (once; replays are ignored).
    pub fn apply(&mut self, position: i64, event: &DomainEvent) {
        if position <= self.applied {
            return;
        }
        match event {
            DomainEvent::WebhookCreated(s) => {
                let hook = Hook {
                    snapshot: s.clone(),
                    created_at: position,
                };
                self.hooks.insert(s.webhook_id, hook);
            }
            DomainEvent::WebhookUpdated(s) => {
                if let Some(h) = self.hooks.get_mut(&s.webhook_id) {
                    h.snapshot = s.clone();
                }
            }
            DomainEvent::WebhookDeleted(d) => {
                self.hooks.remove(&d.id);
            }
            _ => return,
        }
        self.applied = position;
    }

    pub fn get(&self, id: Uuid) -> Option<Hook> {
        self.hooks.get(&id).cloned()
    }

    /// Enabled webhooks subscribed to `event` that existed before `position`.
    pub fn subscribers(&self, event: WebhookEvent, position: i64) -> Vec<Uuid> {
        self.hooks
            .values()
            .filter(|h| h.created_at < position && h.snapshot.spec.enabled)
            .filter(|h| h.snapshot.spec.events.contains(&event))
            .map(|h| h.snapshot.webhook_id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::Deleted;
    use crate::domain::webhook::{RetryPolicy, WebhookSpec};

    fn created(id: Uuid, events: Vec<WebhookEvent>, enabled: bool) -> DomainEvent {
        DomainEvent::WebhookCreated(WebhookSnapshot {
            webhook_id: id,
            spec: WebhookSpec {
                name: "h".into(),
                url: "http://127.0.0.1:1/".into(),
                events,
                enabled,
                retry: RetryPolicy::default(),
            },
            secret: "k1:x:y".into(),
        })
    }

    #[test]
    fn only_enabled_earlier_subscribed_hooks_receive() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut r = Registry::default();
        r.apply(5, &created(a, vec![WebhookEvent::SessionCompleted], true));
        r.apply(6, &created(b, vec![WebhookEvent::SessionFailed], true));
        r.apply(7, &created(c, vec![WebhookEvent::SessionCompleted], false));
        assert_eq!(r.subscribers(WebhookEvent::SessionCompleted, 10), [a]);
        assert!(r.subscribers(WebhookEvent::SessionCompleted, 5).is_empty());
        r.apply(8, &DomainEvent::WebhookDeleted(Deleted { id: a }));
        r.apply(5, &created(a, vec![WebhookEvent::SessionCompleted], true));
        assert!(r.subscribers(WebhookEvent::SessionCompleted, 10).is_empty());
        assert!(r.get(b).is_some());
    }
}
