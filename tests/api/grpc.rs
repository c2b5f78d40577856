//! The gRPC connector against the in-process gRPC mock: unary and streaming conversations,
//! metadata auth on the wire, error classification, `validate_config`, health and TLS.

use std::time::{Duration, Instant};

use actors::connectors::grpc::validate_config;
use actors::connectors::{
    Connector, ConnectorError, GrpcConnector, OutboundMessage, Reply, TargetConnection,
};
use actors::domain::events::ErrorKind;
use actors::domain::target::{
    AuthType, ConnectorType, RequestTemplate, ResponseTemplate, TargetSpec,
};
use krawall::mock::{
    GrpcMock, GrpcMockOptions, GrpcMockTls, MockSettings, start_grpc_mock, start_grpc_mock_with,
};
use serde_json::{Value, json};
use uuid::Uuid;

const PROTO: &str = include_str!("../../proto/krawall_mock.proto");

fn listener() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

async fn mock_with(settings: MockSettings, options: GrpcMockOptions) -> GrpcMock {
    krawall::install_crypto_provider();
    start_grpc_mock_with(listener(), settings, options)
        .await
        .unwrap()
}

async fn mock() -> GrpcMock {
    krawall::install_crypto_provider();
    start_grpc_mock(listener(), MockSettings::default())
        .await
        .unwrap()
}

fn target(endpoint: String, config: Value) -> TargetConnection {
    let mut protocol_config = json!({"protoContent": PROTO});
    if let (Some(base), Value::Object(extra)) = (protocol_config.as_object_mut(), config) {
        base.extend(extra);
    }
    TargetConnection {
        spec: TargetSpec {
            name: "grpc mock".into(),
            description: None,
            rate_limit: None,
            connector_type: ConnectorType::Grpc,
            endpoint,
            auth_type: AuthType::None,
            request_template: RequestTemplate {
                history_path: None,
                history_item: None,
                history_roles: Default::default(),
                system_path: None,
                message_path: "message".into(),
                structure: Some(json!({"persona": "default"})),
            },
            response_template: ResponseTemplate {
                response_path: "content".into(),
                token_usage_path: None,
                error_path: None,
            },
            protocol_config: Some(protocol_config),
        },
        auth_config: Value::Null,
    }
}

fn message(text: &str, session_id: Uuid, index: u32) -> OutboundMessage {
    OutboundMessage {
        text: text.into(),
        session_id,
        message_index: index,
        context: None,
        inject: None,
    }
}

async fn send(conn: &TargetConnection, text: &str) -> Result<Reply, ConnectorError> {
    let mut connector = GrpcConnector::new(conn, Default::default()).unwrap();
    connector.connect().await?;
    connector.send(&message(text, Uuid::new_v4(), 0)).await
}

#[actix_web::test]
async fn unary_multi_turn_conversation_reads_text_and_usage() {
    let mock = mock().await;
    let mut connector =
        GrpcConnector::new(&target(mock.endpoint(), json!({})), Default::default()).unwrap();
    connector.connect().await.unwrap();
    let session = Uuid::new_v4();
    for (i, text) in ["Hello there", "What can you do?", "Thanks, bye"]
        .iter()
        .enumerate()
    {
        let reply = connector
            .send(&message(text, session, i as u32))
            .await
            .unwrap();
        assert!(!reply.text.is_empty(), "{reply:?}");
        assert_eq!(reply.json["content"], Value::String(reply.text.clone()));
        assert!(!reply.tokens.estimated, "usage comes from the reply");
        let usage = &reply.json["usage"];
        assert_eq!(reply.tokens.input, usage["prompt_tokens"].as_u64().unwrap());
        assert_eq!(
            reply.tokens.output,
            usage["completion_tokens"].as_u64().unwrap()
        );
        assert!(reply.stream.is_none());
    }
    assert_eq!(mock.last_metadata()["x-session-id"], session.to_string());
    connector.disconnect().await;
    mock.stop().await;
}

#[actix_web::test]
async fn server_streaming_concatenates_chunks_and_records_ttft() {
    let mock = mock().await;
    let config = json!({"methodName": "StreamMessage", "metadata": {"x-chunk-delay-ms": "20"}});
    let conn = target(mock.endpoint(), config);
    let started = Instant::now();
    let reply = send(&conn, "Tell me something long please").await.unwrap();
    let total_ms = started.elapsed().as_millis() as u64;
    let stream = reply.stream.unwrap();
    assert!(stream.chunks > 1, "{stream:?}");
    assert!(
        stream.ttft_ms < total_ms,
        "ttft {} total {total_ms}",
        stream.ttft_ms
    );
    assert!(stream.inter_chunk_max_ms >= 15, "{stream:?}");
    assert!(!reply.text.is_empty());
    assert_eq!(reply.json["content"], Value::String(reply.text.clone()));
    assert_eq!(reply.json["done"], true);
    assert!(!reply.tokens.estimated);
    assert_eq!(reply.raw.lines().count() as u64, stream.chunks + 1);
    mock.stop().await;
}

