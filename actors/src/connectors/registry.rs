//! Connector registry: builds the right `Connector` for a target's `ConnectorType`.

use super::grpc::{self, GrpcConnector};
use super::http::HttpConnector;
use super::sse::{self, SseConnector};
use super::websocket::{self, WebSocketConnector};
use super::{Connector, ConnectorError, Outbound, TargetConnection, http_config};
use serde_json::Value;

use crate::domain::sealed_headers::{SEALED_KEY, restore_protocol_secrets};
use crate::domain::target::{ConnectorType, TargetSpec};
use crate::domain::validation::FieldError;

/// Builds a connector for `conn` on the node's outbound side (a cheap clone): HTTP and SSE on
/// the shared client, WebSocket and gRPC dialling under its egress policy.
///
/// Errors are `Protocol` and name the offending field.
pub fn build_connector(
    conn: &TargetConnection,
    outbound: &Outbound,
) -> Result<Box<dyn Connector>, ConnectorError> {
    let unsealed;
    let conn = match conn.auth_config.get(SEALED_KEY) {
        Some(Value::Object(sealed)) => {
            let mut plain = conn.clone();
            restore_protocol_secrets(&mut plain.spec.protocol_config, sealed);
            if let Value::Object(auth) = &mut plain.auth_config {
                auth.remove(SEALED_KEY);
            }
            unsealed = plain;
            &unsealed
        }
        _ => conn,
    };
    Ok(match conn.spec.connector_type {
        ConnectorType::HttpRest => Box::new(HttpConnector::new(conn, outbound.http.clone())?),
        ConnectorType::Sse => Box::new(SseConnector::new(conn, outbound.http.clone())?),
        ConnectorType::Websocket => {
            Box::new(WebSocketConnector::new(conn, outbound.egress.clone())?)
        }
        ConnectorType::Grpc => Box::new(GrpcConnector::new(conn, outbound.egress.clone())?),
    })
}

/// Checks the protocol-specific `protocolConfig` of a target (at create/update time), so a bad
/// configuration is a 400 naming the field instead of a failed session later.
pub fn validate_protocol_config(
    spec: &TargetSpec,
    auth_config: &serde_json::Value,
) -> Vec<FieldError> {
    let mut errors = match spec.connector_type {
        ConnectorType::HttpRest => http_errors(spec, auth_config),
        ConnectorType::Sse => sse::validate_config(spec),
        ConnectorType::Websocket => websocket::validate_config(spec),
        ConnectorType::Grpc => grpc::validate_config(spec),
    };
    errors.extend(super::history::validate_history_paths(spec));
    errors
}

fn http_errors(spec: &TargetSpec, auth_config: &serde_json::Value) -> Vec<FieldError> {
    let conn = TargetConnection {
        spec: spec.clone(),
        auth_config: auth_config.clone(),
    };
    match http_config::plan(&conn) {
        Ok(_) => Vec::new(),
        Err(e) => match e.message.split_once(": ") {
            Some((field, rule)) if field.starts_with("protocolConfig") => {
                vec![FieldError {
                    field: field.to_string(),
                    rule: rule.to_string(),
                }]
            }
            _ => Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::target::{AuthType, RequestTemplate, ResponseTemplate, TargetSpec};
    use serde_json::json;

    fn connection(connector_type: ConnectorType) -> TargetConnection {
        TargetConnection {
            spec: TargetSpec {
                name: "t".into(),
                description: None,
                rate_limit: None,
                connector_type,
                endpoint: "http://127.0.0.1:9/v1/chat/completions".into(),
                auth_type: AuthType::BearerToken,
                request_template: RequestTemplate {
                    history_path: None,
                    history_item: None,
                    history_roles: Default::default(),
                    system_path: None,
                    message_path: "messages.0.content".into(),
                    structure: None,
                },
                response_template: ResponseTemplate {
                    response_path: "choices.0.message.content".into(),
                    token_usage_path: None,
                    error_path: None,
                },
                protocol_config: None,
            },
            auth_config: json!({"token": "t"}),
        }
    }

    #[test]
    fn builds_every_type_and_validates_protocol_config() {
        let client = Outbound::new(&Default::default()).unwrap();
        assert!(build_connector(&connection(ConnectorType::HttpRest), &client).is_ok());
        assert!(build_connector(&connection(ConnectorType::Sse), &client).is_ok());
        let err = build_connector(&connection(ConnectorType::Grpc), &client)
            .err()
            .unwrap();
        assert_eq!(err.kind, crate::domain::events::ErrorKind::Protocol);
        assert!(err.message.contains("protoContent"), "{}", err.message);
        let mut spec = connection(ConnectorType::HttpRest).spec;
        spec.protocol_config = Some(json!({"method": "NOT A METHOD"}));
        let errors = validate_protocol_config(&spec, &json!({"token": "t"}));
        assert_eq!(errors[0].field, "protocolConfig.method");
        let grpc = connection(ConnectorType::Grpc).spec;
        assert!(
            validate_protocol_config(&grpc, &json!({}))
                .iter()
                .any(|e| e.field.starts_with("protocolConfig"))
        );
    }

    #[test]
    fn invalid_config_names_the_field() {
        let client = Outbound::new(&Default::default()).unwrap();
        let mut conn = connection(ConnectorType::HttpRest);
        conn.auth_config = json!({});
        let err = build_connector(&conn, &client).err().unwrap();
        assert_eq!(err.message, "authConfig.token: required");
        let mut conn = connection(ConnectorType::HttpRest);
        conn.spec.request_template.message_path = "messages[*].content".into();
        let err = build_connector(&conn, &client).err().unwrap();
        assert!(
            err.message.starts_with("requestTemplate.messagePath:"),
            "{}",
            err.message
        );
        let mut conn = connection(ConnectorType::HttpRest);
        conn.spec.protocol_config = Some(json!({"method": "NOT A METHOD"}));
        let err = build_connector(&conn, &client).err().unwrap();
        assert_eq!(
            err.message,
            "protocolConfig.method: not a valid HTTP method"
        );
    }

    #[test]
    fn debug_output_hides_query_secrets() {
        let mut conn = connection(ConnectorType::HttpRest);
        conn.spec.auth_type = AuthType::ApiKey;
        conn.auth_config = json!({"apiKey": "TOPSECRET", "location": "query"});
        let connector = HttpConnector::new(&conn, reqwest::Client::new()).unwrap();
        let debug = format!("{connector:?}");
        assert!(debug.contains("/v1/chat/completions"), "{debug}");
        assert!(!debug.contains("TOPSECRET"), "{debug}");
        assert!(!format!("{conn:?}").contains("TOPSECRET"));
    }
}
