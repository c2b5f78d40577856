//! Web hardening applied to every request: the Host allow-list (DNS rebinding), JSON-only write
//! bodies (415 otherwise, so a cross-site `text/plain` form cannot write) and the security
//! headers (CSP without inline script, `frame-ancestors 'none'`, `nosniff`, Referrer-Policy).

use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse, web};
use serde_json::json;

/// The Content-Security-Policy of every response: scripts, styles and fetches from this origin
/// only, no inline script or style, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Content types the YAML import accepts besides JSON (YAML is a superset of JSON).
const IMPORT_TYPES: &[&str] = &[
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "text/x-yaml",
    "multipart/form-data",
];
const IMPORT_PATH: &str = "/api/scenarios/import";

/// Which `Host` headers the node answers; built once from `--public-url` and the bind address.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    /// Lowercase `host` or `host:port` values; `None` = every host (non-loopback bind without
    /// `--public-url`).
    allowed: Option<Vec<String>>,
}

impl HostPolicy {
    /// Loopback names (`localhost`, `127.0.0.1`, `[::1]`) are always allowed: a browser sends
    /// them only for pages that are themselves on loopback. A rebinding attacker's name is not.
    pub fn new(bind: &str, public_urls: &[reqwest::Url]) -> HostPolicy {
        let bound: Option<SocketAddr> = bind.parse().ok();
        let wildcard_or_public = bound.is_none_or(|a| !a.ip().is_loopback());
        if public_urls.is_empty() && wildcard_or_public {
            tracing::warn!(
                bind,
                "no --public-url given for a non-loopback bind: any Host header is accepted \
                 (no DNS-rebinding protection)"
            );
            return HostPolicy { allowed: None };
        }
        let mut allowed: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()];
        if let Some(addr) = bound.filter(|a| !a.ip().is_unspecified()) {
            allowed.push(addr.to_string());
        }
        for url in public_urls {
            if let Some(host) = url.host_str() {
                let host = host.to_ascii_lowercase();
                if let Some(port) = url.port() {
                    allowed.push(format!("{host}:{port}"));
                } else {
                    allowed.push(host);
                }
            }
        }
        HostPolicy {
            allowed: Some(allowed),
        }
    }

    /// Whether a `Host` value (`name`, `name:port`, `[v6]:port`) is served.
    pub fn allows(&self, host: &str) -> bool {
        let Some(allowed) = &self.allowed else {
            return true;
        };
        let host = host.trim().to_ascii_lowercase();
        let name = strip_port(&host);
        allowed
            .iter()
            .any(|a| *a == host || (is_loopback(a) && a == name))
    }
}

fn is_loopback(name: &str) -> bool {
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

/// `name` of `name:port` / `[v6]:port`.
fn strip_port(host: &str) -> &str {
    if let Some(end) = host.find(']') {
        return &host[..=end];
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// The middleware: rejects a forged Host (421) and a write body that is not JSON (415), and
/// puts the security headers on every answer.
pub async fn harden(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, Error> {
    let refused = match req.app_data::<web::Data<HostPolicy>>() {
        Some(policy) => refusal(policy, req.request()),
        None => None,
    };
    if let Some(refused) = refused {
        let mut res = req.into_response(refused).map_into_right_body();
        security_headers(res.headers_mut());
        return Ok(res);
    }
    let mut res = next.call(req).await?.map_into_left_body();
    security_headers(res.headers_mut());
    Ok(res)
}

fn refusal(policy: &HostPolicy, req: &HttpRequest) -> Option<HttpResponse> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    if !policy.allows(&host) {
        return Some(error(
            StatusCode::MISDIRECTED_REQUEST,
            "Host",
            format!("Host {host:?} is not served here; add its URL with --public-url"),
        ));
    }
    let writes = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH);
    if writes && req.path().starts_with("/api/") {
        return content_type_refusal(req);
    }
    None
}

/// JSON write bodies only (the import also takes YAML and multipart uploads from this origin).
fn content_type_refusal(req: &HttpRequest) -> Option<HttpResponse> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    let Some(mime) = content_type else {
        return has_body(req).then(|| unsupported("a request body needs Content-Type"));
    };
    let json = mime == "application/json" || mime.ends_with("+json");
    if json {
        return None;
    }
    if req.path() == IMPORT_PATH && IMPORT_TYPES.contains(&mime.as_str()) {
        return cross_site(req).then(|| {
            error(
                StatusCode::FORBIDDEN,
                "Origin",
                "cross-site uploads are refused (Origin differs from Host)".into(),
            )
        });
    }
    Some(unsupported(&format!(
        "Content-Type must be application/json, got {mime:?}"
    )))
}

fn has_body(req: &HttpRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}

/// An `Origin` header naming another host than the request's `Host`.
fn cross_site(req: &HttpRequest) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    !origin_host.eq_ignore_ascii_case(host)
}

fn unsupported(rule: &str) -> HttpResponse {
    error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Content-Type",
        rule.into(),
    )
}

fn error(status: StatusCode, field: &str, message: String) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "success": false,
        "error": message,
        "details": [{"field": field, "rule": message}],
    }))
}

/// The headers every response carries. A Content-Security-Policy the handler set is kept: only
/// the reports set one (`report::content_security_policy`, `default-src 'none'` plus their
/// stylesheet's hash), stricter than this one except for that one inline stylesheet.
pub fn security_headers(headers: &mut HeaderMap) {
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    let pairs = [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
    ];
    for (name, value) in pairs {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
}

/// Creates the data dir 0700 and the embedded database file 0600 before SQLite opens it (its
/// `-wal`/`-shm` files take the database file's mode); tightens them when they already exist.
pub fn secure_data_dir(data_dir: &Path, sqlite_file: Option<&Path>) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)?;
    std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))?;
    let Some(db) = sqlite_file else {
        return Ok(());
    };
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(db)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_bind_allows_loopback_names_only() {
        let policy = HostPolicy::new("127.0.0.1:3000", &[]);
        assert!(policy.allows("127.0.0.1:3000"));
        assert!(policy.allows("localhost:3000"));
        assert!(policy.allows("[::1]:3000"));
        assert!(policy.allows("localhost"));
        assert!(!policy.allows("evil.example:3000"));
        assert!(!policy.allows("localhost.evil.example"));
        assert!(!policy.allows(""));
    }

    #[test]
    fn public_url_adds_its_host() {
        let urls = [reqwest::Url::parse("https://krawall.example.com").unwrap()];
        let policy = HostPolicy::new("0.0.0.0:3000", &urls);
        assert!(policy.allows("krawall.example.com"));
        assert!(policy.allows("KRAWALL.example.com"));
        assert!(!policy.allows("krawall.example.com:8443"));
        assert!(!policy.allows("other.example.com"));
        let urls = [reqwest::Url::parse("http://k.example:8080/").unwrap()];
        let policy = HostPolicy::new("0.0.0.0:3000", &urls);
        assert!(policy.allows("k.example:8080"));
        assert!(!policy.allows("k.example"));
    }

    #[test]
    fn data_dir_is_0700_and_the_database_0600() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let db = dir.join("krawall.db");
        secure_data_dir(&dir, Some(&db)).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&db), 0o600);
    }

    #[test]
    fn non_loopback_without_public_url_accepts_any_host() {
        assert!(HostPolicy::new("0.0.0.0:3000", &[]).allows("anything"));
    }
}
