//! Resource limits and retries: an alias bomb and a template bomb answered with 4xx while the
//! node keeps serving, the planned-step cap, cancel reaching a busy zero-delay loop, paged
//! `/events`, a capped endless SSE reply and `Idempotency-Key` on `POST /api/execute`.

use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use actix_web::{App, HttpResponse, HttpServer, web};
use actors::connectors::build_connector;
use actors::domain::events::ErrorKind;
use futures_util::stream;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};

async fn healthy(app: &TestApp) {
    assert_eq!(app.get("/api/health").await.0, 200);
}

fn field_named(resp: &Value, field: &str) -> bool {
    resp["details"].as_array().is_some_and(|d| {
        d.iter()
            .any(|e| e["field"].as_str().is_some_and(|f| f.contains(field)))
    })
}

#[actix_web::test]
async fn an_alias_bomb_is_answered_with_400_and_the_node_keeps_serving() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let items = vec!["x"; 50_000].join(", ");
    let refs = vec!["*w"; 1_000].join(", ");
    let wide = format!("name: bomb\nw: &w [{items}]\nflowConfig: [{refs}]\n");
    let mut laughs =
        String::from("name: laughs\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..9 {
        let r = vec![format!("*a{}", i - 1); 9].join(", ");
        laughs.push_str(&format!("a{i}: &a{i} [{r}]\n"));
    }
    laughs.push_str("flowConfig: [*a8]\n");
    for bomb in [wide, laughs] {
        let started = Instant::now();
        let resp = app
            .client
            .post(format!("{}/api/scenarios/import", app.address))
            .header("content-type", "application/yaml")
            .body(bomb)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400);
        let body: Value = resp.json().await.unwrap();
        assert!(body.to_string().contains("YAML"), "{body}");
        assert!(started.elapsed() < Duration::from_secs(20));
        healthy(&app).await;
    }
}

#[actix_web::test]
async fn a_template_bomb_and_a_loop_bomb_are_refused_at_validation() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let spin = "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}x{% endfor %}{% endfor %}{% endfor %}";
    let scenario =
        json!({"name": "bomb", "flowConfig": [{"type": "message", "config": {"content": spin}}]});
    let (status, resp) = app.post("/api/scenarios", &scenario).await;
    assert_eq!(status, 400, "{resp}");
    assert!(field_named(&resp, "flowConfig[0].config.content"), "{resp}");
    healthy(&app).await;
    let inner = json!({"type": "loop", "config": {"iterations": 1000, "steps": [{"type": "message", "config": {"content": "hi"}}]}});
    let middle = json!({"type": "loop", "config": {"iterations": 1000, "steps": [inner]}});
    let outer = json!({"type": "loop", "config": {"iterations": 1000, "steps": [middle]}});
    let (status, resp) = app
        .post(
            "/api/scenarios",
            &json!({"name": "loops", "flowConfig": [outer]}),
        )
        .await;
    assert_eq!(status, 400, "{resp}");
    assert!(field_named(&resp, "flowConfig"), "{resp}");
    let many = json!({"name": "many", "repetitions": 1_000_000, "flowConfig": [
        {"type": "loop", "config": {"iterations": 100, "steps": [{"type": "message", "config": {"content": "hi"}}]}}
    ]});
    let (status, resp) = app.post("/api/scenarios", &many).await;
    assert_eq!(status, 400, "{resp}");
    assert!(field_named(&resp, "repetitions"), "{resp}");
}

#[actix_web::test]
async fn cancel_reaches_a_busy_loop_of_zero_delays() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let spin = json!({"type": "loop", "config": {"iterations": 999, "steps": [
        {"type": "loop", "config": {"iterations": 999, "steps": [{"type": "delay", "config": {"durationMs": 0}}]}}
    ]}});
    let scenario = app
        .create(
            "/api/scenarios",
            &json!({"name": "spin", "repetitions": 1000, "flowConfig": [spin]}),
        )
        .await;
    let id = app
        .execute(&json!({"targetId": target, "scenarioId": scenario}))
        .await;
    app.wait_for_status(&id, &["RUNNING"]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    healthy(&app).await;
    let started = Instant::now();
    let (status, resp) = app
        .patch(&format!("/api/sessions/{id}"), &json!({"action": "cancel"}))
        .await;
    assert_eq!(status, 200, "{resp}");
    app.wait_for_status(&id, &["CANCELLED"]).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    healthy(&app).await;
}

