//! Accounts read models: `auth_users` and `auth_tokens` (no secrets: not even the hashes), and
//! `audit_log`, one row per `AuditRecorded`.

use actors::domain::events::{DomainEvent, UserUpdated};
use actors::store::RecordedEvent;
use sqlx::AnyConnection;

use crate::projection::{Projection, ProjectionError};

/// Writes `auth_users` and `auth_tokens`.
pub struct AccountsProjection;

#[async_trait::async_trait]
impl Projection for AccountsProjection {
    fn name(&self) -> &'static str {
        "accounts"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["auth_users", "auth_tokens"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        match event {
            DomainEvent::UserCreated(u) => {
                sqlx::query(
                    "INSERT INTO auth_users (username, user_id, role, created_by, created_at_ms)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING",
                )
                .bind(u.username.clone())
                .bind(u.user_id.to_string())
                .bind(u.role.as_str())
                .bind(u.created_by.clone())
                .bind(meta.recorded_at_ms)
                .execute(&mut *conn)
                .await?;
            }
            DomainEvent::UserUpdated(u) => update_user(conn, meta, u).await?,
            DomainEvent::ApiTokenCreated(t) => {
                sqlx::query(
                    "INSERT INTO auth_tokens (token_id, name, role, created_by, created_at_ms)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_id) DO NOTHING",
                )
                .bind(t.token_id.to_string())
                .bind(t.name.clone())
                .bind(t.role.as_str())
                .bind(t.created_by.clone())
                .bind(meta.recorded_at_ms)
                .execute(&mut *conn)
                .await?;
            }
            DomainEvent::ApiTokenRevoked(r) => {
                sqlx::query(
                    "UPDATE auth_tokens SET revoked_at_ms = $2, revoked_by = $3
                     WHERE token_id = $1 AND revoked_at_ms IS NULL",
                )
                .bind(r.token_id.to_string())
                .bind(meta.recorded_at_ms)
                .bind(r.revoked_by.clone())
                .execute(&mut *conn)
                .await?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// A user's role and status after `UserUpdated`.
async fn update_user(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    u: &UserUpdated,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "UPDATE auth_users SET role = $2, is_disabled = $3, updated_by = $4, updated_at_ms = $5
         WHERE username = $1",
    )
    .bind(u.username.clone())
    .bind(u.role.as_str())
    .bind(i64::from(u.disabled))
    .bind(u.updated_by.clone())
    .bind(meta.recorded_at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes `audit_log`.
pub struct AuditProjection;

#[async_trait::async_trait]
impl Projection for AuditProjection {
    fn name(&self) -> &'static str {
        "audit_log"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["audit_log"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        let DomainEvent::AuditRecorded(a) = event else {
            return Ok(());
        };
        let kind = serde_json::to_value(a.actor_kind)?;
        let outcome = serde_json::to_value(a.outcome)?;
        sqlx::query(
            "INSERT INTO audit_log (position, entry_id, at_ms, actor, actor_kind, action, object,
                 outcome, status, source_ip)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (position) DO NOTHING",
        )
        .bind(meta.position)
        .bind(a.entry_id.to_string())
        .bind(meta.recorded_at_ms)
        .bind(a.actor.clone())
        .bind(kind.as_str().unwrap_or_default().to_string())
        .bind(a.action.clone())
        .bind(a.object.clone())
        .bind(outcome.as_str().unwrap_or_default().to_string())
        .bind(a.status.map(i64::from))
        .bind(a.source_ip.clone())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}
