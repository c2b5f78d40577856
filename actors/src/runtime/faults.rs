//! The fault layer in front of the connector: an exchange drawn for an injected fault never
//! reaches the target; it fails here exactly as a real fault of that kind would.

use std::time::Duration;

use crate::connectors::{ConnectorError, Reply};
use crate::domain::events::ErrorKind;
use crate::domain::faults::InjectedFault;

/// What the target would have done: a timeout waits out the message timeout, the others fail
/// at once with the status and kind a real fault has.
pub async fn simulate(fault: InjectedFault, timeout: Duration) -> Result<Reply, ConnectorError> {
    let (kind, status, message) = match fault {
        InjectedFault::Timeout => {
            tokio::time::sleep(timeout).await;
            (
                ErrorKind::Timeout,
                None,
                format!("no reply within {} ms (injected)", timeout.as_millis()),
            )
        }
        InjectedFault::ServerError => (
            ErrorKind::HttpStatus,
            Some(500),
            "HTTP 500: internal server error (injected)".to_string(),
        ),
        InjectedFault::RateLimit => (
            ErrorKind::RateLimited,
            Some(429),
            "HTTP 429: too many requests (injected)".to_string(),
        ),
        InjectedFault::Drop
        | InjectedFault::MalformedJson
        | InjectedFault::EmptyBody
        | InjectedFault::Oversized => (
            ErrorKind::Connect,
            None,
            "connection dropped before a reply (injected)".to_string(),
        ),
    };
    Err(ConnectorError {
        status,
        ..ConnectorError::new(kind, message)
    })
}