#[actix_web::test]
async fn auth_travels_as_metadata() {
    let mock = mock().await;
    let mut conn = target(mock.endpoint(), json!({"metadata": {"X-Tenant": "acme"}}));
    conn.spec.auth_type = AuthType::BearerToken;
    conn.auth_config = json!({"token": "sk-grpc-1"});
    send(&conn, "hi").await.unwrap();
    let seen = mock.last_metadata();
    assert_eq!(seen["authorization"], "Bearer sk-grpc-1");
    assert_eq!(seen["x-tenant"], "acme");
    conn.spec.auth_type = AuthType::ApiKey;
    conn.auth_config = json!({"apiKey": "key-2"});
    send(&conn, "hi").await.unwrap();
    let seen = mock.last_metadata();
    assert_eq!(seen["x-api-key"], "key-2");
    assert!(!seen.contains_key("authorization"));
    conn.auth_config = json!({"apiKey": "key-3", "headerName": "X-Custom-Key"});
    send(&conn, "hi").await.unwrap();
    assert_eq!(mock.last_metadata()["x-custom-key"], "key-3");
    let debug = format!(
        "{:?}",
        GrpcConnector::new(&conn, Default::default()).unwrap()
    );
    assert!(!debug.contains("key-3"), "{debug}");
    mock.stop().await;
}

#[actix_web::test]
async fn rate_limited_persona_is_classified_with_retry_after() {
    let mock = mock().await;
    let mut conn = target(mock.endpoint(), json!({}));
    conn.spec.request_template.structure = Some(json!({"persona": "rate-limited"}));
    let mut connector = GrpcConnector::new(&conn, Default::default()).unwrap();
    let session = Uuid::new_v4();
    connector.send(&message("one", session, 0)).await.unwrap();
    connector.send(&message("two", session, 1)).await.unwrap();
    let err = connector
        .send(&message("three", session, 2))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited, "{err:?}");
    assert_eq!(err.status, Some(8));
    let retry = err.retry_after_ms.unwrap();
    assert!((2000..=4000).contains(&retry), "{retry}");
    mock.stop().await;
}

#[actix_web::test]
async fn validate_config_names_the_field() {
    let conn = target("127.0.0.1:1".into(), json!({"methodName": "Shout"}));
    let errors: Vec<String> = validate_config(&conn.spec)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        vec![
            "protocolConfig.methodName: no method \"Shout\" in service \"krawall.mock.v1.ChatService\"; available: SendMessage, StreamMessage"
        ]
    );
    let conn = target("127.0.0.1:1".into(), json!({"serviceName": "Nope"}));
    let errors = validate_config(&conn.spec);
    assert_eq!(errors[0].field, "protocolConfig.serviceName");
    assert!(
        errors[0].rule.contains("available: ChatService"),
        "{errors:?}"
    );
    let broken = PROTO.replace("string persona = 2;", "string persona = 2");
    let conn = target("127.0.0.1:1".into(), json!({"protoContent": broken}));
    let errors = validate_config(&conn.spec);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "protocolConfig.protoContent");
    assert!(errors[0].rule.starts_with("line "), "{errors:?}");
    let err = GrpcConnector::new(&conn, Default::default()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert!(
        err.message
            .starts_with("protocolConfig.protoContent: line "),
        "{}",
        err.message
    );
    let mut conn = target("127.0.0.1:1".into(), json!({}));
    conn.spec.request_template.structure = Some(json!({"persona": "x", "tone": "rude"}));
    let err = GrpcConnector::new(&conn, Default::default()).unwrap_err();
    assert!(
        err.message.starts_with("requestTemplate: "),
        "{}",
        err.message
    );
    assert!(err.message.contains("tone"), "{}", err.message);
}

#[actix_web::test]
async fn dropping_the_future_times_out_without_hanging() {
    let settings = MockSettings {
        latency_ms: 30_000,
        ..MockSettings::default()
    };
    let mock = mock_with(settings, GrpcMockOptions::default()).await;
    let mut connector =
        GrpcConnector::new(&target(mock.endpoint(), json!({})), Default::default()).unwrap();
    connector.connect().await.unwrap();
    let started = Instant::now();
    let msg = message("hello", Uuid::new_v4(), 0);
    let result = tokio::time::timeout(Duration::from_millis(200), connector.send(&msg)).await;
    assert!(result.is_err(), "timed out");
    assert!(started.elapsed() < Duration::from_secs(2));
    let health = connector.health().await;
    assert!(health.healthy, "channel still usable: {health:?}");
    mock.stop().await;
}

