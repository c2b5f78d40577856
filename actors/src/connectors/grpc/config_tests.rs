//! Tests of the gRPC `protocolConfig` parsing, `validate_config` and the request template.

use super::*;
use crate::domain::target::{AuthType, ConnectorType};
use serde_json::json;

const PROTO: &str = r#"syntax = "proto3";
package krawall.mock.v1;
service ChatService {
  rpc SendMessage(ChatRequest) returns (ChatReply);
  rpc StreamMessage(ChatRequest) returns (stream ChatReply);
}
message ChatRequest { string message = 1; string persona = 2; string session_id = 3; }
message ChatReply { string content = 1; }
"#;

fn spec(protocol_config: Value) -> TargetSpec {
    TargetSpec {
        name: "grpc".into(),
        description: None,
        rate_limit: None,
        connector_type: ConnectorType::Grpc,
        endpoint: "127.0.0.1:50051".into(),
        auth_type: AuthType::None,
        request_template: RequestTemplate {
            history_path: None,
            history_item: None,
            history_roles: Default::default(),
            system_path: None,
            message_path: "message".into(),
            structure: Some(json!({"persona": "support", "session_id": "s-{{message}}"})),
        },
        response_template: ResponseTemplate {
            response_path: "content".into(),
            token_usage_path: None,
            error_path: None,
        },
        protocol_config: Some(protocol_config),
    }
}

fn fields(errors: &[FieldError]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

#[test]
fn defaults_find_chat_service_send_message() {
    let s = spec(json!({"protoContent": PROTO}));
    assert!(validate_config(&s).is_empty(), "{:?}", validate_config(&s));
    let conn = TargetConnection {
        spec: s,
        auth_config: json!({"token": "sk-1"}),
    };
    let mut conn = conn;
    conn.spec.auth_type = AuthType::BearerToken;
    let plan = plan(&conn).unwrap();
    assert_eq!(
        plan.path.as_str(),
        "/krawall.mock.v1.ChatService/SendMessage"
    );
    assert_eq!(plan.uri, "http://127.0.0.1:50051");
    assert_eq!(plan.metadata["authorization"], "Bearer sk-1");
    assert!(plan.metadata["authorization"].is_sensitive());
}

#[test]
fn request_is_built_from_the_template() {
    let pool = proto::compile(PROTO).unwrap();
    let input = pool
        .get_message_by_name("krawall.mock.v1.ChatRequest")
        .unwrap();
    let s = spec(json!({}));
    let message =
        request_message(sample_request(&s.request_template, "hi").unwrap(), &input).unwrap();
    let json = serde_json::to_value(&message).unwrap();
    assert_eq!(
        json,
        json!({"message": "hi", "persona": "support", "sessionId": "s-hi"})
    );
    let mut bad = s.request_template.clone();
    bad.structure = Some(json!({"nope": 1}));
    let err = sample_request(&bad, "hi")
        .and_then(|b| request_message(b, &input))
        .unwrap_err();
    assert_eq!(err.field, "requestTemplate");
    assert!(err.rule.contains("nope"), "{err}");
}

#[test]
fn validation_names_the_field() {
    let errors = validate_config(&spec(json!({})));
    assert_eq!(
        fields(&errors),
        vec!["protocolConfig.protoContent: required: the .proto text of the service"]
    );
    let broken = "syntax = \"proto3\";\npackage p;\nmessage A { string x = 1 }\n";
    let errors = validate_config(&spec(json!({"protoContent": broken})));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]
            .to_string()
            .starts_with("protocolConfig.protoContent: line 3: "),
        "{errors:?}"
    );
    let errors = validate_config(&spec(json!({"protoContent": PROTO, "methodName": "X"})));
    assert_eq!(
        fields(&errors),
        vec![
            "protocolConfig.methodName: no method \"X\" in service \"krawall.mock.v1.ChatService\"; available: SendMessage, StreamMessage"
        ]
    );
    let errors = validate_config(&spec(json!({"protoContent": PROTO, "serviceName": "Nope"})));
    assert_eq!(errors[0].field, "protocolConfig.serviceName");
    let errors = validate_config(&spec(json!({"protoContent": PROTO, "packageName": "x.y"})));
    assert_eq!(errors[0].field, "protocolConfig.packageName");
}

#[test]
fn endpoint_tls_and_metadata_are_checked() {
    let mut s = spec(json!({"protoContent": PROTO, "caCert": "not pem", "metadata": {"x-a": 1}}));
    s.endpoint = "ftp://h:1".into();
    let got = fields(&validate_config(&s));
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].starts_with("endpoint: "), "{got:?}");
    assert_eq!(got[1], "protocolConfig.metadata.x-a: must be a string");
    s.endpoint = "https://h:1".into();
    let got = fields(&validate_config(&s));
    assert!(
        got[0].starts_with("protocolConfig.caCert: must be a PEM"),
        "{got:?}"
    );
    s.endpoint = "h:1/path".into();
    assert!(fields(&validate_config(&s))[0].contains("no path"));
}

#[test]
fn tls_defaults_follow_scheme_and_legacy_spelling() {
    let conn = |endpoint: &str, config: Value| {
        let mut s = spec(config);
        s.endpoint = endpoint.into();
        plan(&TargetConnection {
            spec: s,
            auth_config: Value::Null,
        })
        .unwrap()
        .uri
    };
    assert_eq!(conn("h:1", json!({"protoContent": PROTO})), "http://h:1");
    assert_eq!(
        conn("https://h:1/", json!({"protoContent": PROTO})),
        "https://h:1"
    );
    assert_eq!(
        conn("http://h:1", json!({"protoContent": PROTO})),
        "http://h:1"
    );
    let legacy = json!({"protoContent": PROTO, "useTLS": true});
    assert_eq!(conn("h:1", legacy), "https://h:1");
    let off = json!({"protoContent": PROTO, "useTls": false});
    assert_eq!(conn("https://h:1", off), "http://h:1");
}

#[test]
fn client_streaming_is_rejected_and_templates_checked() {
    let proto = PROTO.replace(
        "rpc SendMessage(ChatRequest)",
        "rpc SendMessage(stream ChatRequest)",
    );
    let errors = validate_config(&spec(json!({"protoContent": proto})));
    assert_eq!(errors[0].field, "protocolConfig.methodName");
    let mut s = spec(json!({"protoContent": PROTO}));
    s.request_template.message_path = "messages[*]".into();
    let errors = validate_config(&s);
    assert_eq!(errors[0].field, "requestTemplate.messagePath");
    let mut s = spec(json!({"protoContent": PROTO}));
    s.request_template.message_path = "text".into();
    let errors = validate_config(&s);
    assert_eq!(errors[0].field, "requestTemplate", "{errors:?}");
}

#[test]
fn config_type_errors_name_the_key() {
    let errors = validate_config(&spec(json!({"protoContent": PROTO, "useTls": 3})));
    assert_eq!(errors[0].field, "protocolConfig.useTls", "{errors:?}");
    let errors = validate_config(&spec(json!({"protoPath": "/srv/chat.proto"})));
    assert!(errors[0].rule.contains("not supported"), "{errors:?}");
}
