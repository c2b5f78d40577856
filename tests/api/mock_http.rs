//! The HTTP connector against the in-process mock chatbot: auth on the wire, token
//! normalisation, and the classification of 429, 500, refused, missing paths and timeouts.

use std::time::Duration;

use actors::connectors::{Connector, ConnectorError, TargetConnection, build_connector};
use actors::domain::events::ErrorKind;
use actors::domain::target::{
    AuthType, ConnectorType, RequestTemplate, ResponseTemplate, TargetSpec,
};
use krawall::mock::{MockServer, MockSettings, start_mock};
use serde_json::{Value, json};
use uuid::Uuid;

async fn mock() -> MockServer {
    krawall::install_crypto_provider();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    start_mock(listener, MockSettings::default()).await.unwrap()
}

fn target(endpoint: String, auth_type: AuthType, auth_config: Value) -> TargetConnection {
    TargetConnection {
        spec: TargetSpec {
            name: "mock".into(),
            description: None,
            rate_limit: None,
            connector_type: ConnectorType::HttpRest,
            endpoint,
            auth_type,
            request_template: RequestTemplate {
                history_path: None,
                history_item: None,
                history_roles: Default::default(),
                system_path: None,
                message_path: "messages.0.content".into(),
                structure: Some(json!({
                    "model": "gpt-4o-mini",
                    "messages": [{"role": "user", "content": "{{message}}"}]
                })),
            },
            response_template: ResponseTemplate {
                response_path: "choices.0.message.content".into(),
                token_usage_path: None,
                error_path: Some("error.message".into()),
            },
            protocol_config: None,
        },
        auth_config,
    }
}

/// A `/chat` target: `{message}` in, `response` out, no usage in the reply.
fn chat_target(mock: &MockServer, auth_type: AuthType, auth_config: Value) -> TargetConnection {
    let mut conn = target(format!("{}/chat", mock.url()), auth_type, auth_config);
    conn.spec.request_template = RequestTemplate {
        history_path: None,
        history_item: None,
        history_roles: Default::default(),
        system_path: None,
        message_path: "message".into(),
        structure: Some(json!({"meta": {"client": "krawall", "note": "asked: {{message}}"}})),
    };
    conn.spec.response_template.response_path = "response".into();
    conn
}

fn connector(conn: &TargetConnection) -> Box<dyn Connector> {
    build_connector(
        conn,
        &actors::connectors::Outbound::new(&Default::default()).unwrap(),
    )
    .unwrap()
}

use crate::helpers::outbound as message;

async fn send_err(connector: &mut Box<dyn Connector>, text: &str) -> ConnectorError {
    connector
        .send(&message(Uuid::new_v4(), text))
        .await
        .unwrap_err()
}

