//! The egress policy on WebSocket and gRPC targets, which open their own sockets instead of
//! going through the HTTP client: refused under `deny-private` before any TCP connection (runs
//! and test-connection probes), let through by `--egress-allow`, and link-local metadata
//! addresses refused unless explicitly allowed; `krawall worker` takes the same flags.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actors::connectors::egress::{EgressMode, EgressPolicy};
use actors::connectors::{Connector, GrpcConnector, WebSocketConnector};
use actors::domain::events::ErrorKind;
use actors::runtime::NodeRole;
use krawall::mock::{MockSettings, start_grpc_mock};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, fresh_settings, spawn_with};

fn deny_private(allow: &[&str]) -> EgressPolicy {
    EgressPolicy {
        mode: EgressMode::DenyPrivate,
        allow: allow.iter().map(|net| net.parse().unwrap()).collect(),
    }
}

async fn spawn_with_egress(egress: EgressPolicy) -> TestApp {
    let (mut settings, dir) = fresh_settings(Backend::Sqlite).await.unwrap();
    settings.egress = egress;
    spawn_with(settings, dir, MockSettings::default()).await
}

/// A TCP listener on loopback that only counts the connections it accepts.
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (port, accepted)
}

/// The WebSocket and gRPC target bodies of the protocol test, aimed at `ws` and `grpc`.
fn ws_and_grpc_targets(app: &TestApp, ws: &str, grpc: &str) -> Vec<(&'static str, Value)> {
    let mut targets = crate::protocols::targets(app, grpc);
    targets.retain(|(kind, _)| matches!(*kind, "WEBSOCKET" | "GRPC"));
    targets[0].1["endpoint"] = json!(ws);
    targets
}

async fn run_once(app: &TestApp, body: &Value) -> (String, Value) {
    let target = app.create("/api/targets", body).await;
    let done = run_once_on(app, &target).await;
    (target, done)
}

async fn run_once_on(app: &TestApp, target: &str) -> Value {
    let session = app
        .execute(&json!({"targetId": target, "customMessages": ["hello"]}))
        .await;
    app.wait_for_status(&session, &["COMPLETED", "FAILED", "CANCELLED"])
        .await
}

#[actix_web::test]
async fn deny_private_refuses_websocket_and_grpc_targets_before_connecting() {
    let app = spawn_with_egress(deny_private(&[])).await;
    let (port, accepted) = counting_listener().await;
    // A name (resolved, then checked) for WebSocket, an IP literal for gRPC.
    let ws = format!("ws://localhost:{port}/ws");
    let grpc = format!("http://127.0.0.1:{port}");
    for (kind, body) in ws_and_grpc_targets(&app, &ws, &grpc) {
        let (target, done) = run_once(&app, &body).await;
        assert_eq!(done["status"], "FAILED", "{kind}: {done}");
        let error = done["error"].as_str().unwrap_or_default();
        assert!(error.contains("egress policy refuses"), "{kind}: {error}");
        assert!(error.contains("connect"), "{kind}: {error}");
        let (status, probe) = app
            .post(&format!("/api/targets/{target}/test"), &json!({}))
            .await;
        assert_eq!(status, 200, "{kind}: {probe}");
        assert_eq!(probe["data"]["success"], false, "{kind}: {probe}");
        let error = probe["data"]["error"].as_str().unwrap_or_default();
        assert!(error.contains("egress policy refuses"), "{kind}: {error}");
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "a refused target was connected to"
    );
}

#[actix_web::test]
async fn an_explicit_allow_lets_websocket_and_grpc_through_deny_private() {
    let app = spawn_with_egress(deny_private(&["127.0.0.1/32"])).await;
    let grpc = start_grpc_mock(
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        MockSettings::default(),
    )
    .await
    .unwrap();
    let ws = format!("ws://127.0.0.1:{}/ws", app.mock.addr.port());
    for (kind, body) in ws_and_grpc_targets(&app, &ws, &grpc.endpoint()) {
        let (_, done) = run_once(&app, &body).await;
        assert_eq!(done["status"], "COMPLETED", "{kind}: {done}");
    }
    grpc.stop().await;
}

