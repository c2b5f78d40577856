//! User management by admins: `PATCH /api/users/{username}` changes a role or disables a user,
//! effective at once on live dashboard sessions; the last enabled admin is protected; the
//! `/settings/users` page lists users and tokens for admins only.

use actors::domain::account::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, anonymous_client, spawn_app};

const PASSWORD: &str = "correct horse battery";

/// Logs `username` in; the session cookie, or the status when refused.
async fn login(app: &TestApp, username: &str) -> Result<String, u16> {
    let r = anonymous_client()
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "username={username}&password={}",
            PASSWORD.replace(' ', "+")
        ))
        .send()
        .await
        .unwrap();
    if r.status() != 303 {
        return Err(r.status().as_u16());
    }
    Ok(r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("krawall_session="))
        .unwrap())
}

/// `GET /api/auth/me` with a session cookie: the status and the role it reports.
async fn me(app: &TestApp, cookie: &str) -> (u16, Value) {
    let r = anonymous_client()
        .get(app.url("/api/auth/me"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or_default();
    (status, body["data"]["role"].clone())
}

async fn add_user(app: &TestApp, username: &str, role: &str) {
    let (status, body) = app
        .post(
            "/api/users",
            &json!({"username": username, "password": PASSWORD, "role": role}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

#[actix_web::test]
async fn a_role_change_counts_at_once_on_a_live_session() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    add_user(&app, "bob", "viewer").await;
    let bob = login(&app, "bob").await.unwrap();
    assert_eq!(me(&app, &bob).await, (200, json!("viewer")));
    let (status, body) = app
        .patch("/api/users/bob", &json!({"role": "operator"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!({"username": "bob", "role": "operator", "disabled": false})
    );
    assert_eq!(me(&app, &bob).await, (200, json!("operator")));
    let (_, users) = app.get("/api/users").await;
    let row = users["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "bob")
        .cloned()
        .unwrap();
    assert_eq!(
        (&row["role"], &row["disabled"]),
        (&json!("operator"), &json!(false))
    );
    let events = app
        .core
        .store
        .read_stream("user-bob")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect::<Vec<_>>();
    assert_eq!(events, ["UserCreated", "UserUpdated"]);
}

async fn a_disabled_user_cannot_log_in_and_its_session_ends(backend: Backend) {
    let app = spawn_app(backend).await.unwrap();
    add_user(&app, "carol", "operator").await;
    let carol = login(&app, "carol").await.unwrap();
    let (status, body) = app
        .patch("/api/users/carol", &json!({"disabled": true}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(me(&app, &carol).await.0, 401);
    assert_eq!(login(&app, "carol").await, Err(401));
    let (_, users) = app.get("/api/users").await;
    assert!(
        users["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "carol" && u["disabled"] == true),
        "{users}"
    );
    let (status, _) = app
        .patch("/api/users/carol", &json!({"disabled": false}))
        .await;
    assert_eq!(status, 200);
    let again = login(&app, "carol").await.unwrap();
    assert_eq!(me(&app, &again).await, (200, json!("operator")));
}

#[actix_web::test]
async fn a_disabled_user_cannot_log_in_and_its_session_ends_sqlite() {
    a_disabled_user_cannot_log_in_and_its_session_ends(Backend::Sqlite).await;
}

#[actix_web::test]
async fn a_disabled_user_cannot_log_in_and_its_session_ends_postgres() {
    a_disabled_user_cannot_log_in_and_its_session_ends(Backend::Postgres).await;
}

#[actix_web::test]
async fn the_last_enabled_admin_cannot_be_demoted_or_disabled() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    add_user(&app, "root", "admin").await;
    for change in [json!({"role": "operator"}), json!({"disabled": true})] {
        let (status, body) = app.patch("/api/users/root", &change).await;
        assert_eq!(status, 409, "{change}: {body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("last enabled admin"),
            "{body}"
        );
    }
    add_user(&app, "second", "admin").await;
    let (status, body) = app
        .patch("/api/users/root", &json!({"disabled": true}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = app
        .patch("/api/users/second", &json!({"role": "viewer"}))
        .await;
    assert_eq!(status, 409, "root is disabled, so second is the last admin");
}

#[actix_web::test]
async fn bad_user_changes_are_refused_with_the_field() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    add_user(&app, "dave", "viewer").await;
    for (body, field) in [
        (json!({}), "role"),
        (json!({"role": "root"}), "role"),
        (json!({"disabled": "yes"}), "disabled"),
        (json!({"password": "x"}), "password"),
    ] {
        let (status, resp) = app.patch("/api/users/dave", &body).await;
        assert_eq!(status, 400, "{body}: {resp}");
        assert_eq!(resp["details"][0]["field"], field, "{body}: {resp}");
    }
    let (status, _) = app
        .patch("/api/users/nobody", &json!({"role": "viewer"}))
        .await;
    assert_eq!(status, 404);
    let operator = app.client_with_role(Role::Operator).await;
    let r = operator
        .patch(app.url("/api/users/dave"))
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[actix_web::test]
async fn the_users_page_lists_users_and_tokens_for_admins_only() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    add_user(&app, "erin", "operator").await;
    let (status, token) = app
        .post(
            "/api/tokens",
            &json!({"name": "nightly-ci", "role": "viewer"}),
        )
        .await;
    assert_eq!(status, 201, "{token}");
    let secret = token["data"]["token"].as_str().unwrap().to_string();
    let page = app
        .client
        .get(app.url("/settings/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for expected in [
        "data-username=\"erin\"",
        "nightly-ci",
        "test-admin",
        "/assets/js/users.js",
    ] {
        assert!(html.contains(expected), "{expected} missing");
    }
    assert!(
        !html.contains(&secret),
        "the token secret is shown once, at creation only"
    );
    let operator = app.client_with_role(Role::Operator).await;
    let r = operator
        .get(app.url("/settings/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}
