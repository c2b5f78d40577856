//! The SSE connector against the mock's streaming endpoints: OpenAI and Anthropic streams, the
//! GET stream, auth on the wire, 429 before the stream, mid-stream drops, timeouts, multi-turn.

use std::time::{Duration, Instant};

use actors::connectors::sse::validate_config;
use actors::connectors::usage::estimate_tokens;
use actors::connectors::{Connector, HttpConnector, SseConnector, TargetConnection};
use actors::domain::events::ErrorKind;
use actors::domain::target::{
    AuthType, ConnectorType, RequestTemplate, ResponseTemplate, TargetSpec,
};
use krawall::mock::{MockServer, MockSettings, start_mock};
use serde_json::{Value, json};
use uuid::Uuid;

const XML_PROMPT: &str = "please give me xml";

async fn mock() -> MockServer {
    krawall::install_crypto_provider();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    start_mock(listener, MockSettings::default()).await.unwrap()
}

pub(crate) fn target(endpoint: String, structure: Value, response_path: &str) -> TargetConnection {
    TargetConnection {
        spec: TargetSpec {
            name: "stream".into(),
            description: None,
            rate_limit: None,
            connector_type: ConnectorType::Sse,
            endpoint,
            auth_type: AuthType::None,
            request_template: RequestTemplate {
                history_path: None,
                history_item: None,
                history_roles: Default::default(),
                system_path: None,
                message_path: "messages.0.content".into(),
                structure: Some(structure),
            },
            response_template: ResponseTemplate {
                response_path: response_path.into(),
                token_usage_path: None,
                error_path: Some("error.message".into()),
            },
            protocol_config: None,
        },
        auth_config: Value::Null,
    }
}

/// OpenAI `stream: true` with usage in the final chunk, bearer auth.
fn openai(mock: &MockServer, protocol_config: Value) -> TargetConnection {
    let structure = json!({
        "model": "gpt-4o-mini",
        "stream": true,
        "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "{{message}}"}]
    });
    let endpoint = format!("{}/v1/chat/completions", mock.url());
    let mut conn = target(endpoint, structure, "choices.0.delta.content");
    conn.spec.auth_type = AuthType::BearerToken;
    conn.auth_config = json!({"token": "sk-stream"});
    conn.spec.protocol_config = Some(protocol_config);
    conn
}

/// Anthropic Messages API, `stream` as given, API key in `x-api-key`.
fn anthropic(mock: &MockServer, stream: bool, response_path: &str) -> TargetConnection {
    let structure = json!({
        "model": "claude-haiku-4-5",
        "max_tokens": 256,
        "stream": stream,
        "messages": [{"role": "user", "content": "{{message}}"}]
    });
    let endpoint = format!("{}/v1/messages", mock.url());
    let mut conn = target(endpoint, structure, response_path);
    conn.spec.auth_type = AuthType::ApiKey;
    conn.auth_config = json!({"apiKey": "ak-test"});
    conn.spec.protocol_config = Some(json!({"headers": {"anthropic-version": "2023-06-01"}}));
    conn
}

fn sse(conn: &TargetConnection) -> SseConnector {
    SseConnector::new(conn, reqwest::Client::new()).unwrap()
}

use crate::helpers::outbound as message;

