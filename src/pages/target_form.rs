//! The values of the target form (new and edit), flattened for the template; secrets arrive
//! already masked from the read model, so the edit form only ever holds `********`.

use projections::queries::TargetView;
use serde_json::Value;

use super::targets::pretty;

/// Connector types offered, with their labels.
pub const CONNECTOR_TYPES: &[(&str, &str)] = &[
    ("HTTP_REST", "HTTP / REST"),
    ("SSE", "HTTP streaming (SSE)"),
    ("WEBSOCKET", "WebSocket"),
    ("GRPC", "gRPC"),
];

/// Auth types offered, with their labels.
pub const AUTH_TYPES: &[(&str, &str)] = &[
    ("NONE", "None"),
    ("BEARER_TOKEN", "Bearer token"),
    ("API_KEY", "API key"),
    ("BASIC_AUTH", "Basic (user and password)"),
    ("CUSTOM_HEADER", "Custom headers"),
];

/// Every field of the target form as text.
pub struct TargetForm {
    /// Empty for a new target.
    pub id: String,
    pub name: String,
    pub description: String,
    pub connector_type: String,
    pub endpoint: String,
    pub auth_type: String,
    pub token: String,
    pub api_key: String,
    pub location: String,
    pub header_name: String,
    pub param_name: String,
    pub username: String,
    pub password: String,
    pub headers: Vec<(String, String)>,
    pub message_path: String,
    pub structure: String,
    pub history_path: String,
    pub history_item: String,
    pub history_roles: String,
    pub system_path: String,
    pub rate_rps: String,
    pub rate_tpm: String,
    pub response_path: String,
    pub token_usage_path: String,
    pub error_path: String,
    pub protocol_config: String,
}

fn leaf(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn text(value: &Value, key: &str) -> String {
    leaf(value.get(key))
}

/// Compact JSON of an optional value (empty when absent).
fn json_text(value: Option<&Value>) -> String {
    value
        .filter(|v| !v.is_null())
        .map(Value::to_string)
        .unwrap_or_default()
}

impl TargetForm {
    /// An empty form (HTTP, no auth).
    pub fn blank() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            description: String::new(),
            connector_type: "HTTP_REST".into(),
            endpoint: String::new(),
            auth_type: "NONE".into(),
            token: String::new(),
            api_key: String::new(),
            location: "header".into(),
            header_name: String::new(),
            param_name: String::new(),
            username: String::new(),
            password: String::new(),
            headers: Vec::new(),
            message_path: String::new(),
            structure: String::new(),
            history_path: String::new(),
            history_item: String::new(),
            history_roles: String::new(),
            system_path: String::new(),
            rate_rps: String::new(),
            rate_tpm: String::new(),
            response_path: String::new(),
            token_usage_path: String::new(),
            error_path: String::new(),
            protocol_config: String::new(),
        }
    }

    /// The form of a stored target; auth values are the masked ones.
    pub fn of(t: &TargetView) -> Self {
        let auth = &t.auth_config;
        let headers = auth
            .get("headers")
            .and_then(Value::as_object)
            .map(|h| h.iter().map(|(k, v)| (k.clone(), leaf(Some(v)))).collect())
            .unwrap_or_default();
        let location = text(auth, "location");
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            description: t.description.clone().unwrap_or_default(),
            connector_type: t.connector_type.clone(),
            endpoint: t.endpoint.clone(),
            auth_type: t.auth_type.clone(),
            token: text(auth, "token"),
            api_key: text(auth, "apiKey"),
            location: if location.is_empty() {
                "header".into()
            } else {
                location
            },
            header_name: text(auth, "headerName"),
            param_name: text(auth, "paramName"),
            username: text(auth, "username"),
            password: text(auth, "password"),
            headers,
            message_path: text(&t.request_template, "messagePath"),
            structure: t
                .request_template
                .get("structure")
                .filter(|v| !v.is_null())
                .map(pretty)
                .unwrap_or_default(),
            history_path: text(&t.request_template, "historyPath"),
            history_item: json_text(t.request_template.get("historyItem")),
            history_roles: json_text(t.request_template.get("historyRoles")),
            system_path: text(&t.request_template, "systemPath"),
            rate_rps: t
                .rate_limit
                .as_ref()
                .map_or_else(String::new, |r| text(r, "requestsPerSecond")),
            rate_tpm: t
                .rate_limit
                .as_ref()
                .map_or_else(String::new, |r| text(r, "tokensPerMinute")),
            response_path: text(&t.response_template, "responsePath"),
            token_usage_path: text(&t.response_template, "tokenUsagePath"),
            error_path: text(&t.response_template, "errorPath"),
            protocol_config: t
                .protocol_config
                .as_ref()
                .filter(|v| !v.is_null())
                .map(pretty)
                .unwrap_or_default(),
        }
    }

    pub fn is_new(&self) -> bool {
        self.id.is_empty()
    }

    /// `hidden` unless the auth group for `auth_type` is the selected one.
    pub fn hidden_unless(&self, auth_type: &str) -> &'static str {
        if self.auth_type == auth_type {
            ""
        } else {
            "hidden"
        }
    }

    /// `selected` when `value` equals `current`.
    pub fn selected(current: &str, value: &str) -> &'static str {
        if current == value { "selected" } else { "" }
    }
}
