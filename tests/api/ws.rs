//! The WebSocket connector against the mock chatbot's `/ws` and `/socket.io/` endpoints:
//! conversations, auth on the wire, id correlation, streaming, timeouts, reconnects, Socket.IO
//! and resource leaks over 1 000 sessions.

use std::time::{Duration, Instant};

use actors::connectors::{
    Connector, ConnectorError, OutboundMessage, Reply, TargetConnection, WebSocketConnector,
};
use actors::domain::events::ErrorKind;
use actors::domain::target::{
    AuthType, ConnectorType, RequestTemplate, ResponseTemplate, TargetSpec,
};
use krawall::mock::{MockServer, MockSettings, start_mock};
use serde_json::{Value, json};
use tokio::sync::RwLock;

/// WebSocket tests share it; the leak test takes it exclusively so that its fd counts are not
/// disturbed by the other WebSocket tests of this binary.
static WS_TESTS: RwLock<()> = RwLock::const_new(());

/// The default persona's plain acknowledgements, in session order.
const ACKS: [&str; 3] = [
    "Thanks for your message!",
    "Got it.",
    "That's a great question.",
];

async fn start(settings: MockSettings) -> MockServer {
    krawall::install_crypto_provider();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    start_mock(listener, settings).await.unwrap()
}

fn ws_url(mock: &MockServer, path: &str) -> String {
    format!("ws://127.0.0.1:{}{path}", mock.addr.port())
}

fn target(endpoint: String, auth_type: AuthType, auth: Value, config: Value) -> TargetConnection {
    TargetConnection {
        spec: TargetSpec {
            name: "ws".into(),
            description: None,
            rate_limit: None,
            connector_type: ConnectorType::Websocket,
            endpoint,
            auth_type,
            request_template: RequestTemplate {
                history_path: None,
                history_item: None,
                history_roles: Default::default(),
                system_path: None,
                message_path: "message".into(),
                structure: Some(json!({"client": "krawall"})),
            },
            response_template: ResponseTemplate {
                response_path: "data.content".into(),
                token_usage_path: None,
                error_path: Some("error".into()),
            },
            protocol_config: Some(config),
        },
        auth_config: auth,
    }
}

fn connector(endpoint: String, config: Value) -> WebSocketConnector {
    WebSocketConnector::new(
        &target(endpoint, AuthType::None, Value::Null, config),
        Default::default(),
    )
    .unwrap()
}

async fn send(c: &mut WebSocketConnector, text: &str) -> Result<Reply, ConnectorError> {
    let (text, session_id, inject) = (text.into(), uuid::Uuid::new_v4(), None);
    c.send(&OutboundMessage {
        text,
        session_id,
        message_index: 0,
        context: None,
        inject,
    })
    .await
}

async fn mock_json(mock: &MockServer, path: &str) -> Value {
    let response = reqwest::get(format!("{}{path}", mock.url())).await;
    response.unwrap().json().await.unwrap()
}

async fn open_connections(mock: &MockServer) -> u64 {
    mock_json(mock, "/__ws_connections").await["connections"]
        .as_u64()
        .unwrap()
}

#[actix_web::test]
async fn ws_multi_turn_conversation_keeps_its_session() {
    let _shared = WS_TESTS.read().await;
    let mock = start(MockSettings::default()).await;
    for config in [json!({"idPath": "id"}), json!({})] {
        let mut c = connector(ws_url(&mock, "/ws"), config.clone());
        c.connect().await.unwrap();
        assert_eq!(open_connections(&mock).await, 1);
        for (i, text) in ["Hello there", "How are you?", "Thanks"]
            .into_iter()
            .enumerate()
        {
            let reply = send(&mut c, text).await.unwrap();
            assert!(
                reply.text.starts_with(ACKS[i]),
                "{config}: turn {i}: {}",
                reply.text
            );
            assert!(!reply.tokens.estimated, "usage read from the reply frame");
            assert_eq!(reply.json["type"], "message");
            assert!(reply.stream.is_none());
        }
        c.disconnect().await;
        wait_for_connections(&mock, 0).await;
    }
    mock.stop().await;
}

