//! Admin API for accounts: `/api/users` (create, change role, disable), `/api/tokens` (a
//! token's plaintext is in the create answer only) and `/api/audit` (paged, filtered).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::commands::UserChange;
use actors::domain::account::Role;
use serde::Deserialize;
use serde_json::json;

use super::envelope::{ApiError, Envelope, JsonAny, ok, parse_body, parse_id};
use super::query::ApiQuery;
use super::state::AppState;
use crate::auth::{AuthState, Principal};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewUser {
    username: String,
    password: String,
    /// `viewer`, `operator` or `admin`.
    #[schema(value_type = String)]
    role: Role,
}

/// A change to a user; at least one field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UserPatch {
    /// New role: `viewer`, `operator` or `admin`.
    #[schema(value_type = Option<String>)]
    role: Option<Role>,
    /// `true` disables the user (no login, sessions end), `false` enables it again.
    disabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewToken {
    name: String,
    /// `viewer`, `operator` or `admin`.
    #[schema(value_type = String)]
    role: Role,
}

fn actor(principal: &Option<web::ReqData<Principal>>) -> String {
    principal
        .as_ref()
        .map_or_else(|| "anonymous".into(), |p| p.name.clone())
}

/// List users.
#[utoipa::path(
    get,
    path = "/api/users",
    tag = "accounts",
    responses(
        (status = 200, description = "Every user (never a password hash)", body = Envelope<JsonAny>),
    )
)]
pub async fn list_users(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let users = projections::queries::list_users(&state.read).await?;
    Ok(ok(StatusCode::OK, users))
}

/// Create a user.
#[utoipa::path(
    post,
    path = "/api/users",
    tag = "accounts",
    request_body(content = NewUser, content_type = "application/json"),
    responses(
        (status = 201, description = "The user", body = Envelope<JsonAny>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
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

/// Change a user's role or disable / re-enable it.
#[utoipa::path(
    patch,
    path = "/api/users/{username}",
    tag = "accounts",
    params(("username" = String, Path, description = "Username")),
    request_body(content = UserPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The user after the change", body = Envelope<JsonAny>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn update_user(
    state: web::Data<AppState>,
    auth: web::Data<AuthState>,
    principal: Option<web::ReqData<Principal>>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let input: UserPatch = parse_body(&body)?;
    if input.role.is_none() && input.disabled.is_none() {
        return Err(ApiError::field("role", "give role and/or disabled"));
    }
    let change = UserChange {
        role: input.role,
        disabled: input.disabled,
    };
    let username = path.into_inner();
    let (user, position) = auth
        .accounts
        .update_user(&username, change, &actor(&principal))
        .await?;
    state.caught_up(position).await?;
    Ok(ok(
        StatusCode::OK,
        json!({"username": user.username, "role": user.role, "disabled": user.disabled}),
    ))
}

/// List API tokens.
#[utoipa::path(
    get,
    path = "/api/tokens",
    tag = "accounts",
    responses(
        (status = 200, description = "Every token (never its secret)", body = Envelope<JsonAny>),
    )
)]
pub async fn list_tokens(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let tokens = projections::queries::list_tokens(&state.read).await?;
    Ok(ok(StatusCode::OK, tokens))
}

/// Create an API token.
#[utoipa::path(
    post,
    path = "/api/tokens",
    tag = "accounts",
    request_body(content = NewToken, content_type = "application/json"),
    responses(
        (status = 201, description = "The token; its secret is shown this once", body = Envelope<JsonAny>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
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

/// Revoke an API token.
#[utoipa::path(
    delete,
    path = "/api/tokens/{id}",
    tag = "accounts",
    params(("id" = uuid::Uuid, Path, description = "Token id")),
    responses(
        (status = 200, description = "Revoked", body = Envelope<JsonAny>),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
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
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
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

/// Read the audit log.
#[utoipa::path(
    get,
    path = "/api/audit",
    tag = "accounts",
    params(AuditQuery),
    responses(
        (status = 200, description = "Who did what, newest first", body = Envelope<JsonAny>),
        (status = 400, response = crate::openapi::Invalid),
    )
)]
pub async fn list_audit(
    state: web::Data<AppState>,
    query: ApiQuery<AuditQuery>,
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
