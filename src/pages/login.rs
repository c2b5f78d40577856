//! `/login`, `/logout` and the one-time `/setup` (first admin of a fresh node, loopback only).

use crate::routes::{Envelope, JsonAny};
use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use actors::commands::{Accounts, UserRecord};
use actors::domain::account::{ActorKind, AuditOutcome, Role};
use sailfish::TemplateSimple;
use serde::Deserialize;

use super::render::PageError;
use crate::auth::{
    AuditRequest, AuthState, CSRF_COOKIE, Principal, SESSION_COOKIE, client_ip, record, same_origin,
};
use crate::config::AuthMode;

#[derive(TemplateSimple)]
#[template(path = "auth/login.stpl")]
struct LoginPage {
    title: &'static str,
    intro: &'static str,
    action: &'static str,
    button: &'static str,
    setup: bool,
    next: String,
    error: Option<String>,
    show_setup_link: bool,
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Only local paths: `/x`, never `//host` or `https://…`.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next.to_string()
    } else {
        "/".into()
    }
}

fn login_page(
    status: StatusCode,
    next: &str,
    error: Option<String>,
    setup_link: bool,
) -> Result<HttpResponse, PageError> {
    let body = LoginPage {
        title: "Log in",
        intro: "",
        action: "/login",
        button: "Log in",
        setup: false,
        next: safe_next(next),
        error,
        show_setup_link: setup_link,
    }
    .render_once()?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

fn is_loopback_peer(req: &HttpRequest) -> bool {
    req.peer_addr().is_some_and(|a| a.ip().is_loopback())
}

async fn no_users(accounts: &Accounts) -> Result<bool, PageError> {
    Ok(!accounts
        .has_users()
        .await
        .map_err(|e| PageError::Unexpected(e.into()))?)
}

pub async fn show_login(
    req: HttpRequest,
    auth: web::Data<AuthState>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let next = query.next.clone().unwrap_or_else(|| "/".into());
    let setup_link = is_loopback_peer(&req) && no_users(&auth.accounts).await?;
    login_page(StatusCode::OK, &next, None, setup_link)
}

/// Starts a session: the HttpOnly session cookie and the CSRF cookie scripts read.
fn logged_in(req: &HttpRequest, auth: &AuthState, username: &str, next: &str) -> HttpResponse {
    let (id, csrf) = auth.sessions.create(username);
    let secure = req.connection_info().scheme() == "https";
    let age = time::Duration::seconds(crate::auth::SESSION_TTL_SECS);
    let session = Cookie::build(SESSION_COOKIE, id)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(age)
        .finish();
    let csrf = Cookie::build(CSRF_COOKIE, csrf)
        .path("/")
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(age)
        .finish();
    HttpResponse::SeeOther()
        .cookie(session)
        .cookie(csrf)
        .insert_header((header::LOCATION, safe_next(next)))
        .finish()
}

async fn audit_login(
    auth: &AuthState,
    req: &HttpRequest,
    username: &str,
    action: &str,
    outcome: AuditOutcome,
) {
    let name: String = username.chars().take(64).collect();
    let entry = AuditRequest {
        actor: &name,
        kind: ActorKind::User,
        action: action.into(),
        object: name.clone(),
        outcome,
        status: None,
    };
    record(&auth.accounts, req, entry).await;
}

/// The user when `password` is theirs (argon2 runs on the blocking pool).
async fn verified_user(
    accounts: &Accounts,
    username: &str,
    password: &str,
) -> Result<Option<UserRecord>, PageError> {
    let user = accounts
        .user(username)
        .await
        .map_err(|e| PageError::Unexpected(e.into()))?;
    let password = password.to_string();
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let valid = web::block(move || {
        actors::credentials::verify_password_or_dummy(&password, hash.as_deref())
    })
    .await
    .map_err(|e| PageError::Unexpected(e.into()))?;
    Ok(user.filter(|u| valid && !u.disabled))
}

pub async fn submit_login(
    req: HttpRequest,
    auth: web::Data<AuthState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    if auth.mode != AuthMode::Required {
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/"))
            .finish());
    }
    if !same_origin(&req) {
        return login_page(
            StatusCode::FORBIDDEN,
            &form.next,
            Some("Cross-site login refused.".into()),
            false,
        );
    }
    let username = form.username.trim().to_lowercase();
    if !auth.limiter.allow(&client_ip(&req), &username) {
        audit_login(&auth, &req, &username, "login", AuditOutcome::Denied).await;
        return login_page(
            StatusCode::TOO_MANY_REQUESTS,
            &form.next,
            Some("Too many login attempts; wait a minute and try again.".into()),
            false,
        );
    }
    let user = verified_user(&auth.accounts, &username, &form.password).await?;
    match user {
        Some(user) => {
            audit_login(&auth, &req, &username, "login", AuditOutcome::Succeeded).await;
            Ok(logged_in(&req, &auth, &user.username, &form.next))
        }
        None => {
            audit_login(&auth, &req, &username, "login", AuditOutcome::Failed).await;
            login_page(
                StatusCode::UNAUTHORIZED,
                &form.next,
                Some("Wrong username or password.".into()),
                false,
            )
        }
    }
}

