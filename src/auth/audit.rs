//! The audit trail: an `AuditRecorded` event for every write, login, logout and setup.

use actix_web::HttpRequest;
use actors::commands::Accounts;
use actors::domain::account::{ActorKind, AuditOutcome, AuditRecorded};
use uuid::Uuid;

use super::identify::client_ip;

/// What one audited request did.
pub struct AuditRequest<'a> {
    pub actor: &'a str,
    pub kind: ActorKind,
    pub action: String,
    pub object: String,
    pub outcome: AuditOutcome,
    pub status: Option<u16>,
}

/// Records an audit entry. A store failure is logged, never shown to the caller (the action
/// itself already happened).
pub async fn record(accounts: &Accounts, req: &HttpRequest, entry: AuditRequest<'_>) {
    let event = AuditRecorded {
        entry_id: Uuid::now_v7(),
        actor: entry.actor.to_string(),
        actor_kind: entry.kind,
        action: entry.action,
        object: entry.object,
        outcome: entry.outcome,
        status: entry.status,
        source_ip: Some(client_ip(req)),
    };
    if let Err(e) = accounts.record_audit(event).await {
        tracing::error!(error = %e, "could not record an audit entry");
    }
}

/// The outcome an HTTP status stands for.
pub fn outcome_of(status: u16) -> AuditOutcome {
    match status {
        200..=399 => AuditOutcome::Succeeded,
        401 | 403 => AuditOutcome::Denied,
        _ => AuditOutcome::Failed,
    }
}
