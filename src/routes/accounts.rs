//! Admin API for accounts: `/api/users`, `/api/tokens` (a token's plaintext is in the create
//! answer only) and `/api/audit` (paged, filtered).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::domain::account::Role;
use serde::Deserialize;
use serde_json::json;

use super::envelope::{ApiError, ok, parse_body, parse_id};
use super::state::AppState;
use crate::auth::{AuthState, Principal};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewUser {
    username: String,
    password: String,
    role: Role,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewToken {
    name: String,
    role: Role,
}

fn actor(principal: &Option<web::ReqData<Principal>>) -> String {
    principal
        .as_ref()
        .map_or_else(|| "anonymous".into(), |p| p.name.clone())
}

pub async fn list_users(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let users = projections::queries::list_users(&state.read).await?;
    Ok(ok(StatusCode::OK, users))
}

pub async fn create_user(
    state: web::Data<AppState>,
    auth: web::Data<AuthState>,
    principal: Option<web::ReqData<Principal>>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let input: NewUser = parse_body(&body)?;
    let username = input.username.trim().to_lowercase();
    let position = auth
        .accounts
        .create_user(&username, &input.password, input.role, &actor(&principal))
        .await?;
    state.caught_up(position).await?;
    Ok(ok(
        StatusCode::CREATED,
        json!({"username": username, "role": input.role}),
    ))
}

pub async fn list_tokens(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let tokens = projections::queries::list_tokens(&state.read).await?;
    Ok(ok(StatusCode::OK, tokens))
}

pub async fn create_token(
    state: web::Data<AppState>,
    auth: web::Data<AuthState>,
    principal: Option<web::ReqData<Principal>>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let input: NewToken = parse_body(&body)?;
    let (token, position) = auth
        .accounts
        .create_token(&input.name, input.role, &actor(&principal))
        .await?;
    state.caught_up(position).await?;
    Ok(ok(
        StatusCode::CREATED,
        json!({"id": token.id, "name": input.name.trim(), "role": input.role, "token": token.plaintext}),
    ))
}

pub async fn revoke_token(
    state: web::Data<AppState>,
    auth: web::Data<AuthState>,
    principal: Option<web::ReqData<Principal>>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "token")?;
    let position = auth.accounts.revoke_token(id, &actor(&principal)).await?;
    state.caught_up(position).await?;
    Ok(ok(StatusCode::OK, json!({"id": id, "revoked": true})))
}

/// `GET /api/audit` query: filters and a page (`before` = the previous page's `nextBefore`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    outcome: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

impl AuditQuery {
    pub fn filter(&self) -> Result<projections::queries::AuditFilter, ApiError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::field("limit", "must be between 1 and 500"));
        }
        if let Some(o) = &self.outcome
            && !["succeeded", "failed", "denied"].contains(&o.as_str())
        {
            return Err(ApiError::field(
                "outcome",
                "must be one of succeeded, failed, denied",
            ));
        }
        let blank = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        Ok(projections::queries::AuditFilter {
            actor: blank(&self.actor),
            action: blank(&self.action),
            outcome: blank(&self.outcome),
            before: self.before,
            limit,
        })
    }
}

pub async fn list_audit(
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter()?;
    let entries = projections::queries::list_audit(&state.read, &filter).await?;
    let next_before = (entries.len() as i64 == filter.limit)
        .then(|| entries.last().map(|e| e.position))
        .flatten();
    Ok(ok(
        StatusCode::OK,
        json!({"entries": entries, "nextBefore": next_before}),
    ))
}