/// Ends the session (a cookie-authenticated write: the middleware checked CSRF and Origin).
pub async fn logout(req: HttpRequest, auth: web::Data<AuthState>) -> HttpResponse {
    if let Some(c) = req.cookie(SESSION_COOKIE) {
        auth.sessions.remove(c.value());
    }
    let mut response =
        HttpResponse::Ok().json(serde_json::json!({"success": true, "data": {"loggedOut": true}}));
    for name in [SESSION_COOKIE, CSRF_COOKIE] {
        let mut gone = Cookie::build(name, "").path("/").finish();
        gone.make_removal();
        let _ = response.add_cookie(&gone);
    }
    response
}

fn setup_page(status: StatusCode, error: Option<String>) -> Result<HttpResponse, PageError> {
    let body = LoginPage {
        title: "Create the first admin",
        intro: "This node has no account yet. The admin you create here can add users and API tokens; this page closes once an account exists.",
        action: "/setup",
        button: "Create admin",
        setup: true,
        next: "/".into(),
        error,
        show_setup_link: false,
    }
    .render_once()?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// Whether the setup page is usable for this request (a fresh node, from loopback).
async fn setup_refusal(
    req: &HttpRequest,
    auth: &AuthState,
) -> Result<Option<HttpResponse>, PageError> {
    if !no_users(&auth.accounts).await? {
        return Ok(Some(
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/login"))
                .finish(),
        ));
    }
    if !is_loopback_peer(req) {
        return setup_page(StatusCode::FORBIDDEN, Some("Setup is only reachable from the node's own machine (loopback). Use `krawall users add --role admin` instead.".into())).map(Some);
    }
    Ok(None)
}

pub async fn show_setup(
    req: HttpRequest,
    auth: web::Data<AuthState>,
) -> Result<HttpResponse, PageError> {
    match setup_refusal(&req, &auth).await? {
        Some(refused) => Ok(refused),
        None => setup_page(StatusCode::OK, None),
    }
}

pub async fn submit_setup(
    req: HttpRequest,
    auth: web::Data<AuthState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    if let Some(refused) = setup_refusal(&req, &auth).await? {
        return Ok(refused);
    }
    if !same_origin(&req) {
        return setup_page(
            StatusCode::FORBIDDEN,
            Some("Cross-site request refused.".into()),
        );
    }
    let username = form.username.trim().to_lowercase();
    match auth
        .accounts
        .create_user(&username, &form.password, Role::Admin, "setup")
        .await
    {
        Ok(_) => {
            audit_login(&auth, &req, &username, "setup", AuditOutcome::Succeeded).await;
            Ok(logged_in(&req, &auth, &username, "/"))
        }
        Err(actors::commands::CommandError::Invalid(errors)) => {
            let message = errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            setup_page(StatusCode::BAD_REQUEST, Some(message))
        }
        Err(e) => Err(PageError::Unexpected(e.into())),
    }
}

/// The caller as the dashboard sees it (`GET /api/auth/me`).
#[utoipa::path(
    get,
    path = "/api/auth/me",
    tag = "accounts",
    responses(
        (status = 200, description = "The caller: name, kind and role", body = Envelope<JsonAny>),
    )
)]
pub async fn me(principal: Option<web::ReqData<Principal>>) -> HttpResponse {
    let p = principal.map_or_else(Principal::anonymous, |p| p.into_inner());
    HttpResponse::Ok().json(serde_json::json!({"success": true, "data": {"name": p.name, "kind": p.kind, "role": p.role}}))
}
