//! Dashboard login: cookie session, CSRF token and Origin check on cookie writes, logout, the
//! login rate limit, the one-time setup page and the audit trail.

use std::time::Duration;

use actors::domain::account::Role;
use serde_json::Value;

use crate::helpers::{Backend, TestApp, anonymous_client, spawn_app};

const PASSWORD: &str = "correct horse battery";

async fn login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    anonymous_client()
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "username={username}&password={}&next=%2Ftargets",
            password.replace(' ', "+")
        ))
        .send()
        .await
        .unwrap()
}

/// The `name=value` of a `Set-Cookie` header and the whole header.
fn cookie(r: &reqwest::Response, name: &str) -> (String, String) {
    let header = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"));
    let pair = header.split(';').next().unwrap().to_string();
    (pair, header)
}

/// Logs `alice` (operator) in; returns the `Cookie` header value and the CSRF token.
async fn alice_session(app: &TestApp) -> (String, String) {
    app.core
        .accounts
        .create_user("alice", PASSWORD, Role::Operator, "test")
        .await
        .unwrap();
    assert_eq!(login(app, "alice", "wrong password!!").await.status(), 401);
    let r = login(app, "alice", PASSWORD).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/targets");
    let (session, header) = cookie(&r, "krawall_session");
    assert!(
        header.contains("HttpOnly") && header.contains("SameSite=Strict"),
        "{header}"
    );
    let (csrf_pair, csrf_header) = cookie(&r, "krawall_csrf");
    assert!(
        !csrf_header.contains("HttpOnly"),
        "scripts read it: {csrf_header}"
    );
    let csrf = csrf_pair.split_once('=').unwrap().1.to_string();
    let cookies = format!("{session}; {csrf_pair}");
    (cookies, csrf)
}

