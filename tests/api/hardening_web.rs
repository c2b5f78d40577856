//! Web hardening and secret exfiltration paths: JSON-only writes (a cross-site `text/plain`
//! POST creates nothing), the Host allow-list against DNS rebinding, security headers, secrets
//! that do not follow a target to another origin, health probes on the target's origin and
//! redirects that never carry credentials to another origin, credential-named headers and gRPC
//! metadata sealed and masked.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;

use crate::helpers::{Backend, spawn_app};

#[actix_web::test]
async fn a_cross_site_text_plain_post_is_refused_and_creates_nothing() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let body = app.mock_target("/v1/chat/completions").to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut req = app
            .client
            .post(format!("{}/api/targets", app.address))
            .header("origin", "https://evil.example")
            .body(body.clone());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 415, "{content_type:?}");
        let err: serde_json::Value = resp.json().await.unwrap();
        assert!(
            err["error"].as_str().unwrap().contains("Content-Type"),
            "{err}"
        );
    }
    let (_, list) = app.get("/api/targets").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0, "{list}");
    let (status, _) = app.post("/api/targets", &app.mock_target("/x")).await;
    assert_eq!(status, 201);
    // The YAML import takes YAML, but not a cross-site multipart upload.
    let resp = app
        .client
        .post(format!("{}/api/scenarios/import", app.address))
        .header("content-type", "multipart/form-data; boundary=b")
        .header("origin", "https://evil.example")
        .body("--b--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
}

#[actix_web::test]
async fn a_forged_host_is_refused_dns_rebinding() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let port = app.address.rsplit(':').next().unwrap().to_string();
    let get = |host: String| {
        app.client
            .get(format!("{}/api/targets", app.address))
            .header("host", host)
            .send()
    };
    let forged = get(format!("rebind.evil.example:{port}")).await.unwrap();
    assert_eq!(forged.status().as_u16(), 421);
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        assert_eq!(get(host).await.unwrap().status().as_u16(), 200);
    }
}

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    for path in [
        "/",
        "/targets",
        "/api/targets",
        "/api/nope",
        "/assets/css/app.css",
    ] {
        let resp = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
    }
}

#[actix_web::test]
async fn moving_a_target_to_another_origin_needs_its_secrets_again() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let id = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let (_, stored) = app.get(&format!("/api/targets/{id}")).await;
    let mut body = stored["data"].clone();
    assert_eq!(body["authConfig"]["token"], "********");
    body["endpoint"] = json!("http://127.0.0.1:9/v1/chat/completions");
    let (status, resp) = app.put(&format!("/api/targets/{id}"), &body).await;
    assert_eq!(status, 400, "{resp}");
    assert_eq!(resp["details"][0]["field"], "authConfig", "{resp}");
    let rule = resp["details"][0]["rule"].as_str().unwrap();
    assert!(
        rule.contains("re-enter secrets when changing origin"),
        "{rule}"
    );
    // Without authConfig at all, the stored secret would follow too.
    let mut bare = body.clone();
    bare.as_object_mut().unwrap().remove("authConfig");
    assert_eq!(app.put(&format!("/api/targets/{id}"), &bare).await.0, 400);
    // Same origin, another path: the masked secret stays.
    let mut same = stored["data"].clone();
    same["endpoint"] = json!(format!("{}/chat", app.mock.url()));
    assert_eq!(app.put(&format!("/api/targets/{id}"), &same).await.0, 200);
    // A new origin with the secret re-entered is fine.
    body["authConfig"] = json!({"token": "sk-for-the-new-host"});
    let (status, resp) = app.put(&format!("/api/targets/{id}"), &body).await;
    assert_eq!(status, 200, "{resp}");
}

#[actix_web::test]
async fn a_health_probe_on_another_origin_is_refused() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut body = app.mock_target("/v1/chat/completions");
    body["protocolConfig"] = json!({"healthCheckPath": "http://127.0.0.1:9/steal"});
    let (status, resp) = app.post("/api/targets", &body).await;
    assert_eq!(status, 400, "{resp}");
    assert!(
        resp.to_string().contains("protocolConfig.healthCheckPath"),
        "{resp}"
    );
    body["protocolConfig"] = json!({"healthCheckPath": "/healthz"});
    assert_eq!(app.post("/api/targets", &body).await.0, 201);
}

