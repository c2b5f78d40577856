//! Authentication and roles: 401 without credentials on every route outside the allow-list,
//! 403 below the needed role, token revoke, `krawall tokens create` against a running node, and
//! the refusal to serve a non-loopback address without authentication.

use actors::domain::account::Role;
use krawall::config::AuthMode;
use krawall::startup::Application;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, anonymous_client, bearer_client, fresh_settings, spawn_app,
};

/// `(method, path)` of every route: the `/api` registry (`routes::api_routes`, the list the
/// server and the OpenAPI document share) and the pages registered in `pages/configure.rs`.
fn registered_routes() -> Vec<(String, String)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut routes = vec![("get".to_string(), "/metrics".to_string())];
    let api = krawall::routes::api_routes(krawall::routes::ApiRoutes::documenting());
    for route in api.routes() {
        routes.push((route.method.clone(), route.path.clone()));
    }
    let source = std::fs::read_to_string(format!("{root}/src/pages/configure.rs")).unwrap();
    // `.route("PATH", web::METHOD()…)`.
    for chunk in source.split(".route(").skip(1) {
        if !chunk.trim_start().starts_with('"') {
            continue;
        }
        let path = chunk.split('"').nth(1).unwrap();
        let method = chunk.split("web::").nth(1).unwrap();
        let method = method.split("()").next().unwrap().to_string();
        routes.push((method, path.to_string()));
    }
    routes
}

#[actix_web::test]
async fn every_route_outside_the_allow_list_needs_credentials() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let anonymous = anonymous_client();
    let routes = registered_routes();
    assert!(routes.len() > 60, "{routes:?}");
    let nil = "00000000-0000-0000-0000-000000000000";
    for (method, path) in routes {
        let concrete = path
            .replace("{path:.*}", "css/app.css")
            .replace("{id}", nil)
            .replace("{delivery}", nil);
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = anonymous
            .request(method.clone(), app.url(&concrete))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let open =
            krawall::auth::OPEN_PATHS.contains(&path.as_str()) || path.starts_with("/assets/");
        if open {
            assert_ne!(r.status(), 401, "{method} {path} is on the allow-list");
        } else {
            assert_eq!(
                r.status(),
                401,
                "{method} {path} answered without credentials"
            );
        }
    }
    // A page navigation is sent to the login page instead.
    let r = anonymous
        .get(app.url("/sessions?status=RUNNING"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        "/login?next=/sessions%3Fstatus%3DRUNNING"
    );
    // A bad or unknown token is nobody.
    let r = bearer_client("krw_nope")
        .get(app.url("/api/targets"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("authentication required"),
        "{body}"
    );
    assert_eq!(app.get("/api/health").await.0, 200);
}

/// Accounts, audit and prices: 403 for an operator, 200 for an admin.
async fn admin_only_routes_refuse_an_operator(app: &TestApp, operator: &reqwest::Client) {
    for (method, path) in [
        ("GET", "/api/tokens"),
        ("GET", "/api/users"),
        ("GET", "/api/audit"),
        ("PUT", "/api/pricing"),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let body = json!({"models": [{"model": "m", "inputPerMTok": 1, "outputPerMTok": 2, "currency": "USD"}]});
        let r = operator
            .request(m.clone(), app.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "operator {method} {path}");
        let r = app
            .client
            .request(m, app.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "admin {method} {path}");
    }
}

async fn roles_are_enforced(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let viewer = app.client_with_role(Role::Viewer).await;
    let operator = app.client_with_role(Role::Operator).await;
    let target = app.mock_target("/v1/chat/completions");
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(
        status(viewer.get(app.url("/api/targets")).send().await.unwrap()),
        200
    );
    let r = viewer
        .post(app.url("/api/targets"))
        .json(&target)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("operator role"),
        "{body}"
    );
    assert_eq!(
        status(
            operator
                .post(app.url("/api/targets"))
                .json(&target)
                .send()
                .await
                .unwrap()
        ),
        201
    );
    admin_only_routes_refuse_an_operator(&app, &operator).await;
    let (status, me) = app.get("/api/auth/me").await;
    assert_eq!(
        (status, me["data"]["role"].as_str()),
        (200, Some("admin")),
        "{me}"
    );
}