async fn last_request(mock: &MockServer) -> Value {
    let url = format!("{}/__last_request", mock.url());
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// The mock's non-streamed reply to `text` (`/v1/chat/completions` without `stream`).
async fn plain_reply(mock: &MockServer, text: &str) -> String {
    let mut conn = openai(mock, json!({}));
    conn.spec.connector_type = ConnectorType::HttpRest;
    conn.spec.request_template.structure = Some(json!({"messages": [{"role": "user"}]}));
    conn.spec.response_template.response_path = "choices.0.message.content".into();
    let mut http = HttpConnector::new(&conn, reqwest::Client::new()).unwrap();
    http.send(&message(Uuid::new_v4(), text))
        .await
        .unwrap()
        .text
}

#[actix_web::test]
async fn openai_stream_joins_text_with_final_usage_and_ttft() {
    let mock = mock().await;
    let expected = plain_reply(&mock, XML_PROMPT).await;
    let mut connector = sse(&openai(
        &mock,
        json!({"headers": {"X-Chunk-Delay-Ms": "20"}}),
    ));
    let session = Uuid::new_v4();
    let started = Instant::now();
    let reply = connector.send(&message(session, XML_PROMPT)).await.unwrap();
    let total_ms = started.elapsed().as_millis() as u64;
    assert_eq!(reply.text, expected);
    assert_eq!(reply.status, Some(200));
    assert!(!reply.tokens.estimated, "{:?}", reply.tokens);
    assert_eq!(reply.tokens.input, estimate_tokens(XML_PROMPT));
    assert_eq!(reply.tokens.output, estimate_tokens(&expected));
    let metrics = reply.stream.unwrap();
    eprintln!(
        "openai stream: ttft {} ms, total {total_ms} ms, {metrics:?}",
        metrics.ttft_ms
    );
    assert!(metrics.chunks > 1, "{metrics:?}");
    assert!(metrics.ttft_ms < total_ms, "{metrics:?} vs {total_ms}");
    assert!(metrics.inter_chunk_mean_ms >= 15.0, "{metrics:?}");
    assert!(metrics.inter_chunk_max_ms >= 15, "{metrics:?}");
    assert!(reply.raw.contains("chat.completion.chunk") && reply.raw.contains("[DONE]"));
    assert_eq!(reply.json["usage"]["prompt_tokens"], reply.tokens.input);
    let seen = last_request(&mock).await;
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["headers"]["authorization"], "Bearer sk-stream");
    assert_eq!(seen["headers"]["accept"], "text/event-stream");
    assert_eq!(seen["headers"]["x-session-id"], session.to_string());
    let health = connector.health().await;
    assert!(health.healthy, "{health:?}");
    mock.stop().await;
}