/// Two loopback servers: `a` redirects `/cross` to `b` and `/same` to its own `/ok`; `b`
/// counts the requests that reach it.
async fn redirect_pair() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let b = HttpServer::new(move || {
        let counter = counter.clone();
        App::new().default_service(web::to(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { HttpResponse::Ok().body("stolen") }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let b_url = format!("http://{}", b.addrs()[0]);
    actix_web::rt::spawn(b.run());
    let a = HttpServer::new(move || {
        let target = format!("{b_url}/collect");
        App::new()
            .route("/ok", web::to(|| async { HttpResponse::Ok().body("fine") }))
            .route(
                "/same",
                web::to(|| async {
                    HttpResponse::TemporaryRedirect()
                        .insert_header(("location", "/ok"))
                        .finish()
                }),
            )
            .route(
                "/cross",
                web::to(move || {
                    let target = target.clone();
                    async move {
                        HttpResponse::TemporaryRedirect()
                            .insert_header(("location", target))
                            .finish()
                    }
                }),
            )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let a_url = format!("http://{}", a.addrs()[0]);
    actix_web::rt::spawn(a.run());
    (a_url, hits)
}

#[actix_web::test]
async fn redirects_are_not_followed_to_another_origin() {
    let (a, hits) = redirect_pair().await;
    let client = actors::connectors::outbound_client(&Default::default())
        .build()
        .unwrap();
    let same = client.get(format!("{a}/same")).send().await.unwrap();
    assert_eq!(same.status().as_u16(), 200);
    assert_eq!(same.text().await.unwrap(), "fine");
    for header in [
        "x-api-key",
        "x-goog-api-key",
        "api-key",
        "authorization",
        "cookie",
    ] {
        let cross = client
            .post(format!("{a}/cross"))
            .header(header, "sk-secret")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(cross.status().as_u16(), 307, "{header}");
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the other origin was reached"
    );
}

#[actix_web::test]
async fn deny_private_egress_blocks_a_loopback_target_with_a_classified_error() {
    use actors::connectors::egress::{EgressMode, EgressPolicy};
    let (mut settings, dir) = crate::helpers::fresh_settings(Backend::Sqlite)
        .await
        .unwrap();
    settings.egress = EgressPolicy {
        mode: EgressMode::DenyPrivate,
        allow: Vec::new(),
    };
    let app =
        crate::helpers::spawn_with(settings, dir, krawall::mock::MockSettings::default()).await;
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let id = app
        .execute(&json!({"targetId": target, "customMessages": ["hi"]}))
        .await;
    app.wait_for_status(&id, &["COMPLETED", "FAILED"]).await;
    let (_, messages) = app.get(&format!("/api/sessions/{id}/messages")).await;
    let text = messages.to_string();
    assert!(text.contains("egress policy refuses 127.0.0.1"), "{text}");
    assert!(text.contains("connect"), "{text}");
}

#[actix_web::test]
async fn the_metadata_address_is_refused_by_default() {
    let client = actors::connectors::outbound_client(&Default::default())
        .build()
        .unwrap();
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
    ] {
        let err = client.get(url).send().await.unwrap_err();
        let mut chain = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            chain.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        assert!(chain.contains("egress policy refuses"), "{url}: {chain}");
    }
}

#[actix_web::test]
async fn credential_headers_are_sealed_masked_and_still_sent() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut body = app.mock_target("/v1/chat/completions");
    body["protocolConfig"] =
        json!({"headers": {"x-goog-api-key": "sk-header-secret", "x-trace": "t1"}});
    let id = app.create("/api/targets", &body).await;
    let (_, shown) = app.get(&format!("/api/targets/{id}")).await;
    let headers = &shown["data"]["protocolConfig"]["headers"];
    assert_eq!(headers["x-goog-api-key"], "********", "{shown}");
    assert_eq!(headers["x-trace"], "t1");
    let page = app
        .client
        .get(format!("{}/targets/{id}", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("sk-header-secret"));
    let events = app.core.store.read_all(0, 10_000).await.unwrap();
    assert!(
        events
            .iter()
            .all(|e| !e.payload.to_string().contains("sk-header-secret"))
    );
    // A PUT that sends the mask back keeps the stored value; the connector gets the plaintext.
    let mut update = shown["data"].clone();
    update["name"] = json!("renamed");
    let (status, resp) = app.put(&format!("/api/targets/{id}"), &update).await;
    assert_eq!(status, 200, "{resp}");
    let session = app
        .execute(&json!({"targetId": id, "customMessages": ["hi"]}))
        .await;
    app.wait_for_status(&session, &["COMPLETED"]).await;
    let seen: serde_json::Value = reqwest::get(format!("{}/__last_request", app.mock.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        seen["headers"]["x-goog-api-key"], "sk-header-secret",
        "{seen}"
    );
    // Moving to another origin with the header still masked is refused.
    update["endpoint"] = json!("http://127.0.0.1:9/v1/chat/completions");
    update["authConfig"] = json!({"token": "sk-new"});
    let (status, resp) = app.put(&format!("/api/targets/{id}"), &update).await;
    assert_eq!(status, 400, "{resp}");
}

#[actix_web::test]
async fn credential_grpc_metadata_is_sealed_masked_and_still_sent() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let grpc = krawall::mock::start_grpc_mock(
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        Default::default(),
    )
    .await
    .unwrap();
    let mut body = crate::protocols::targets(&app, &grpc.endpoint())
        .remove(3)
        .1;
    body["protocolConfig"]["metadata"] =
        json!({"x-api-key": "grpc-meta-secret", "x-tenant": "acme"});
    let id = app.create("/api/targets", &body).await;
    let (_, shown) = app.get(&format!("/api/targets/{id}")).await;
    let metadata = &shown["data"]["protocolConfig"]["metadata"];
    assert_eq!(metadata["x-api-key"], "********", "{shown}");
    assert_eq!(metadata["x-tenant"], "acme", "{shown}");
    let events = app.core.store.read_all(0, 10_000).await.unwrap();
    assert!(
        events
            .iter()
            .all(|e| !e.payload.to_string().contains("grpc-meta-secret"))
    );
    let session = app
        .execute(&json!({"targetId": id, "customMessages": ["hi"]}))
        .await;
    let done = app
        .wait_for_status(&session, &["COMPLETED", "FAILED"])
        .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let seen = grpc.last_metadata();
    assert_eq!(seen["x-api-key"], "grpc-meta-secret", "{seen:?}");
    assert_eq!(seen["x-tenant"], "acme", "{seen:?}");
    grpc.stop().await;
}
