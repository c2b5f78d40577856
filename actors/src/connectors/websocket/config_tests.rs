//! Tests of `protocolConfig` parsing and validation for WebSocket targets.

use super::*;
use crate::domain::target::{ConnectorType, RequestTemplate, ResponseTemplate};
use serde_json::json;

fn spec(config: Option<Value>) -> TargetSpec {
    TargetSpec {
        name: "ws".into(),
        description: None,
        rate_limit: None,
        connector_type: ConnectorType::Websocket,
        endpoint: "ws://127.0.0.1:9/ws".into(),
        auth_type: AuthType::None,
        request_template: RequestTemplate {
            history_path: None,
            history_item: None,
            history_roles: Default::default(),
            system_path: None,
            message_path: "message".into(),
            structure: None,
        },
        response_template: ResponseTemplate {
            response_path: "data.content".into(),
            token_usage_path: None,
            error_path: None,
        },
        protocol_config: config,
    }
}

fn fields(config: Value) -> Vec<String> {
    validate_config(&spec(Some(config)))
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn defaults() {
    let s = settings(&spec(None)).unwrap();
    assert_eq!(s.connect_timeout, Duration::from_millis(10_000));
    assert_eq!(s.message_timeout, None);
    assert_eq!(s.correlation, Correlation::Next);
    assert_eq!(s.streaming, None);
    assert_eq!(s.socket_io, None);
    let r = s.reconnect;
    assert_eq!(
        (r.max_attempts, r.initial, r.max),
        (5, Duration::from_millis(200), Duration::from_millis(5000))
    );
    let delays: Vec<u64> = (1..=7).map(|n| r.delay(n).as_millis() as u64).collect();
    assert_eq!(delays, vec![200, 400, 800, 1600, 3200, 5000, 5000]);
    assert_eq!(r.delay(40), Duration::from_millis(5000));
    assert!(validate_config(&spec(Some(Value::Null))).is_empty());
}

#[test]
fn full_config_resolves() {
    let config = json!({
        "connectTimeoutMs": 500, "timeout": 2000, "idPath": "meta.id", "replyIdPath": "$.id",
        "streaming": {"doneMarkerPath": "type", "doneValue": "done", "idleGapMs": 50},
        "reconnect": {"maxAttempts": 2, "initialDelayMs": 10, "maxDelayMs": 20},
        "socketIo": {"event": "chat", "namespace": "/bot"}, "persona": "support"
    });
    let s = settings(&spec(Some(config))).unwrap();
    assert_eq!(s.message_timeout, Some(Duration::from_millis(2000)));
    assert_eq!(
        s.correlation,
        Correlation::Id {
            write: "meta.id".into(),
            read: "$.id".into()
        }
    );
    let streaming = s.streaming.unwrap();
    assert_eq!(streaming.done_value, Some(json!("done")));
    assert_eq!(streaming.idle_gap, Duration::from_millis(50));
    let sio = s.socket_io.unwrap();
    assert_eq!(
        (sio.event.as_str(), sio.namespace.as_str()),
        ("chat", "/bot")
    );
    assert_eq!(s.headers[0].0.as_str(), "x-persona");
    let s = settings(&spec(Some(
        json!({"protocol": "socket.io", "streaming": true, "noReconnect": true}),
    )))
    .unwrap();
    assert_eq!(s.socket_io.unwrap().namespace, "/");
    assert_eq!(s.streaming.unwrap().idle_gap, Duration::from_millis(500));
    assert_eq!(s.reconnect.max_attempts, 0);
    let s = settings(&spec(Some(
        json!({"socketIo": {"enabled": false}, "streaming": false}),
    )))
    .unwrap();
    assert!(s.socket_io.is_none() && s.streaming.is_none());
    let s = settings(&spec(Some(
        json!({"replyMatcher": {"path": "type", "equals": "message"}}),
    )))
    .unwrap();
    assert_eq!(
        s.correlation,
        Correlation::Matcher {
            path: "type".into(),
            equals: Some(json!("message"))
        }
    );
}

#[test]
fn errors_name_the_field() {
    assert_eq!(
        fields(json!({"idPath": "a[*]"})),
        vec!["protocolConfig.idPath"]
    );
    assert_eq!(
        fields(json!({"idPath": "id", "replyIdPath": "$[?"})),
        vec!["protocolConfig.replyIdPath"]
    );
    assert_eq!(
        fields(json!({"replyIdPath": "id"})),
        vec!["protocolConfig.replyIdPath"]
    );
    assert_eq!(
        fields(json!({"replyMatcher": {"path": " "}})),
        vec!["protocolConfig.replyMatcher.path"]
    );
    assert_eq!(
        fields(json!({"replyMatcher": {"equals": 1}})),
        vec!["protocolConfig.replyMatcher"]
    );
    assert_eq!(
        fields(json!({"reconnect": {"maxAttempts": "five"}})),
        vec!["protocolConfig.reconnect.maxAttempts"]
    );
    assert_eq!(
        fields(json!({"reconnect": {"initialDelayMs": 900, "maxDelayMs": 100}})),
        vec!["protocolConfig.reconnect.maxDelayMs"]
    );
}

#[test]
fn range_and_shape_errors_name_the_field() {
    assert_eq!(
        fields(json!({"connectTimeoutMs": 0})),
        vec!["protocolConfig.connectTimeoutMs"]
    );
    assert_eq!(
        fields(json!({"timeoutMs": -1})),
        vec!["protocolConfig.timeoutMs"]
    );
    assert_eq!(
        fields(json!({"subprotocol": "a b"})),
        vec!["protocolConfig.subprotocol"]
    );
    assert_eq!(
        fields(json!({"authInSubprotocol": true})),
        vec!["protocolConfig.authInSubprotocol"]
    );
    assert_eq!(
        fields(json!({"headers": {"bad header": "x"}})),
        vec!["protocolConfig.headers.bad header"]
    );
    assert_eq!(
        fields(json!({"socketIo": {"namespace": "chat"}})),
        vec!["protocolConfig.socketIo.namespace"]
    );
    assert_eq!(
        fields(json!({"protocol": "mqtt"})),
        vec!["protocolConfig.protocol"]
    );
    assert_eq!(
        fields(json!({"streaming": {"doneValue": "done"}})),
        vec!["protocolConfig.streaming.doneValue"]
    );
    assert_eq!(fields(json!("nope")), vec!["protocolConfig"]);
    let errors = validate_config(&spec(Some(
        json!({"idPath": "a[*]", "connectTimeoutMs": 0}),
    )));
    assert_eq!(errors.len(), 2, "all errors at once: {errors:?}");
}

#[test]
fn endpoint_and_templates_are_checked() {
    let mut s = spec(None);
    s.endpoint = "http://127.0.0.1/ws".into();
    s.request_template.message_path = "messages[*]".into();
    s.response_template.error_path = Some("$[?".into());
    let found: Vec<String> = validate_config(&s).into_iter().map(|e| e.field).collect();
    assert_eq!(
        found,
        vec![
            "endpoint",
            "requestTemplate.messagePath",
            "responseTemplate.errorPath"
        ]
    );
    s.endpoint = "wss://bot.example.com/socket.io/?EIO=4&transport=websocket".into();
    s.request_template.message_path = "message".into();
    s.response_template.error_path = None;
    assert!(validate_config(&s).is_empty());
}
