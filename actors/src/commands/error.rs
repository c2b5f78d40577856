//! Errors of the command handlers, mapped to 4xx/5xx by the HTTP layer.

use crate::domain::lifecycle::ResourceError;
use crate::domain::session::SessionError;
use crate::domain::validation::FieldError;
use crate::runtime::SessionLogError;
use crate::secrets::SecretError;
use crate::store::{AppendError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("validation failed")]
    Invalid(Vec<FieldError>),
    /// The command is not allowed in the resource's current state.
    #[error("{0}")]
    Refused(String),
    #[error("concurrent modification, retry")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("secret could not be sealed or opened")]
    Secret(#[from] SecretError),
    #[error("event payload could not be encoded")]
    Encode(#[from] serde_json::Error),
    #[error("dispatcher unavailable")]
    Dispatcher,
}

impl From<AppendError> for CommandError {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Conflict { .. } => Self::Conflict,
            AppendError::Store(s) => Self::Store(s),
        }
    }
}

impl From<ResourceError> for CommandError {
    fn from(e: ResourceError) -> Self {
        match e {
            ResourceError::NotFound => Self::NotFound("resource"),
            ResourceError::AlreadyExists => Self::Refused(e.to_string()),
        }
    }
}

impl From<SessionLogError> for CommandError {
    fn from(e: SessionLogError) -> Self {
        match e {
            SessionLogError::Rejected(SessionError::NotFound) => Self::NotFound("session"),
            SessionLogError::Rejected(r) => Self::Refused(r.to_string()),
            SessionLogError::Append(a) => a.into(),
            SessionLogError::Store(s) => Self::Store(s),
            SessionLogError::Encode(j) => Self::Encode(j),
        }
    }
}