#[actix_web::test]
async fn ws_auth_is_on_the_wire() {
    let _shared = WS_TESTS.read().await;
    let mock = start(MockSettings::default()).await;
    let config = json!({"subprotocol": "krawall.v1", "authInSubprotocol": true, "idPath": "id"});
    let conn = target(
        ws_url(&mock, "/ws"),
        AuthType::BearerToken,
        json!({"token": "tok-123"}),
        config,
    );
    let mut c = WebSocketConnector::new(&conn, Default::default()).unwrap();
    send(&mut c, "hi").await.unwrap();
    let seen = mock_json(&mock, "/__last_request").await;
    assert_eq!(seen["path"], "/ws");
    assert_eq!(seen["headers"]["authorization"], "Bearer tok-123");
    assert_eq!(
        seen["headers"]["sec-websocket-protocol"],
        "krawall.v1, tok-123"
    );
    assert!(!format!("{c:?}").contains("tok-123"));
    c.disconnect().await;

    let auth = json!({"apiKey": "key-456", "location": "query", "paramName": "token"});
    let conn = target(
        ws_url(&mock, "/ws?persona=support"),
        AuthType::ApiKey,
        auth,
        json!({}),
    );
    let mut c = WebSocketConnector::new(&conn, Default::default()).unwrap();
    let reply = send(&mut c, "My order is broken").await.unwrap();
    let seen = mock_json(&mock, "/__last_request").await;
    assert_eq!(seen["query"], "persona=support&token=key-456");
    assert_eq!(seen["authorization_present"], false);
    assert!(!reply.text.is_empty());
    c.disconnect().await;
    mock.stop().await;
}

#[actix_web::test]
async fn ws_ids_correlate_concurrent_and_abandoned_requests() {
    let _shared = WS_TESTS.read().await;
    let jittery = MockSettings {
        latency_ms: 20,
        jitter_ms: 80,
        ..MockSettings::default()
    };
    let mock = start(jittery).await;
    let lanes = (0..5).map(|lane| {
        let endpoint = ws_url(&mock, "/ws");
        async move {
            let mut c = connector(endpoint, json!({"idPath": "id"}));
            for turn in 0..3 {
                let topic = format!("topic-{lane}-{turn}");
                let reply = send(&mut c, &format!("xml {topic}")).await.unwrap();
                assert!(reply.text.contains(&topic), "{topic}: {}", reply.text);
                assert_eq!(reply.json["id"].as_str().map(str::len), Some(36));
            }
            c.disconnect().await;
        }
    });
    futures_util::future::join_all(lanes).await;

    let slow = start(MockSettings {
        latency_ms: 300,
        ..MockSettings::default()
    })
    .await;
    let mut c = connector(ws_url(&slow, "/ws"), json!({"idPath": "id"}));
    c.connect().await.unwrap();
    let abandoned =
        tokio::time::timeout(Duration::from_millis(100), send(&mut c, "xml apples")).await;
    assert!(abandoned.is_err(), "the caller timed out");
    let reply = send(&mut c, "xml bananas").await.unwrap();
    assert!(
        reply.text.contains("bananas") && !reply.text.contains("apples"),
        "{}",
        reply.text
    );
    assert_eq!(
        open_connections(&slow).await,
        1,
        "the same connection was kept"
    );
    c.disconnect().await;
    slow.stop().await;
    mock.stop().await;
}

#[actix_web::test]
async fn ws_streamed_reply_is_joined_with_timing() {
    let _shared = WS_TESTS.read().await;
    let mock = start(MockSettings {
        latency_ms: 30,
        ..MockSettings::default()
    })
    .await;
    let text = "Please elaborate on streaming";
    let mut plain = connector(ws_url(&mock, "/ws"), json!({"idPath": "id"}));
    let expected = send(&mut plain, text).await.unwrap().text;
    plain.disconnect().await;
    let done =
        json!({"idPath": "id", "streaming": {"doneMarkerPath": "type", "doneValue": "done"}});
    let idle = json!({"replyMatcher": {"path": "type", "equals": "chunk"}, "streaming": {"idleGapMs": 150}});
    for config in [done, idle] {
        let mut c = connector(ws_url(&mock, "/ws?stream=1"), config.clone());
        c.connect().await.unwrap();
        let started = Instant::now();
        let reply = send(&mut c, text).await.unwrap();
        let total_ms = started.elapsed().as_millis() as u64;
        assert_eq!(reply.text, expected, "{config}");
        let stream = reply.stream.unwrap();
        assert!(stream.chunks > 1, "{stream:?}");
        assert!(
            stream.ttft_ms >= 30 && stream.ttft_ms < total_ms,
            "{stream:?} total {total_ms}"
        );
        assert!(
            stream.inter_chunk_max_ms >= 10 && stream.inter_chunk_mean_ms > 5.0,
            "{stream:?}"
        );
        c.disconnect().await;
    }
    mock.stop().await;
}

#[actix_web::test]
async fn ws_timeouts_and_error_frames_are_classified() {
    let _shared = WS_TESTS.read().await;
    let slow = start(MockSettings {
        latency_ms: 1500,
        ..MockSettings::default()
    })
    .await;
    let mut c = connector(
        ws_url(&slow, "/ws"),
        json!({"idPath": "id", "timeoutMs": 200}),
    );
    let started = Instant::now();
    let err = send(&mut c, "hello").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(1000));
    c.disconnect().await;
    slow.stop().await;

    let mock = start(MockSettings::default()).await;
    let mut c = connector(
        ws_url(&mock, "/ws?persona=rate-limited"),
        json!({"idPath": "id"}),
    );
    send(&mut c, "one").await.unwrap();
    send(&mut c, "two").await.unwrap();
    let err = send(&mut c, "three").await.unwrap_err();
    assert_eq!(
        (err.kind, err.status),
        (ErrorKind::RateLimited, Some(429)),
        "{err:?}"
    );
    assert!(
        (2000..=4000).contains(&err.retry_after_ms.unwrap()),
        "{err:?}"
    );
    c.disconnect().await;
    mock.stop().await;
}