#[actix_web::test]
async fn server_gone_is_a_connect_error() {
    let mock = mock().await;
    let conn = target(mock.endpoint(), json!({}));
    let mut connector = GrpcConnector::new(&conn, Default::default()).unwrap();
    connector
        .send(&message("hi", Uuid::new_v4(), 0))
        .await
        .unwrap();
    mock.stop().await;
    let err = connector
        .send(&message("again", Uuid::new_v4(), 1))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connect, "{err:?}");
    let mut fresh = GrpcConnector::new(&conn, Default::default()).unwrap();
    let err = fresh.connect().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connect, "{err:?}");
    assert!(!fresh.health().await.healthy);
}

#[actix_web::test]
async fn mid_stream_drop_is_protocol_with_partial_text() {
    let mock = mock().await;
    let config = json!({"methodName": "StreamMessage", "metadata": {"x-drop-after": "2"}});
    let err = send(&target(mock.endpoint(), config), "Tell me a story")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol, "{err:?}");
    let partial = err.partial.unwrap();
    assert!(!partial.is_empty());
    assert!(err.message.contains("after 2 chunk(s)"), "{}", err.message);
    mock.stop().await;
}

#[actix_web::test]
async fn a_reply_that_does_not_match_the_proto_is_protocol() {
    let mock = mock().await;
    let wrong = PROTO.replace(
        "message ChatReply {\n  string content = 1;",
        "message ChatReply {\n  int64 content = 1;",
    );
    assert_ne!(wrong, PROTO);
    let mut conn = target(mock.endpoint(), json!({"protoContent": wrong}));
    conn.spec.response_template.response_path = "content".into();
    let err = send(&conn, "hi").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol, "{err:?}");
    assert!(
        err.message.contains("krawall.mock.v1.ChatReply"),
        "{}",
        err.message
    );
    mock.stop().await;
}

#[actix_web::test]
async fn health_uses_grpc_health_v1() {
    let mock = mock().await;
    let config = json!({"healthService": "krawall.mock.v1.ChatService"});
    let mut connector =
        GrpcConnector::new(&target(mock.endpoint(), config), Default::default()).unwrap();
    let report = connector.health().await;
    assert!(report.healthy, "{report:?}");
    assert!(report.detail.contains("SERVING"), "{report:?}");
    let config = json!({"healthService": "no.Such"});
    let report = GrpcConnector::new(&target(mock.endpoint(), config), Default::default())
        .unwrap()
        .health()
        .await;
    assert!(!report.healthy, "{report:?}");
    mock.stop().await;
    let options = GrpcMockOptions {
        health: false,
        ..GrpcMockOptions::default()
    };
    let bare = mock_with(MockSettings::default(), options).await;
    let mut connector =
        GrpcConnector::new(&target(bare.endpoint(), json!({})), Default::default()).unwrap();
    let report = connector.health().await;
    assert!(report.healthy, "{report:?}");
    assert!(report.detail.contains("no health service"), "{report:?}");
    bare.stop().await;
}

/// A CA and a `localhost` server certificate signed by it.
fn test_pki() -> (String, GrpcMockTls) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "krawall test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let tls = GrpcMockTls {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    };
    (ca.pem(), tls)
}

#[actix_web::test]
async fn tls_with_a_custom_ca() {
    let (ca_pem, identity) = test_pki();
    let options = GrpcMockOptions {
        tls: Some(identity),
        ..GrpcMockOptions::default()
    };
    let mock = mock_with(MockSettings::default(), options).await;
    let trusted = json!({"caCert": ca_pem, "tlsDomain": "localhost"});
    let reply = send(&target(mock.endpoint(), trusted.clone()), "hi")
        .await
        .unwrap();
    assert!(!reply.text.is_empty());
    let https = format!("https://{}", mock.endpoint());
    assert!(send(&target(https.clone(), trusted), "hi").await.is_ok());
    let untrusted = json!({"tlsDomain": "localhost"});
    let err = send(&target(https, untrusted), "hi").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connect, "{err:?}");
    let plaintext = send(&target(mock.endpoint(), json!({})), "hi").await;
    let err = plaintext.expect_err("plaintext client against a TLS server");
    assert_eq!(err.kind, ErrorKind::Connect, "{err:?}");
    mock.stop().await;
}
