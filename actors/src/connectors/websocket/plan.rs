//! The connection plan of a WebSocket target: settings, the endpoint with its auth query
//! parameters, and the upgrade request (auth headers, extra headers, subprotocols).
//!
//! Credentials live only in here; `Debug` and error messages show the URL without its query and
//! every message passes through [`WsPlan::scrub`].

use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue, SEC_WEBSOCKET_PROTOCOL};
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;

use super::config::settings;
use super::settings::WsSettings;
use crate::connectors::auth::AuthPlacement;
use crate::connectors::{ConnectorError, TargetConnection};
use crate::domain::events::ErrorKind;
use crate::domain::target::AuthType;

const REDACTED: &str = "<redacted>";

pub(super) struct WsPlan {
    pub settings: WsSettings,
    /// Endpoint plus auth query parameters (secret).
    url: String,
    /// The endpoint without its query, for messages.
    pub display_url: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Credential values to scrub from error messages.
    secrets: Vec<String>,
}

impl std::fmt::Debug for WsPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsPlan")
            .field("url", &self.display_url)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl WsPlan {
    /// Validates the target and derives the plan; errors are `Protocol` and name the field.
    pub fn build(conn: &TargetConnection) -> Result<Self, ConnectorError> {
        let settings = settings(&conn.spec).map_err(|errors| {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            config_error(text.join("; "))
        })?;
        let auth = AuthPlacement::build(conn.spec.auth_type, &conn.auth_config)
            .map_err(|e| config_error(e.to_string()))?;
        let mut url = Url::parse(conn.spec.endpoint.trim())
            .map_err(|_| config_error("endpoint: must be a ws:// or wss:// URL"))?;
        let mut display = url.clone();
        display.set_query(None);
        let mut secrets: Vec<String> = auth.query.iter().map(|(_, v)| v.clone()).collect();
        if !auth.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &auth.query {
                pairs.append_pair(name, value);
            }
        }
        let mut headers = auth.headers.clone();
        headers.extend(settings.headers.iter().cloned());
        let token = bearer_token(conn);
        if let Some(token) = &token {
            secrets.push(token.clone());
        }
        if let Some(value) = subprotocols(&settings, token.as_deref())? {
            headers.push((SEC_WEBSOCKET_PROTOCOL, value));
        }
        secrets.retain(|s| !s.is_empty());
        Ok(Self {
            settings,
            url: url.to_string(),
            display_url: display.to_string(),
            headers,
            secrets,
        })
    }

    /// The upgrade request: URL, auth and extra headers, `Sec-WebSocket-Protocol`.
    pub fn request(&self) -> Result<Request, ConnectorError> {
        let mut request = self
            .url
            .as_str()
            .into_client_request()
            .map_err(|_| config_error("endpoint: must be a ws:// or wss:// URL"))?;
        for (name, value) in &self.headers {
            request.headers_mut().insert(name.clone(), value.clone());
        }
        Ok(request)
    }

    /// `message` with every credential value replaced.
    pub fn scrub(&self, message: String) -> String {
        self.secrets
            .iter()
            .fold(message, |m, secret| m.replace(secret.as_str(), REDACTED))
    }
}

fn config_error(message: impl Into<String>) -> ConnectorError {
    ConnectorError::new(ErrorKind::Protocol, message)
}

fn bearer_token(conn: &TargetConnection) -> Option<String> {
    (conn.spec.auth_type == AuthType::BearerToken)
        .then(|| conn.auth_config.get("token").and_then(Value::as_str))
        .flatten()
        .map(str::to_string)
}

/// `subprotocol`, then the bearer token when `authInSubprotocol` is set.
fn subprotocols(
    settings: &WsSettings,
    token: Option<&str>,
) -> Result<Option<HeaderValue>, ConnectorError> {
    let mut values: Vec<&str> = settings.subprotocol.iter().map(String::as_str).collect();
    if settings.auth_in_subprotocol {
        values.extend(token);
    }
    if values.is_empty() {
        return Ok(None);
    }
    let mut value = HeaderValue::from_str(&values.join(", ")).map_err(|_| {
        config_error("authConfig.token: contains characters not allowed in a subprotocol")
    })?;
    value.set_sensitive(settings.auth_in_subprotocol);
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::target::{ConnectorType, RequestTemplate, ResponseTemplate, TargetSpec};
    use serde_json::json;

    fn conn(auth_type: AuthType, auth: Value, config: Value) -> TargetConnection {
        TargetConnection {
            spec: TargetSpec {
                name: "ws".into(),
                description: None,
                rate_limit: None,
                connector_type: ConnectorType::Websocket,
                endpoint: "wss://bot.example.com/chat?lang=de".into(),
                auth_type,
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
                protocol_config: Some(config),
            },
            auth_config: auth,
        }
    }

    #[test]
    fn auth_goes_to_headers_query_and_subprotocol() {
        let config = json!({"subprotocol": "chat.v1", "authInSubprotocol": true, "headers": {"x-extra": "1"}});
        let plan = WsPlan::build(&conn(
            AuthType::BearerToken,
            json!({"token": "T0K"}),
            config,
        ))
        .unwrap();
        let request = plan.request().unwrap();
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(header("authorization"), "Bearer T0K");
        assert_eq!(header("sec-websocket-protocol"), "chat.v1, T0K");
        assert_eq!(header("x-extra"), "1");
        assert!(request.headers().contains_key("sec-websocket-key"));
        assert_eq!(
            request.uri().to_string(),
            "wss://bot.example.com/chat?lang=de"
        );
        let auth = json!({"apiKey": "K3Y", "location": "query", "paramName": "token"});
        let plan = WsPlan::build(&conn(AuthType::ApiKey, auth, json!({}))).unwrap();
        let request = plan.request().unwrap();
        assert_eq!(request.uri().query(), Some("lang=de&token=K3Y"));
        assert!(!format!("{plan:?}").contains("K3Y"));
        assert_eq!(plan.display_url, "wss://bot.example.com/chat");
        assert_eq!(
            plan.scrub("failed at ...?token=K3Y".into()),
            "failed at ...?token=<redacted>"
        );
    }

    #[test]
    fn invalid_config_names_fields() {
        let config = json!({"idPath": "a[*]", "reconnect": {"maxAttempts": 1000}});
        let err = WsPlan::build(&conn(AuthType::None, Value::Null, config)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol);
        assert!(
            err.message.starts_with("protocolConfig.idPath:"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("protocolConfig.reconnect.maxAttempts"),
            "{}",
            err.message
        );
        let err = WsPlan::build(&conn(AuthType::BearerToken, json!({}), json!({}))).unwrap_err();
        assert_eq!(err.message, "authConfig.token: required");
    }
}