#[actix_web::test]
async fn anthropic_stream_reads_text_and_tokens_from_events() {
    let mock = mock().await;
    let mut connector = sse(&anthropic(&mock, true, "delta.text"));
    let reply = connector
        .send(&message(Uuid::new_v4(), "hello"))
        .await
        .unwrap();
    assert!(
        reply.text.starts_with("Thanks for your message"),
        "{}",
        reply.text
    );
    assert!(!reply.tokens.estimated);
    assert_eq!(reply.tokens.input, estimate_tokens("hello"));
    assert_eq!(reply.tokens.output, estimate_tokens(&reply.text));
    assert_eq!(reply.json["type"], "message_stop");
    assert!(reply.stream.unwrap().chunks > 1);
    assert!(reply.raw.contains("event: ping"));
    let seen = last_request(&mock).await;
    assert_eq!(seen["path"], "/v1/messages");
    assert_eq!(seen["headers"]["x-api-key"], "ak-test");
    assert_eq!(seen["headers"]["anthropic-version"], "2023-06-01");

    // The same endpoint without `stream` answers one JSON message (HTTP connector).
    let mut plain = anthropic(&mock, false, "content.0.text");
    plain.spec.connector_type = ConnectorType::HttpRest;
    let mut http = HttpConnector::new(&plain, reqwest::Client::new()).unwrap();
    let reply = http.send(&message(Uuid::new_v4(), "hello")).await.unwrap();
    assert!(reply.text.starts_with("Thanks for your message"));
    assert_eq!(reply.tokens.input, estimate_tokens("hello"));
    assert!(!reply.tokens.estimated);
    // Sent to the SSE connector, that JSON reply is a protocol error, not a hang.
    let err = sse(&plain)
        .send(&message(Uuid::new_v4(), "hello"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert!(
        err.message.contains("not an event stream"),
        "{}",
        err.message
    );
    mock.stop().await;
}

#[actix_web::test]
async fn get_stream_mode_sends_the_message_as_query() {
    let mock = mock().await;
    let endpoint = format!("{}/sse/stream", mock.url());
    let mut conn = target(endpoint, json!({}), "content");
    conn.spec.protocol_config = Some(json!({"mode": "get", "persona": "support"}));
    assert!(validate_config(&conn.spec).is_empty());
    let mut connector = sse(&conn);
    let reply = connector
        .send(&message(Uuid::new_v4(), "hello there"))
        .await
        .unwrap();
    assert!(!reply.text.is_empty());
    assert!(reply.tokens.estimated);
    assert!(reply.stream.is_some());
    let seen = last_request(&mock).await;
    assert_eq!(seen["method"], "GET");
    assert_eq!(seen["query"], "message=hello+there");
    assert_eq!(seen["headers"]["x-persona"], "support");
    mock.stop().await;
}

#[actix_web::test]
async fn rate_limit_before_the_stream_is_classified_with_retry_after() {
    let mock = mock().await;
    let mut connector = sse(&openai(&mock, json!({"persona": "rate-limited"})));
    let session = Uuid::new_v4();
    connector.send(&message(session, "one")).await.unwrap();
    connector.send(&message(session, "two")).await.unwrap();
    let err = connector
        .send(&message(session, "three"))
        .await
        .unwrap_err();
    crate::helpers::assert_rate_limited(&err);
    assert_eq!(err.partial, None);
    mock.stop().await;
}

#[actix_web::test]
async fn mid_stream_drop_is_a_protocol_error_keeping_the_partial_text() {
    let mock = mock().await;
    let expected = plain_reply(&mock, XML_PROMPT).await;
    let mut connector = sse(&openai(&mock, json!({"headers": {"X-Drop-After": "2"}})));
    let err = connector
        .send(&message(Uuid::new_v4(), XML_PROMPT))
        .await
        .unwrap_err();
    eprintln!("mid-stream drop: {err:?}");
    assert_eq!(err.kind, ErrorKind::Protocol, "{err:?}");
    let partial = err.partial.unwrap();
    assert!(!partial.is_empty());
    assert!(expected.starts_with(&partial), "{partial:?}");
    assert!(partial.len() < expected.len());
    mock.stop().await;
}

#[actix_web::test]
async fn dropping_the_future_times_out_without_hanging() {
    let mock = mock().await;
    let mut connector = sse(&openai(
        &mock,
        json!({"headers": {"X-Chunk-Delay-Ms": "200"}}),
    ));
    let started = Instant::now();
    let outcome = tokio::time::timeout(
        Duration::from_millis(300),
        connector.send(&message(Uuid::new_v4(), XML_PROMPT)),
    )
    .await;
    assert!(outcome.is_err(), "the stream should still be running");
    assert!(started.elapsed() < Duration::from_secs(2));
    // The connector stays usable after a cancelled send.
    let mut quick = sse(&openai(&mock, json!({})));
    assert!(quick.send(&message(Uuid::new_v4(), "hi")).await.is_ok());
    mock.stop().await;
}

#[actix_web::test]
async fn multi_turn_conversation_on_one_connector() {
    let mock = mock().await;
    let mut connector = sse(&openai(&mock, json!({})));
    connector.connect().await.unwrap();
    let session = Uuid::new_v4();
    let mut texts = Vec::new();
    for turn in ["hi", "and then?", "ok"] {
        texts.push(connector.send(&message(session, turn)).await.unwrap().text);
    }
    connector.disconnect().await;
    assert!(texts[0].starts_with("Thanks for your message"), "{texts:?}");
    assert!(texts[1].starts_with("Got it."), "{texts:?}");
    assert!(
        texts[2].starts_with("That's a great question."),
        "{texts:?}"
    );
    mock.stop().await;
}

#[actix_web::test]
async fn invalid_stream_config_names_the_field() {
    let mock = mock().await;
    let conn = openai(&mock, json!({"mode": "websocket", "stopEvents": "done"}));
    let fields: Vec<String> = validate_config(&conn.spec)
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(
        fields,
        vec!["protocolConfig.mode", "protocolConfig.stopEvents"]
    );
    let err = SseConnector::new(&conn, reqwest::Client::new()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert!(
        err.message.starts_with("protocolConfig.mode:"),
        "{}",
        err.message
    );
    mock.stop().await;
}