async fn last_request(mock: &MockServer) -> Value {
    let url = format!("{}/__last_request", mock.url());
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[actix_web::test]
async fn openai_shape_with_bearer_auth_normalises_usage() {
    let mock = mock().await;
    let conn = target(
        format!("{}/v1/chat/completions", mock.url()),
        AuthType::BearerToken,
        json!({"token": "sk-test"}),
    );
    let mut connector = connector(&conn);
    let session = Uuid::new_v4();
    let reply = connector.send(&message(session, "hello")).await.unwrap();
    assert!(
        reply.text.starts_with("Thanks for your message"),
        "{}",
        reply.text
    );
    assert_eq!(reply.status, Some(200));
    assert!(!reply.tokens.estimated);
    assert_eq!(reply.tokens.input, 2);
    assert_eq!(
        reply.tokens.output,
        reply.text.chars().count().div_ceil(4) as u64
    );
    assert_eq!(reply.json["model"], "gpt-4o-mini");
    let seen = last_request(&mock).await;
    assert_eq!(seen["authorization_present"], true);
    assert_eq!(seen["headers"]["authorization"], "Bearer sk-test");
    assert_eq!(seen["headers"]["x-session-id"], session.to_string());
    assert_eq!(seen["path"], "/v1/chat/completions");
    let health = connector.health().await;
    assert!(health.healthy, "{health:?}");
    mock.stop().await;
}

#[actix_web::test]
async fn custom_structure_on_chat_estimates_tokens() {
    let mock = mock().await;
    let mut connector = connector(&chat_target(&mock, AuthType::None, Value::Null));
    let reply = connector
        .send(&message(Uuid::new_v4(), "please give me xml"))
        .await
        .unwrap();
    assert!(reply.text.starts_with("<?xml"), "{}", reply.text);
    assert!(reply.tokens.estimated);
    assert_eq!(reply.tokens.input, 5);
    assert!(reply.tokens.output > 10);
    assert!(reply.raw.contains("\"timestamp\""));
    let seen = last_request(&mock).await;
    assert_eq!(seen["authorization_present"], false);
    mock.stop().await;
}

#[actix_web::test]
async fn rate_limited_persona_third_call_is_429_with_retry_after() {
    let mock = mock().await;
    let mut conn = target(
        format!("{}/v1/chat/completions", mock.url()),
        AuthType::None,
        Value::Null,
    );
    conn.spec.protocol_config = Some(json!({"persona": "rate-limited"}));
    let mut connector = connector(&conn);
    let session = Uuid::new_v4();
    connector.send(&message(session, "one")).await.unwrap();
    connector.send(&message(session, "two")).await.unwrap();
    let err = connector
        .send(&message(session, "three"))
        .await
        .unwrap_err();
    crate::helpers::assert_rate_limited(&err);
    mock.stop().await;
}

#[actix_web::test]
async fn error_route_is_http_status_500_with_error_path_message() {
    let mock = mock().await;
    let conn = target(format!("{}/error", mock.url()), AuthType::None, Value::Null);
    let err = send_err(&mut connector(&conn), "hi").await;
    assert_eq!(err.kind, ErrorKind::HttpStatus);
    assert_eq!(err.status, Some(500));
    assert_eq!(err.message, "HTTP 500: Internal server error");
    mock.stop().await;
}

#[actix_web::test]
async fn refused_connection_is_connect() {
    krawall::install_crypto_provider();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let conn = target(
        format!("http://127.0.0.1:{port}/chat"),
        AuthType::None,
        Value::Null,
    );
    let mut connector = connector(&conn);
    let err = send_err(&mut connector, "hi").await;
    assert_eq!(err.kind, ErrorKind::Connect, "{err:?}");
    assert!(!connector.health().await.healthy);
}

#[actix_web::test]
async fn missing_response_path_is_protocol() {
    let mock = mock().await;
    let mut conn = target(
        format!("{}/v1/chat/completions", mock.url()),
        AuthType::None,
        Value::Null,
    );
    conn.spec.response_template.response_path = "choices.0.text".into();
    let err = send_err(&mut connector(&conn), "hi").await;
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert!(err.message.contains("`choices.0.text`"), "{}", err.message);
    mock.stop().await;
}

#[actix_web::test]
async fn dropping_send_aborts_a_hanging_request() {
    let mock = mock().await;
    let conn = target(
        format!("{}/timeout", mock.url()),
        AuthType::None,
        Value::Null,
    );
    let mut connector = connector(&conn);
    let msg = message(Uuid::new_v4(), "hi");
    let outcome = tokio::time::timeout(Duration::from_millis(300), connector.send(&msg)).await;
    assert!(
        outcome.is_err(),
        "the send must still be pending after 300 ms"
    );
    let mut conn = conn;
    conn.spec.protocol_config = Some(json!({"timeoutMs": 200}));
    let err = send_err(&mut self::connector(&conn), "hi").await;
    assert_eq!(err.kind, ErrorKind::Timeout, "{err:?}");
    mock.stop().await;
}

#[actix_web::test]
async fn api_key_in_query_arrives_as_query_param() {
    let mock = mock().await;
    let auth = json!({"apiKey": "secret-k", "location": "query", "paramName": "key"});
    let mut connector = connector(&chat_target(&mock, AuthType::ApiKey, auth));
    connector
        .send(&message(Uuid::new_v4(), "hi"))
        .await
        .unwrap();
    let seen = last_request(&mock).await;
    assert_eq!(seen["query"], "key=secret-k");
    assert_eq!(seen["headers"].get("x-api-key"), None);
    mock.stop().await;
}

#[actix_web::test]
async fn malformed_json_injection_is_rejected_by_the_target() {
    let mock = mock().await;
    let conn = target(
        format!("{}/v1/chat/completions", mock.url()),
        AuthType::None,
        Value::Null,
    );
    let mut msg = message(Uuid::new_v4(), "hi");
    msg.inject = Some("malformed_json".into());
    let err = connector(&conn).send(&msg).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::HttpStatus);
    assert_eq!(err.status, Some(400));
    assert!(err.message.contains("not valid JSON"), "{}", err.message);
    mock.stop().await;
}

#[actix_web::test]
async fn oversized_injection_sends_a_one_mebibyte_message() {
    let mock = mock().await;
    let mut msg = message(Uuid::new_v4(), "hi");
    msg.inject = Some("oversized".into());
    let mut connector = connector(&chat_target(&mock, AuthType::None, Value::Null));
    let reply = connector.send(&msg).await.unwrap();
    assert!(reply.tokens.estimated);
    assert_eq!(reply.tokens.input, 1024 * 1024 / 4);
    let seen = last_request(&mock).await;
    let length: usize = seen["headers"]["content-length"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        length > 2 * 1024 * 1024,
        "message at `message` and in `meta.note`: {length}"
    );
    mock.stop().await;
}

#[actix_web::test]
async fn rate_limit_every_n_knob_applies_to_any_persona() {
    let settings = krawall::mock::MockSettings {
        rate_limit_every: Some(2),
        ..krawall::mock::MockSettings::default()
    };
    let mock = krawall::mock::start_mock(
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        settings,
    )
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let resp = client
            .post(format!("{}/chat", mock.url()))
            .header("X-Session-Id", "knob")
            .json(&serde_json::json!({"message": "hi"}))
            .send()
            .await
            .unwrap();
        if resp.status() == 429 {
            assert_eq!(resp.headers()["retry-after"], "2");
        }
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, vec![200, 429, 200, 429]);
    mock.stop().await;
}
