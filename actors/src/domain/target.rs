//! Target: a chatbot endpoint under test — its spec types and its pure decide/evolve aggregate.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::validation::{FieldError, Validator};

/// Wire protocol used to reach a target (upstream names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ConnectorType {
    HttpRest,
    Websocket,
    Grpc,
    Sse,
}

impl ConnectorType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HttpRest => "HTTP_REST",
            Self::Websocket => "WEBSOCKET",
            Self::Grpc => "GRPC",
            Self::Sse => "SSE",
        }
    }
}

/// How credentials are attached to outgoing requests (upstream names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AuthType {
    #[default]
    None,
    BearerToken,
    ApiKey,
    BasicAuth,
    CustomHeader,
}

impl AuthType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::BearerToken => "BEARER_TOKEN",
            Self::ApiKey => "API_KEY",
            Self::BasicAuth => "BASIC_AUTH",
            Self::CustomHeader => "CUSTOM_HEADER",
        }
    }
}

/// Where the outgoing message goes: `structure` is cloned and the message written at `messagePath`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestTemplate {
    pub message_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structure: Option<Value>,
    /// Where the conversation (earlier turns + the new message) is written as an array; when
    /// set, `messagePath` is not written (see `docs/connectors.md`, "Conversation history").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_path: Option<String>,
    /// One array item: string leaves `{{role}}` and `{{content}}` are filled in per turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_item: Option<Value>,
    /// Role names the API uses instead of `system`, `user`, `assistant` (Gemini: `model`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub history_roles: BTreeMap<String, String>,
    /// Where the system prompt goes when it is not the first history item (Anthropic: `system`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_path: Option<String>,
}

/// Where the reply text, token usage and error message are read from the reply JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResponseTemplate {
    pub response_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_usage_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_path: Option<String>,
}

/// Everything about a target except its credentials (which travel encrypted, see [`SealedAuth`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub connector_type: ConnectorType,
    pub endpoint: String,
    pub auth_type: AuthType,
    pub request_template: RequestTemplate,
    pub response_template: ResponseTemplate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_config: Option<Value>,
    /// Node-wide request and token budget for this target, shared by all its sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
}

/// `rateLimit` of a target: token buckets shared by every session on the node.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateLimit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_second: Option<f64>,
    /// Estimated input tokens per minute (the context each request carries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_minute: Option<u64>,
}

/// Credentials as they may appear in events: ciphertext plus a masked copy for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SealedAuth {
    /// `k1:<nonce b64>:<ciphertext b64>` of the auth config JSON; `None` when there is no secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext: Option<String>,
    /// The auth config with every secret value replaced by [`MASK`].
    pub masked: Value,
}

/// The placeholder shown instead of a secret value.
pub const MASK: &str = "********";

/// Keys inside an auth config whose values are not secret and stay readable.
pub const NON_SECRET_AUTH_KEYS: &[&str] = &["headerName", "paramName", "location", "username"];

/// Replaces every secret leaf (string or number) of an auth config with [`MASK`], at any depth.
pub fn mask_auth_config(config: &Value) -> Value {
    fn walk(value: &Value, key: Option<&str>) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), walk(v, Some(k))))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|v| walk(v, key)).collect()),
            Value::Null | Value::Bool(_) => value.clone(),
            _ if key.is_some_and(|k| NON_SECRET_AUTH_KEYS.contains(&k)) => value.clone(),
            _ => Value::String(MASK.to_string()),
        }
    }
    walk(config, None)
}

/// Puts back stored secrets wherever an update left a masked value untouched.
pub fn unmask_auth_config(update: &Value, stored: &Value) -> Value {
    match (update, stored) {
        (Value::String(s), stored) if s == MASK => stored.clone(),
        (Value::Object(new), Value::Object(old)) => Value::Object(
            new.iter()
                .map(|(k, v)| {
                    let merged = old
                        .get(k)
                        .map_or_else(|| v.clone(), |o| unmask_auth_config(v, o));
                    (k.clone(), merged)
                })
                .collect(),
        ),
        _ => update.clone(),
    }
}

