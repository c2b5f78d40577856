//! The enforcement middleware wrapped around the whole app: authenticate, check the role, check
//! CSRF and Origin on cookie-authenticated writes, and audit every write.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use actors::commands::Accounts;
use actors::domain::account::{AuditOutcome, Role};
use serde_json::json;

use super::audit::{AuditRequest, outcome_of, record};
use super::identify::{Principal, identify, same_origin};
use super::policy::{Access, required};
use super::sessions::{LoginLimiter, SessionStore};
use crate::config::AuthMode;

/// Shared by every worker: accounts, live sessions, login limits and the mode.
#[derive(Clone)]
pub struct AuthState {
    pub mode: AuthMode,
    pub accounts: Accounts,
    pub sessions: SessionStore,
    pub limiter: LoginLimiter,
}

fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the caller wants a page (a browser navigating) rather than JSON.
fn wants_page(req: &HttpRequest) -> bool {
    !req.path().starts_with("/api/")
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// 401: a redirect to the login page for page navigations, a JSON error otherwise.
fn unauthenticated(req: &HttpRequest) -> HttpResponse {
    if is_read(req.method()) && wants_page(req) {
        let next = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let location = format!("/login?next={}", urlencode(&next));
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location))
            .finish();
    }
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
        .json(json!({"success": false, "error": "authentication required: send Authorization: Bearer <token> or log in at /login", "details": null}))
}

fn forbidden(reason: &str) -> HttpResponse {
    HttpResponse::Forbidden().json(json!({"success": false, "error": reason, "details": null}))
}

/// Percent-encodes a `next` target for the login redirect.
fn urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Why a request is refused (403), if it is.
fn refusal(req: &HttpRequest, principal: &Principal, needed: Role) -> Option<String> {
    if principal.role < needed {
        return Some(format!(
            "forbidden: this needs the {} role; you are {}",
            needed.as_str(),
            principal.role.as_str()
        ));
    }
    if is_read(req.method()) || !principal.via_cookie() {
        return None;
    }
    if !same_origin(req) {
        return Some("forbidden: cross-site request (Origin does not match this node)".into());
    }
    let presented = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let session_csrf = principal.csrf.as_deref().unwrap_or_default();
    if presented.is_empty() || !actors::credentials::secrets_equal(session_csrf, presented) {
        return Some("forbidden: missing or invalid X-CSRF-Token header".into());
    }
    None
}

/// The middleware (`actix_web::middleware::from_fn(enforce)`).
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let needed = match required(req.method(), req.path()) {
        Access::Open => return Ok(next.call(req).await?.map_into_boxed_body()),
        Access::Role(role) => role,
    };
    let Some(state) = req.app_data::<web::Data<AuthState>>().cloned() else {
        return Err(actix_web::error::ErrorInternalServerError(
            "auth state missing",
        ));
    };
    let principal = match state.mode {
        AuthMode::Required => identify(req.request(), &state.accounts, &state.sessions)
            .await
            .map_err(actix_web::error::ErrorInternalServerError)?,
        AuthMode::Off | AuthMode::InsecureOff => Some(Principal::anonymous()),
    };
    let Some(principal) = principal else {
        let response = unauthenticated(req.request());
        return Ok(req.into_response(response));
    };
    let audited = !is_read(req.method()) || needed >= Role::Operator;
    if let Some(reason) = refusal(req.request(), &principal, needed) {
        let (http, _) = req.into_parts();
        audit(&state, &http, &principal, StatusCode::FORBIDDEN).await;
        return Ok(ServiceResponse::new(http, forbidden(&reason)));
    }
    req.extensions_mut().insert(principal.clone());
    let response = next.call(req).await?.map_into_boxed_body();
    if audited {
        audit(&state, response.request(), &principal, response.status()).await;
    }
    Ok(response)
}

async fn audit(state: &AuthState, req: &HttpRequest, principal: &Principal, status: StatusCode) {
    let pattern = req
        .match_pattern()
        .unwrap_or_else(|| req.path().to_string());
    let outcome = if status == StatusCode::FORBIDDEN {
        AuditOutcome::Denied
    } else {
        outcome_of(status.as_u16())
    };
    let entry = AuditRequest {
        actor: &principal.name,
        kind: principal.kind,
        action: format!("{} {pattern}", req.method()),
        object: req.path().to_string(),
        outcome,
        status: Some(status.as_u16()),
    };
    record(&state.accounts, req, entry).await;
}
