//! The JSON envelope `{success, data, error?, details?}` and the API error type every handler uses.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use actors::commands::CommandError;
use actors::domain::validation::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

/// The success envelope: `{success: true, data}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    /// Always `true`.
    pub success: bool,
    pub data: T,
}

/// The failure envelope: `error` says what went wrong; on a 400 `details` lists every
/// `{field, rule}` broken, otherwise it is `null`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Always `false`.
    pub success: bool,
    pub error: String,
    pub details: Option<Vec<FieldError>>,
}

/// Any JSON object (a shape documented elsewhere: presets, templates, probe results).
#[derive(ToSchema)]
#[schema(value_type = Object)]
#[allow(dead_code)] // a documentation type for `Envelope<JsonObject>`
pub struct JsonObject(serde_json::Value);

/// Any JSON value (a shape documented elsewhere).
#[derive(ToSchema)]
#[schema(value_type = Value)]
#[allow(dead_code)] // a documentation type for `Envelope<JsonAny>`
pub struct JsonAny(serde_json::Value);

/// `{id, deleted: true}`: what a DELETE answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    pub id: uuid::Uuid,
    pub deleted: bool,
}

impl Deleted {
    pub fn new(id: uuid::Uuid) -> Self {
        Self { id, deleted: true }
    }
}

/// A successful envelope.
pub fn ok<T: Serialize>(status: StatusCode, data: T) -> HttpResponse {
    HttpResponse::build(status).json(Envelope {
        success: true,
        data,
    })
}

/// An API failure; user-facing variants carry their message, `Unexpected` hides its cause.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed: {}", summary(.0))]
    Invalid(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("the read model did not catch up in time; retry")]
    Lagging,
    #[error("internal error")]
    Unexpected(#[from] anyhow::Error),
}

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ApiError {
    /// One field error.
    pub fn field(field: &str, rule: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError {
            field: field.into(),
            rule: rule.into(),
        }])
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Invalid(errors) => Self::Invalid(errors),
            CommandError::NotFound(what) => Self::NotFound(what),
            CommandError::Refused(reason) => Self::Conflict(reason),
            CommandError::Conflict => {
                Self::Conflict("the resource was changed concurrently; retry".into())
            }
            other => Self::Unexpected(anyhow::Error::new(other)),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Unexpected(anyhow::Error::new(e))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Lagging => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Unexpected(e) = self {
            tracing::error!(error = ?e, "request failed");
        }
        let details = match self {
            Self::Invalid(errors) => Some(errors.clone()),
            _ => None,
        };
        HttpResponse::build(self.status_code()).json(ErrorBody {
            success: false,
            error: self.to_string(),
            details,
        })
    }
}

/// Parses a JSON body into `T`, naming the offending field on failure.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "$".to_string() } else { path };
        ApiError::field(&field, e.inner().to_string())
    })
}

/// Converts a JSON value into `T`, naming the offending field on failure.
pub fn parse_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| ApiError::field(&e.path().to_string(), e.inner().to_string()))
}

/// Parses a path segment as a UUID; a malformed id is simply not found.
pub fn parse_id(raw: &str, what: &'static str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::NotFound(what))
}
