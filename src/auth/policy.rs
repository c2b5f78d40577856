//! The access policy: which role each route needs. Every route needs at least `viewer` except
//! the explicit allow-list `OPEN_PATHS` (and the embedded assets).

use actix_web::http::Method;
use actors::domain::account::Role;

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No authentication (health check, login, first-run setup, assets).
    Open,
    /// An authenticated caller with at least this role.
    Role(Role),
}

/// Routes reachable without authentication (exact paths), besides `/assets/…`.
pub const OPEN_PATHS: &[&str] = &["/api/health", "/login", "/setup"];

/// Path prefixes only admins reach (any method).
const ADMIN_PREFIXES: &[&str] = &[
    "/api/users",
    "/api/tokens",
    "/api/audit",
    "/audit",
    "/settings/users",
];

/// The access `method path` needs.
pub fn required(method: &Method, path: &str) -> Access {
    if OPEN_PATHS.contains(&path) || path.starts_with("/assets/") {
        return Access::Open;
    }
    if ADMIN_PREFIXES
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
    {
        return Access::Role(Role::Admin);
    }
    let reads = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if path == "/api/pricing" && !reads {
        return Access::Role(Role::Admin);
    }
    if path == "/logout" {
        return Access::Role(Role::Viewer);
    }
    // Opening the live connection test runs a probe and records `TargetTested`: a write.
    if !reads || (path.starts_with("/api/targets/") && path.ends_with("/test/stream")) {
        return Access::Role(Role::Operator);
    }
    Access::Role(Role::Viewer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_need_viewer_writes_operator_accounts_admin() {
        let role = |m: Method, p: &str| required(&m, p);
        assert_eq!(role(Method::GET, "/api/health"), Access::Open);
        assert_eq!(role(Method::GET, "/assets/js/app.js"), Access::Open);
        assert_eq!(
            role(Method::GET, "/api/targets"),
            Access::Role(Role::Viewer)
        );
        assert_eq!(role(Method::GET, "/metrics"), Access::Role(Role::Viewer));
        assert_eq!(
            role(Method::POST, "/api/targets"),
            Access::Role(Role::Operator)
        );
        assert_eq!(
            role(Method::POST, "/api/execute"),
            Access::Role(Role::Operator)
        );
        assert_eq!(
            role(Method::GET, "/api/targets/x/test/stream"),
            Access::Role(Role::Operator)
        );
        assert_eq!(role(Method::PUT, "/api/pricing"), Access::Role(Role::Admin));
        assert_eq!(
            role(Method::GET, "/api/pricing"),
            Access::Role(Role::Viewer)
        );
        assert_eq!(role(Method::GET, "/api/tokens"), Access::Role(Role::Admin));
        assert_eq!(
            role(Method::DELETE, "/api/tokens/x"),
            Access::Role(Role::Admin)
        );
        assert_eq!(role(Method::GET, "/audit"), Access::Role(Role::Admin));
        assert_eq!(
            role(Method::GET, "/settings/users"),
            Access::Role(Role::Admin)
        );
        assert_eq!(role(Method::GET, "/settings"), Access::Role(Role::Viewer));
        assert_eq!(
            role(Method::GET, "/api/healthz"),
            Access::Role(Role::Viewer)
        );
        assert_eq!(role(Method::GET, "/api/usersx"), Access::Role(Role::Viewer));
    }
}