/// Connects with a short budget: a refusal is immediate, anything else (timeout, unreachable)
/// means the policy let the connection be attempted.
async fn try_connect(connector: &mut dyn Connector) -> Option<actors::connectors::ConnectorError> {
    tokio::time::timeout(Duration::from_secs(2), connector.connect())
        .await
        .ok()
        .and_then(Result::err)
}

#[actix_web::test]
async fn link_local_metadata_needs_an_explicit_allow_for_websocket_and_grpc() {
    let app = spawn_with_egress(EgressPolicy::default()).await;
    let explicit = EgressPolicy {
        allow: vec!["169.254.169.254/32".parse().unwrap()],
        ..EgressPolicy::default()
    };
    let targets = ws_and_grpc_targets(&app, "ws://169.254.169.254/ws", "http://169.254.169.254:80");
    for (kind, body) in targets {
        let mut conn = actors::connectors::TargetConnection {
            spec: serde_json::from_value(body.clone()).unwrap(),
            auth_config: body.get("authConfig").cloned().unwrap_or(json!({})),
        };
        if kind == "WEBSOCKET" {
            conn.spec.protocol_config = Some(json!({"connectTimeoutMs": 500}));
        }
        for (policy, refused) in [(EgressPolicy::default(), true), (explicit.clone(), false)] {
            let policy = Arc::new(policy);
            let mut connector: Box<dyn Connector> = match kind {
                "WEBSOCKET" => Box::new(WebSocketConnector::new(&conn, policy).unwrap()),
                _ => Box::new(GrpcConnector::new(&conn, policy).unwrap()),
            };
            let err = try_connect(connector.as_mut()).await;
            let by_policy = err
                .as_ref()
                .is_some_and(|e| e.message.contains("egress policy refuses 169.254.169.254"));
            assert_eq!(by_policy, refused, "{kind}: {err:?}");
            if refused {
                assert_eq!(err.map(|e| e.kind), Some(ErrorKind::Connect), "{kind}");
            }
        }
    }
}

/// A `krawall worker` process on the node's database with the given egress flags.
fn spawn_worker(
    app_settings: &krawall::config::Settings,
    egress: &[&str],
) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_krawall"))
        .arg("worker")
        .arg("--database-url")
        .arg(app_settings.database_url.as_deref().unwrap())
        .arg("--data-dir")
        .arg(&app_settings.data_dir)
        .args(["--lease-ttl-ms", "3000"])
        .args(egress)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

#[actix_web::test]
async fn worker_egress_flags_apply_to_the_sessions_it_runs() {
    let (mut settings, dir) = fresh_settings(Backend::Postgres).await.unwrap();
    settings.role = NodeRole::ServeNoDispatch;
    let node = settings.clone();
    let app = spawn_with(settings, dir, MockSettings::default()).await;
    let ws = format!("ws://127.0.0.1:{}/ws", app.mock.addr.port());
    let body = ws_and_grpc_targets(&app, &ws, "http://127.0.0.1:9")
        .remove(0)
        .1;
    let target = app.create("/api/targets", &body).await;
    let mut worker = spawn_worker(&node, &["--egress", "deny-private"]);
    let done = run_once_on(&app, &target).await;
    assert_eq!(done["status"], "FAILED", "{done}");
    let error = done["error"].as_str().unwrap_or_default();
    assert!(error.contains("egress policy refuses 127.0.0.1"), "{error}");
    worker.kill().await.unwrap();
    let mut worker = spawn_worker(
        &node,
        &["--egress", "deny-private", "--egress-allow", "127.0.0.1/32"],
    );
    let done = run_once_on(&app, &target).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    worker.kill().await.unwrap();
}
