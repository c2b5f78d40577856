//! Connector registry: builds the right `Connector` for a target's `ConnectorType`.

use super::http::HttpConnector;
use super::{Connector, ConnectorError, TargetConnection};
use crate::domain::events::ErrorKind;
use crate::domain::target::ConnectorType;

/// Builds a connector for `conn` on the shared HTTP client (a cheap clone).
///
/// Errors are `Protocol` and name the offending field (or the unsupported connector type).
pub fn build_connector(
    conn: &TargetConnection,
    http: &reqwest::Client,
) -> Result<Box<dyn Connector>, ConnectorError> {
    match conn.spec.connector_type {
        ConnectorType::HttpRest => Ok(Box::new(HttpConnector::new(conn, http.clone())?)),
        other @ (ConnectorType::Websocket | ConnectorType::Grpc | ConnectorType::Sse) => {
            Err(ConnectorError::new(
                ErrorKind::Protocol,
                format!("connector type {} is not supported yet", other.as_str()),
            ))
        }
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
                connector_type,
                endpoint: "http://127.0.0.1:9/v1/chat/completions".into(),
                auth_type: AuthType::BearerToken,
                request_template: RequestTemplate {
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
    fn builds_http_and_rejects_the_rest() {
        let client = reqwest::Client::new();
        assert!(build_connector(&connection(ConnectorType::HttpRest), &client).is_ok());
        let err = build_connector(&connection(ConnectorType::Grpc), &client)
            .err()
            .unwrap();
        assert_eq!(err.kind, ErrorKind::Protocol);
        assert_eq!(err.message, "connector type GRPC is not supported yet");
    }

    #[test]
    fn invalid_config_names_the_field() {
        let client = reqwest::Client::new();
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
