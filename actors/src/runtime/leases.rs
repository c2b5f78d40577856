//! Session leases in the shared database: a queued session is *offered*, one node *claims* it
//! for a time-to-live and *renews* it by heartbeat while it runs it, and *releases* it when done.
//! A claim succeeds only on an unclaimed or expired lease (or on the claimer's own), so a session
//! runs on one node at a time; the event log's expected versions fence any overlap.

use std::collections::HashSet;
use std::time::Duration;

use sqlx::Row;
use uuid::Uuid;

use crate::store::{EventStore, StoreError};

/// What a node does with sessions; shown in the node list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeRole {
    /// `serve`: HTTP API and dispatch.
    Serve,
    /// `serve --no-dispatch`: HTTP API only; offers sessions, never runs them.
    ServeNoDispatch,
    /// `worker`: dispatch only.
    Worker,
}

impl NodeRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Serve => "serve",
            Self::ServeNoDispatch => "serve-no-dispatch",
            Self::Worker => "worker",
        }
    }

    pub(super) fn from_db(s: &str) -> Option<Self> {
        [Self::Serve, Self::ServeNoDispatch, Self::Worker]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// One node as its last heartbeat described it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRow {
    pub node_id: String,
    pub role: NodeRole,
    pub started_at_ms: i64,
    pub heartbeat_at_ms: i64,
    pub running: i64,
    pub max_concurrent: i64,
    /// Leases the node holds that have not expired.
    pub leases: i64,
    /// It has not sent a heartbeat for longer than a lease lives.
    pub stale: bool,
}

/// What a renewal found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Renewal {
    /// Sessions this node runs whose lease another node has taken.
    pub lost: Vec<Uuid>,
    /// Sessions this node runs that somebody asked to cancel.
    pub cancel_requested: Vec<Uuid>,
}

/// Who holds a session when a cancel is requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelRequest {
    /// Another node holds a live lease and was asked to stop it.
    Forwarded(String),
    /// Nobody holds a live lease.
    Unheld,
}

/// The lease table of one node.
#[derive(Debug, Clone)]
pub struct Leases {
    /// Reads go to its pool; writes first take its write turn (see `EventStore::write_turn`).
    pub(super) store: EventStore,
    pub(super) node_id: String,
    pub(super) ttl: Duration,
}

pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Leases {
    pub fn new(store: EventStore, node_id: String, ttl: Duration) -> Self {
        Self {
            store,
            node_id,
            ttl,
        }
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn expiry(&self) -> i64 {
        now_ms() + i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX / 2)
    }

    /// Offers a queued session to every node (no-op when it is offered already).
    pub async fn offer(&self, session: Uuid) -> Result<(), StoreError> {
        let _turn = self.store.write_turn().await;
        sqlx::query(
            "INSERT INTO session_leases (session_id, offered_at_ms) VALUES ($1, $2)
             ON CONFLICT (session_id) DO NOTHING",
        )
        .bind(session.to_string())
        .bind(now_ms())
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Takes the lease when it is unclaimed, expired or already this node's. `true` when taken.
    pub async fn claim(&self, session: Uuid) -> Result<bool, StoreError> {
        let _turn = self.store.write_turn().await;
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO session_leases (session_id, node_id, expires_at_ms, offered_at_ms)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (session_id) DO UPDATE
                SET node_id = excluded.node_id, expires_at_ms = excluded.expires_at_ms
              WHERE session_leases.expires_at_ms < $4 OR session_leases.node_id = excluded.node_id
             RETURNING node_id",
        )
        .bind(session.to_string())
        .bind(&self.node_id)
        .bind(self.expiry())
        .bind(now)
        .fetch_optional(self.store.pool())
        .await?;
        Ok(row.is_some())
    }

    /// Offered sessions nobody holds (unclaimed or expired), oldest offer first.
    pub async fn claimable(&self, limit: usize) -> Result<Vec<Uuid>, StoreError> {
        let rows = sqlx::query(
            "SELECT session_id FROM session_leases WHERE expires_at_ms < $1
             ORDER BY offered_at_ms LIMIT $2",
        )
        .bind(now_ms())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("session_id")?;
                Ok(Uuid::parse_str(&id)?)
            })
            .collect()
    }

    /// Extends every lease this node holds; reports which of `running` it no longer holds and
    /// which were asked to cancel.
    pub async fn renew(&self, running: &[Uuid]) -> Result<Renewal, StoreError> {
        let _turn = self.store.write_turn().await;
        let rows = sqlx::query(
            "UPDATE session_leases SET expires_at_ms = $1 WHERE node_id = $2
             RETURNING session_id, cancel_requested",
        )
        .bind(self.expiry())
        .bind(&self.node_id)
        .fetch_all(self.store.pool())
        .await?;
        let mut held = HashSet::with_capacity(rows.len());
        let mut renewal = Renewal::default();
        for row in rows {
            let id = Uuid::parse_str(&row.try_get::<String, _>("session_id")?)?;
            if row.try_get::<i64, _>("cancel_requested")? != 0 {
                renewal.cancel_requested.push(id);
            }
            held.insert(id);
        }
        renewal.lost = running
            .iter()
            .filter(|id| !held.contains(id))
            .copied()
            .collect();
        Ok(renewal)
    }

    /// Drops this node's lease on a finished session (the offer goes with it).
    pub async fn release(&self, session: Uuid) -> Result<(), StoreError> {
        let _turn = self.store.write_turn().await;
        sqlx::query("DELETE FROM session_leases WHERE session_id = $1 AND node_id = $2")
            .bind(session.to_string())
            .bind(&self.node_id)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// Drops the offer of a session that ended without being claimed (cancelled while queued).
    pub async fn withdraw(&self, session: Uuid) -> Result<(), StoreError> {
        let _turn = self.store.write_turn().await;
        sqlx::query("DELETE FROM session_leases WHERE session_id = $1 AND expires_at_ms < $2")
            .bind(session.to_string())
            .bind(now_ms())
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// Flags a session for cancellation on the node that holds it.
    pub async fn request_cancel(&self, session: Uuid) -> Result<CancelRequest, StoreError> {
        let _turn = self.store.write_turn().await;
        let row = sqlx::query(
            "UPDATE session_leases SET cancel_requested = 1
             WHERE session_id = $1 AND expires_at_ms >= $2 AND node_id <> $3
             RETURNING node_id",
        )
        .bind(session.to_string())
        .bind(now_ms())
        .bind(&self.node_id)
        .fetch_optional(self.store.pool())
        .await?;
        Ok(match row {
            Some(r) => CancelRequest::Forwarded(r.try_get("node_id")?),
            None => CancelRequest::Unheld,
        })
    }
}
