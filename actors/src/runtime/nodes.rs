//! The node list: each dispatching or serving node upserts its heartbeat and load, so every node
//! can show who is alive, what it runs and which leases it holds.

use sqlx::Row;

use crate::store::StoreError;

use super::leases::{Leases, NodeRole, NodeRow, now_ms};

/// What a node reports on each heartbeat.
#[derive(Debug, Clone, Copy)]
pub struct NodeLoad {
    pub role: NodeRole,
    pub started_at_ms: i64,
    pub running: usize,
    pub max_concurrent: usize,
}

impl Leases {
    /// Records this node's heartbeat and load.
    pub async fn heartbeat(&self, load: NodeLoad) -> Result<(), StoreError> {
        let _turn = self.store.write_turn().await;
        sqlx::query(
            "INSERT INTO nodes (node_id, role, started_at_ms, heartbeat_at_ms, running, max_concurrent)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (node_id) DO UPDATE
                SET role = excluded.role, started_at_ms = excluded.started_at_ms,
                    heartbeat_at_ms = excluded.heartbeat_at_ms, running = excluded.running,
                    max_concurrent = excluded.max_concurrent",
        )
        .bind(&self.node_id)
        .bind(load.role.as_str())
        .bind(load.started_at_ms)
        .bind(now_ms())
        .bind(i64::try_from(load.running).unwrap_or(i64::MAX))
        .bind(i64::try_from(load.max_concurrent).unwrap_or(i64::MAX))
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Every node seen within the last hour, with the live leases each holds.
    pub async fn nodes(&self) -> Result<Vec<NodeRow>, StoreError> {
        let now = now_ms();
        let ttl = i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX / 2);
        let rows = sqlx::query(
            "SELECT n.node_id, n.role, n.started_at_ms, n.heartbeat_at_ms, n.running, n.max_concurrent,
                    CAST((SELECT COUNT(*) FROM session_leases l
                          WHERE l.node_id = n.node_id AND l.expires_at_ms >= $1) AS BIGINT) AS leases
             FROM nodes n WHERE n.heartbeat_at_ms >= $2 ORDER BY n.node_id",
        )
        .bind(now)
        .bind(now - 3_600_000)
        .fetch_all(self.store.pool())
        .await?;
        let mut nodes = Vec::with_capacity(rows.len());
        for r in &rows {
            let heartbeat_at_ms: i64 = r.try_get("heartbeat_at_ms")?;
            let Some(role) = NodeRole::from_db(&r.try_get::<String, _>("role")?) else {
                continue;
            };
            nodes.push(NodeRow {
                node_id: r.try_get("node_id")?,
                role,
                started_at_ms: r.try_get("started_at_ms")?,
                heartbeat_at_ms,
                running: r.try_get("running")?,
                max_concurrent: r.try_get("max_concurrent")?,
                leases: r.try_get("leases")?,
                stale: now - heartbeat_at_ms > ttl,
            });
        }
        Ok(nodes)
    }
}