#[actix_web::test]
async fn events_are_paged() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let id = app
        .execute(&json!({"targetId": target, "customMessages": ["a", "b", "c"]}))
        .await;
    app.wait_for_status(&id, &["COMPLETED"]).await;
    let (_, all) = app.get(&format!("/api/sessions/{id}/events")).await;
    let all = all["data"].as_array().unwrap().clone();
    assert!(all.len() > 4, "{all:?}");
    let (_, first) = app.get(&format!("/api/sessions/{id}/events?limit=2")).await;
    let first = first["data"].as_array().unwrap();
    assert_eq!(first.len(), 2);
    let after = first[1]["version"].as_i64().unwrap();
    let (_, rest) = app
        .get(&format!(
            "/api/sessions/{id}/events?afterVersion={after}&limit=5000"
        ))
        .await;
    assert_eq!(rest["data"].as_array().unwrap().len(), all.len() - 2);
    assert_eq!(rest["data"][0], all[2]);
    let (status, resp) = app.get(&format!("/api/sessions/{id}/events?limit=0")).await;
    assert_eq!(status, 400);
    assert_eq!(resp["details"][0]["field"], "limit");
}

#[actix_web::test]
async fn an_endless_sse_reply_is_cut_with_a_classified_error() {
    krawall::install_crypto_provider();
    let server = HttpServer::new(|| {
        App::new().default_service(web::to(|| async {
            let chunk = Bytes::from(format!(
                "data: {}\n\n",
                json!({"choices": [{"delta": {"content": "z".repeat(60_000)}}]})
            ));
            let endless = stream::repeat_with(move || Ok::<_, actix_web::Error>(chunk.clone()));
            HttpResponse::Ok()
                .content_type("text/event-stream")
                .streaming(endless)
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://{}/stream", server.addrs()[0]);
    actix_web::rt::spawn(server.run());
    let structure = json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "{{message}}"}]});
    let conn = crate::sse::target(url, structure, "choices.0.delta.content");
    let client = actors::connectors::Outbound::new(&Default::default()).unwrap();
    let mut connector = build_connector(&conn, &client).unwrap();
    let err = connector
        .send(&crate::helpers::outbound(uuid::Uuid::new_v4(), "hi"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol, "{err:?}");
    assert!(err.to_string().contains("exceeds"), "{err}");
}

#[actix_web::test]
async fn a_retried_execute_with_the_same_idempotency_key_runs_once() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let body = json!({"targetId": target, "customMessages": ["only once"]});
    let send = |body: Value, key: &'static str| {
        app.client
            .post(format!("{}/api/execute", app.address))
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    // The first try gives up before the answer (a client timeout); the retry must not run twice.
    let _ = app
        .client
        .post(format!("{}/api/execute", app.address))
        .header("idempotency-key", "job-42")
        .json(&body)
        .timeout(Duration::from_millis(1))
        .send()
        .await;
    let retry = send(body.clone(), "job-42").await.unwrap();
    assert_eq!(retry.status().as_u16(), 202);
    let retry: Value = retry.json().await.unwrap();
    let id = retry["data"]["sessionId"].as_str().unwrap().to_string();
    app.wait_for_status(&id, &["COMPLETED"]).await;
    let again: Value = send(body.clone(), "job-42")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["data"]["sessionId"], id.as_str());
    assert_eq!(again["data"]["status"], "COMPLETED");
    assert_eq!(again["data"]["replayed"], true);
    let other = json!({"targetId": target, "customMessages": ["something else"]});
    assert_eq!(send(other, "job-42").await.unwrap().status().as_u16(), 409);
    let (_, sessions) = app.get(&format!("/api/sessions?targetId={target}")).await;
    assert_eq!(
        sessions["data"]["sessions"].as_array().map(Vec::len),
        Some(1),
        "{sessions}"
    );
}