#[actix_web::test]
async fn roles_are_enforced_sqlite() {
    roles_are_enforced(Backend::Sqlite).await;
}

#[actix_web::test]
async fn roles_are_enforced_postgres() {
    roles_are_enforced(Backend::Postgres).await;
}

#[actix_web::test]
async fn a_revoked_token_stops_working_and_tokens_are_never_listed_in_plaintext() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (status, created) = app
        .post("/api/tokens", &json!({"name": "ci", "role": "viewer"}))
        .await;
    assert_eq!(status, 201, "{created}");
    let token = created["data"]["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("krw_"));
    let id = created["data"]["id"].as_str().unwrap();
    let ci = bearer_client(&token);
    assert_eq!(
        ci.get(app.url("/api/sessions"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (status, list) = app.get("/api/tokens").await;
    assert_eq!(status, 200);
    assert!(!list.to_string().contains(&token[20..]), "{list}");
    let hash = actors::credentials::token_hash(&token);
    let events = app
        .core
        .store
        .read_types(&["ApiTokenCreated"])
        .await
        .unwrap();
    let stored: Vec<String> = events.iter().map(|e| e.payload.to_string()).collect();
    assert!(stored.iter().any(|p| p.contains(&hash)) && !stored.iter().any(|p| p.contains(&token)));
    assert_eq!(app.delete(&format!("/api/tokens/{id}")).await.0, 200);
    assert_eq!(
        ci.get(app.url("/api/sessions"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(app.delete(&format!("/api/tokens/{id}")).await.0, 409);
    let (_, list) = app.get("/api/tokens").await;
    let row = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap()
        .clone();
    assert!(row["revokedAtMs"].is_i64(), "{row}");
    let (status, bad) = app
        .post("/api/tokens", &json!({"name": "x", "role": "root"}))
        .await;
    assert_eq!(status, 400, "{bad}");
}

#[actix_web::test]
async fn tokens_create_works_while_the_server_runs() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let data_dir = app._dir.path().to_str().unwrap().to_string();
    let cli = |args: Vec<&str>| {
        let mut all = args.clone();
        all.extend(["--data-dir", data_dir.as_str()]);
        tokio::process::Command::new(env!("CARGO_BIN_EXE_krawall"))
            .args(all)
            .output()
    };
    let out = cli(vec![
        "tokens", "create", "--name", "pipeline", "--role", "operator",
    ])
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let pipeline = bearer_client(&token);
    let target = app.mock_target("/v1/chat/completions");
    let r = pipeline
        .post(app.url("/api/targets"))
        .json(&target)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = actors::credentials::token_id(&token).unwrap().to_string();
    let out = cli(vec!["tokens", "list"]).await.unwrap();
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(
        listed.contains(&id) && listed.contains("pipeline") && !listed.contains(&token),
        "{listed}"
    );
    let out = cli(vec!["tokens", "revoke", id.as_str()]).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = pipeline.get(app.url("/api/targets")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let out = cli(vec!["tokens", "create", "--name", "x", "--role", "root"])
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--role"));
}

#[actix_web::test]
async fn a_non_loopback_bind_without_authentication_is_refused() {
    let (mut settings, _dir) = fresh_settings(Backend::Sqlite).await.unwrap();
    settings.bind = "0.0.0.0:0".into();
    settings.auth = AuthMode::Off;
    let err = Application::build(&settings).await.err().unwrap();
    assert!(err.to_string().contains("--insecure-no-auth"), "{err}");
    settings.auth = AuthMode::InsecureOff;
    assert!(Application::build(&settings).await.is_ok());
    settings.auth = AuthMode::Required;
    assert!(Application::build(&settings).await.is_ok());
    // On loopback, --no-auth serves without credentials.
    settings.bind = "127.0.0.1:0".into();
    settings.auth = AuthMode::Off;
    let app = Application::build(&settings).await.unwrap();
    let url = format!("http://127.0.0.1:{}/api/targets", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    assert_eq!(
        anonymous_client().get(url).send().await.unwrap().status(),
        200
    );
}