/// Checks the target spec and the plaintext auth config; errors name the field and the rule.
pub fn validate_target(spec: &TargetSpec, auth_config: &Value) -> Result<(), Vec<FieldError>> {
    let mut v = Validator::default();
    v.length("name", &spec.name, 1, 200);
    v.non_empty("endpoint", &spec.endpoint);
    if spec.connector_type == ConnectorType::HttpRest || spec.connector_type == ConnectorType::Sse {
        v.http_url("endpoint", &spec.endpoint);
    }
    v.non_empty(
        "requestTemplate.messagePath",
        &spec.request_template.message_path,
    );
    v.non_empty(
        "responseTemplate.responsePath",
        &spec.response_template.response_path,
    );
    validate_auth(&mut v, spec.auth_type, auth_config);
    validate_history(&mut v, &spec.request_template);
    if let Some(limit) = &spec.rate_limit {
        validate_rate_limit(&mut v, limit);
    }
    v.finish()
}

fn validate_history(v: &mut Validator, request: &RequestTemplate) {
    match (&request.history_path, &request.history_item) {
        (Some(_), None) => v.push(
            "requestTemplate.historyItem",
            "is required when historyPath is set",
        ),
        (None, Some(_)) => v.push(
            "requestTemplate.historyPath",
            "is required when historyItem is set",
        ),
        (Some(_), Some(item)) if !mentions(item, "{{content}}") => v.push(
            "requestTemplate.historyItem",
            "must contain \"{{content}}\" in a string value",
        ),
        _ => {}
    }
    for role in request.history_roles.keys() {
        if !["system", "user", "assistant"].contains(&role.as_str()) {
            v.push(
                format!("requestTemplate.historyRoles.{role}"),
                "keys must be system, user or assistant",
            );
        }
    }
}

/// Whether a string leaf of `value` contains `needle`.
fn mentions(value: &Value, needle: &str) -> bool {
    match value {
        Value::String(s) => s.contains(needle),
        Value::Array(items) => items.iter().any(|v| mentions(v, needle)),
        Value::Object(map) => map.values().any(|v| mentions(v, needle)),
        _ => false,
    }
}

/// Checks a `rateLimit`; errors name `rateLimit.<field>`.
pub fn validate_rate_limit(v: &mut Validator, limit: &RateLimit) {
    if let Some(rps) = limit.requests_per_second
        && !(rps.is_finite() && rps > 0.0 && rps <= 100_000.0)
    {
        v.push(
            "rateLimit.requestsPerSecond",
            "must be more than 0 and at most 100000",
        );
    }
    if limit.tokens_per_minute == Some(0) {
        v.push("rateLimit.tokensPerMinute", "must be at least 1");
    }
}

fn validate_auth(v: &mut Validator, auth_type: AuthType, config: &Value) {
    let str_field = |key: &str| config.get(key).and_then(Value::as_str).unwrap_or("");
    match auth_type {
        AuthType::None => {}
        AuthType::BearerToken => v.non_empty("authConfig.token", str_field("token")),
        AuthType::ApiKey => {
            v.non_empty("authConfig.apiKey", str_field("apiKey"));
            let location = config
                .get("location")
                .and_then(Value::as_str)
                .unwrap_or("header");
            if location != "header" && location != "query" {
                v.push("authConfig.location", "must be \"header\" or \"query\"");
            }
        }
        AuthType::BasicAuth => {
            v.non_empty("authConfig.username", str_field("username"));
            v.non_empty("authConfig.password", str_field("password"));
        }
        AuthType::CustomHeader => match config.get("headers") {
            Some(Value::Object(h)) if !h.is_empty() && h.values().all(Value::is_string) => {}
            _ => v.push(
                "authConfig.headers",
                "must be a non-empty object of string values",
            ),
        },
    }
}

/// State of a target stream, folded from its events.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum TargetState {
    #[default]
    Absent,
    Active,
    Deleted,
}