#[actix_web::test]
async fn login_sets_a_session_and_cookie_writes_need_csrf_and_same_origin() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (cookies, csrf) = alice_session(&app).await;
    let client = anonymous_client();
    let get = client
        .get(app.url("/api/targets"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    let target = app.mock_target("/v1/chat/completions");
    let write = |csrf: Option<&str>, origin: Option<&str>| {
        let mut rb = client
            .post(app.url("/api/targets"))
            .header("cookie", &cookies)
            .json(&target);
        if let Some(c) = csrf {
            rb = rb.header("x-csrf-token", c);
        }
        if let Some(o) = origin {
            rb = rb.header("origin", o);
        }
        rb.send()
    };
    let own = app.address.clone();
    let r = write(None, Some(&own)).await.unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("CSRF"), "{body}");
    assert_eq!(
        write(Some("forged"), Some(&own)).await.unwrap().status(),
        403
    );
    assert_eq!(
        write(Some(&csrf), Some("https://evil.example"))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(write(Some(&csrf), Some(&own)).await.unwrap().status(), 201);
    // A bearer-token write needs no CSRF token.
    assert_eq!(app.post("/api/targets", &target).await.0, 201);
    let out = client
        .post(app.url("/logout"))
        .header("cookie", &cookies)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    let after = client
        .get(app.url("/api/targets"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
}

#[actix_web::test]
async fn logins_are_rate_limited_per_user() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.core
        .accounts
        .create_user("bob", PASSWORD, Role::Viewer, "test")
        .await
        .unwrap();
    for _ in 0..5 {
        assert_eq!(login(&app, "bob", "not the password").await.status(), 401);
    }
    let r = login(&app, "bob", PASSWORD).await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("Too many login attempts"));
}

#[actix_web::test]
async fn setup_creates_the_first_admin_once() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let client = anonymous_client();
    assert_eq!(
        client.get(app.url("/setup")).send().await.unwrap().status(),
        200
    );
    let r = client
        .post(app.url("/setup"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=root&password=short")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = client
        .post(app.url("/setup"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "username=root&password={}",
            PASSWORD.replace(' ', "+")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    cookie(&r, "krawall_session");
    let again = client.get(app.url("/setup")).send().await.unwrap();
    assert_eq!(
        (
            again.status().as_u16(),
            again.headers()["location"].to_str().unwrap()
        ),
        (303, "/login")
    );
    assert_eq!(login(&app, "root", PASSWORD).await.status(), 303);
}

#[actix_web::test]
async fn logins_are_rate_limited_per_address() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    // Every attempt counts against the client address, whatever the username.
    for n in 0..20 {
        let r = login(&app, &format!("nobody{n}"), "not the password").await;
        assert_eq!(r.status(), 401, "attempt {n}");
    }
    let r = login(&app, "somebody-new", "not the password").await;
    assert_eq!(r.status(), 429);
}

/// This machine's address on its default route (not loopback): where a remote client comes from.
fn non_loopback_address() -> std::net::IpAddr {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    probe
        .connect("203.0.113.1:9")
        .expect("the setup test needs a non-loopback interface with a default route");
    let ip = probe.local_addr().unwrap().ip();
    assert!(!ip.is_loopback(), "{ip}");
    ip
}

#[actix_web::test]
async fn setup_is_refused_to_a_client_that_is_not_on_loopback() {
    let (mut settings, dir) = crate::helpers::fresh_settings(Backend::Sqlite)
        .await
        .unwrap();
    settings.bind = "0.0.0.0:0".into();
    let app = crate::helpers::spawn_with(settings, dir, Default::default()).await;
    let port = app.address.rsplit(':').next().unwrap().to_string();
    let remote = format!("http://{}:{port}/setup", non_loopback_address());
    let client = anonymous_client();
    let page = client.get(&remote).send().await.unwrap();
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("loopback"));
    let r = client
        .post(&remote)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "username=intruder&password={}",
            PASSWORD.replace(' ', "+")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(app.core.accounts.user("intruder").await.unwrap().is_none());
    // The same node still offers it on loopback.
    let local = client.get(app.url("/setup")).send().await.unwrap();
    assert_eq!(local.status(), 200);
}

/// Polls `GET /api/audit?{query}` until it has an entry matching `pred`.
async fn audit_entry(app: &TestApp, query: &str, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let (status, body) = app.get(&format!("/api/audit?{query}")).await;
        assert_eq!(status, 200, "{body}");
        if let Some(e) = body["data"]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| pred(e))
        {
            return e.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no audit entry for {query}");
}

#[actix_web::test]
async fn writes_and_logins_are_audited() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let operator = app.client_with_role(Role::Operator).await;
    let viewer = app.client_with_role(Role::Viewer).await;
    let target = app.mock_target("/v1/chat/completions");
    let r = operator
        .post(app.url("/api/targets"))
        .json(&target)
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    viewer
        .delete(app.url(&format!("/api/targets/{id}")))
        .send()
        .await
        .unwrap();
    login(&app, "mallory", "guessing password").await;
    let e = audit_entry(&app, "actor=test-operator", |e| {
        e["action"] == "POST /api/targets"
    })
    .await;
    assert_eq!(
        (e["actorKind"].as_str(), e["status"].as_i64()),
        (Some("token"), Some(201)),
        "{e}"
    );
    assert_eq!(
        (e["outcome"].as_str(), e["sourceIp"].as_str()),
        (Some("succeeded"), Some("127.0.0.1"))
    );
    let e = audit_entry(&app, "outcome=denied", |e| e["actor"] == "test-viewer").await;
    assert_eq!(e["action"], "DELETE /api/targets/{id}");
    assert_eq!(e["object"], format!("/api/targets/{id}"));
    let e = audit_entry(&app, "action=login", |e| e["actor"] == "mallory").await;
    assert_eq!(e["outcome"], "failed");
    let html = app
        .client
        .get(app.url("/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("audit-row") && html.contains("mallory"),
        "{html}"
    );
}

#[actix_web::test]
async fn the_audit_log_pages_backwards() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    for _ in 0..3 {
        login(&app, "nobody", "guessing password").await;
    }
    audit_entry(&app, "action=login", |e| e["actor"] == "nobody").await;
    let (status, page) = app.get("/api/audit?limit=1").await;
    assert_eq!(status, 200);
    let before = page["data"]["nextBefore"].as_i64().unwrap();
    let (_, older) = app
        .get(&format!("/api/audit?limit=1&before={before}"))
        .await;
    assert!(older["data"]["entries"][0]["position"].as_i64().unwrap() < before);
    assert_eq!(app.get("/api/audit?limit=0").await.0, 400);
}