#[actix_web::test]
async fn ws_reconnects_after_the_server_drops_the_connection() {
    let _shared = WS_TESTS.read().await;
    let mock = start(MockSettings::default()).await;
    let mut c = connector(ws_url(&mock, "/ws?drop_after=1"), json!({"idPath": "id"}));
    c.connect().await.unwrap();
    for _ in 0..3 {
        let reply = send(&mut c, "Hello there").await.unwrap();
        assert!(
            reply.text.starts_with(ACKS[0]),
            "a fresh connection is a fresh session"
        );
    }
    c.disconnect().await;

    let config = json!({"idPath": "id", "reconnect": {"maxAttempts": 3, "initialDelayMs": 20, "maxDelayMs": 40}});
    let mut c = connector(ws_url(&mock, "/ws?drop_after=1"), config);
    send(&mut c, "Hello there").await.unwrap();
    mock.stop().await;
    let err = send(&mut c, "anyone there?").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connect, "{err:?}");
    assert!(
        err.message
            .starts_with("gave up after 3 connection attempts"),
        "{}",
        err.message
    );
    c.disconnect().await;

    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("ws://{}/ws", dead.local_addr().unwrap());
    drop(dead);
    let mut c = connector(endpoint, json!({}));
    assert_eq!(c.connect().await.unwrap_err().kind, ErrorKind::Connect);
}

#[actix_web::test]
async fn ws_socket_io_round_trip() {
    let _shared = WS_TESTS.read().await;
    let mock = start(MockSettings::default()).await;
    let endpoint = ws_url(&mock, "/socket.io/?EIO=4&transport=websocket");
    for config in [
        json!({"socketIo": {"enabled": true}}),
        json!({"protocol": "socket.io", "socketIo": {"namespace": "/chat", "event": "ask"}}),
    ] {
        let mut c = connector(endpoint.clone(), config.clone());
        c.connect().await.unwrap();
        for (i, text) in ["Hello there", "How are you?"].into_iter().enumerate() {
            let reply = send(&mut c, text).await.unwrap();
            assert!(reply.text.starts_with(ACKS[i]), "{config}: {}", reply.text);
            assert!(reply.raw.starts_with("42"), "{}", reply.raw);
            assert!(!reply.tokens.estimated);
        }
        let health = c.health().await;
        assert!(health.healthy, "{health:?}");
        c.disconnect().await;
    }
    wait_for_connections(&mock, 0).await;
    mock.stop().await;
}

async fn wait_for_connections(mock: &MockServer, expected: u64) -> u64 {
    let mut open = open_connections(mock).await;
    for _ in 0..100 {
        if open == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        open = open_connections(mock).await;
    }
    assert_eq!(open, expected, "open WebSocket connections on the mock");
    open
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[actix_web::test]
async fn ws_no_leaks_over_1000_sessions() {
    const SESSIONS: usize = 1000;
    const TOLERANCE: usize = 16;
    let _exclusive = WS_TESTS.write().await;
    let mock = start(MockSettings::default()).await;
    let endpoint = ws_url(&mock, "/ws");
    let mut warmup = connector(endpoint.clone(), json!({"idPath": "id"}));
    send(&mut warmup, "warm up").await.unwrap();
    warmup.disconnect().await;
    wait_for_connections(&mock, 0).await;
    let fds_before = open_fds();
    let started = Instant::now();
    for i in 0..SESSIONS {
        let mut c = connector(endpoint.clone(), json!({"idPath": "id"}));
        c.connect().await.unwrap();
        let reply = send(&mut c, &format!("xml session {i}")).await.unwrap();
        assert!(reply.text.contains(&format!("session {i}")));
        c.disconnect().await;
    }
    let elapsed = started.elapsed();
    let open = wait_for_connections(&mock, 0).await;
    let mut fds_after = open_fds();
    for _ in 0..50 {
        if fds_after <= fds_before + TOLERANCE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        fds_after = open_fds();
    }
    eprintln!(
        "ws leak check: {SESSIONS} sessions in {elapsed:?}; fds before {fds_before}, after {fds_after}; open mock connections after {open}"
    );
    assert!(
        fds_after <= fds_before + TOLERANCE,
        "fds grew from {fds_before} to {fds_after}"
    );
    mock.stop().await;
}
