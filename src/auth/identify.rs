//! Who is calling: an API token (`Authorization: Bearer`), a dashboard session cookie, or
//! nobody; plus the request facts the checks need (client address, same-origin test).

use actix_web::HttpRequest;
use actix_web::http::header;
use actors::commands::{Accounts, CommandError};
use actors::domain::account::{ActorKind, Role};

use super::sessions::{SESSION_COOKIE, SessionStore};

/// The authenticated caller, put into the request's extensions by the middleware.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Username or token name.
    pub name: String,
    pub kind: ActorKind,
    pub role: Role,
    /// The session's CSRF token for cookie-authenticated callers (`None` for bearer tokens).
    pub csrf: Option<String>,
}

impl Principal {
    /// The caller when authentication is off (`--no-auth`, `--insecure-no-auth`).
    pub fn anonymous() -> Self {
        Self {
            name: "anonymous".into(),
            kind: ActorKind::Anonymous,
            role: Role::Admin,
            csrf: None,
        }
    }

    /// Whether the caller came with a session cookie (so writes need CSRF and Origin checks).
    pub fn via_cookie(&self) -> bool {
        self.csrf.is_some()
    }
}

/// The caller of `req`: a bearer token when the header is present (a bad one is nobody), else
/// the session cookie — with the user's current role, read from its stream like a token's, so
/// a role change or a disabled account counts at once (a disabled user's session is ended).
pub async fn identify(
    req: &HttpRequest,
    accounts: &Accounts,
    sessions: &SessionStore,
) -> Result<Option<Principal>, CommandError> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let presented = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(presented) = presented else {
            return Ok(None);
        };
        return Ok(accounts
            .authenticate_token(presented)
            .await?
            .map(|grant| Principal {
                name: grant.name,
                kind: ActorKind::Token,
                role: grant.role,
                csrf: None,
            }));
    }
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(session) = sessions.get(cookie.value()) else {
        return Ok(None);
    };
    match accounts.user(&session.username).await? {
        Some(user) if !user.disabled => Ok(Some(Principal {
            name: session.username,
            kind: ActorKind::User,
            role: user.role,
            csrf: Some(session.csrf),
        })),
        _ => {
            sessions.remove(cookie.value());
            Ok(None)
        }
    }
}

/// The client's address as the socket saw it (forwarding headers are not trusted).
pub fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".into(), |a| a.ip().to_string())
}

/// Whether a browser request comes from this site: its `Origin` (when sent) is this node's
/// scheme and host, and `Sec-Fetch-Site` (when sent) is not `cross-site`.
pub fn same_origin(req: &HttpRequest) -> bool {
    let headers = req.headers();
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host());
    origin.to_str().is_ok_and(|o| o.eq_ignore_ascii_case(&own))
}
