//! Users, API tokens (never their hashes) and the audit log, as the admin API shows them.

use serde::Serialize;
use sqlx::{AnyPool, Row};

/// A user account.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub username: String,
    pub user_id: String,
    pub role: String,
    pub created_by: String,
    pub created_at_ms: i64,
    /// Disabled users cannot log in.
    pub disabled: bool,
}

/// An API token's metadata.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created_by: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    pub revoked_by: Option<String>,
}

/// One audit entry.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryView {
    pub position: i64,
    pub at_ms: i64,
    pub actor: String,
    pub actor_kind: String,
    pub action: String,
    pub object: String,
    pub outcome: String,
    pub status: Option<i64>,
    pub source_ip: Option<String>,
}

/// Filters and paging of `GET /api/audit`: entries before `before` (a position), newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Entries whose action contains this text (e.g. `login`, `POST`, `/api/targets`).
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub before: Option<i64>,
    pub limit: i64,
}

/// Every user, oldest first.
pub async fn list_users(pool: &AnyPool) -> Result<Vec<UserView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT username, user_id, role, created_by, created_at_ms, is_disabled
         FROM auth_users ORDER BY created_at_ms, username",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UserView {
                username: r.try_get("username")?,
                user_id: r.try_get("user_id")?,
                role: r.try_get("role")?,
                created_by: r.try_get("created_by")?,
                created_at_ms: r.try_get("created_at_ms")?,
                disabled: r.try_get::<i64, _>("is_disabled")? != 0,
            })
        })
        .collect()
}

/// Every token, newest first (revoked ones included, marked).
pub async fn list_tokens(pool: &AnyPool) -> Result<Vec<TokenView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT token_id, name, role, created_by, created_at_ms, revoked_at_ms, revoked_by
         FROM auth_tokens ORDER BY created_at_ms DESC, token_id",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TokenView {
                id: r.try_get("token_id")?,
                name: r.try_get("name")?,
                role: r.try_get("role")?,
                created_by: r.try_get("created_by")?,
                created_at_ms: r.try_get("created_at_ms")?,
                revoked_at_ms: r.try_get("revoked_at_ms")?,
                revoked_by: r.try_get("revoked_by")?,
            })
        })
        .collect()
}

/// A page of audit entries, newest first.
pub async fn list_audit(
    pool: &AnyPool,
    filter: &AuditFilter,
) -> Result<Vec<AuditEntryView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT position, at_ms, actor, actor_kind, action, object, outcome, status, source_ip
         FROM audit_log
         WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action LIKE $2)
           AND ($3 IS NULL OR outcome = $3) AND position < $4
         ORDER BY position DESC LIMIT $5",
    )
    .bind(filter.actor.clone())
    .bind(filter.action.as_ref().map(|a| format!("%{a}%")))
    .bind(filter.outcome.clone())
    .bind(filter.before.unwrap_or(i64::MAX))
    .bind(filter.limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntryView {
                position: r.try_get("position")?,
                at_ms: r.try_get("at_ms")?,
                actor: r.try_get("actor")?,
                actor_kind: r.try_get("actor_kind")?,
                action: r.try_get("action")?,
                object: r.try_get("object")?,
                outcome: r.try_get("outcome")?,
                status: r.try_get("status")?,
                source_ip: r.try_get("source_ip")?,
            })
        })
        .collect()
}
