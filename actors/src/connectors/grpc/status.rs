//! Classifies gRPC failures into `ConnectorError`s: transport and status codes to `ErrorKind`,
//! `retry-after` metadata, and mid-stream breaks with the partial text.

use std::error::Error as _;

use tonic::metadata::MetadataMap;
use tonic::{Code, Status};

use super::codec::is_decode_error;
use crate::connectors::ConnectorError;
use crate::domain::events::ErrorKind;

/// A failed call: `Unavailable` → `Connect`, `DeadlineExceeded` → `Timeout`,
/// `ResourceExhausted` → `RateLimited` (with `retry-after`), a broken connection (`Unknown` from
/// the transport) → `Connect`, a reply that does not match the proto → `Protocol`, any other
/// code → `HttpStatus`. `status` is the gRPC code.
pub(super) fn status_error(status: &Status) -> ConnectorError {
    if is_decode_error(status) {
        return ConnectorError::new(ErrorKind::Protocol, status.message());
    }
    let kind = match status.code() {
        Code::Unavailable => ErrorKind::Connect,
        Code::Unknown if from_transport(status) => ErrorKind::Connect,
        Code::DeadlineExceeded => ErrorKind::Timeout,
        Code::ResourceExhausted => ErrorKind::RateLimited,
        _ => ErrorKind::HttpStatus,
    };
    let retry_after_ms = match kind {
        ErrorKind::RateLimited => retry_after_ms(status.metadata()),
        _ => None,
    };
    ConnectorError {
        kind,
        message: describe(status),
        status: Some(code_number(status.code())),
        retry_after_ms,
        partial: None,
    }
}

/// A server stream that broke off after some content: always `Protocol`, with the text so far.
pub(super) fn stream_error(status: &Status, chunks: u64, partial: String) -> ConnectorError {
    let status_code = (!is_decode_error(status)).then(|| code_number(status.code()));
    ConnectorError {
        kind: ErrorKind::Protocol,
        message: format!(
            "stream broke off after {chunks} chunk(s): {}",
            describe(status)
        ),
        status: status_code,
        retry_after_ms: None,
        partial: Some(partial),
    }
}

/// The channel could not be established (refused, DNS, TLS handshake, connect timeout).
pub(super) fn transport_error(uri: &str, err: &tonic::transport::Error) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Connect,
        format!("connecting to {uri} failed: {}", with_sources(err)),
    )
}

/// `gRPC Unavailable: message: cause: cause`.
fn describe(status: &Status) -> String {
    let mut message = format!("gRPC {:?}", status.code());
    if !status.message().is_empty() {
        message.push_str(": ");
        message.push_str(status.message());
    }
    let mut source = status.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

fn with_sources(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Whether the status wraps a transport failure (connection reset, TLS mismatch) rather than
/// a code sent by the server.
fn from_transport(status: &Status) -> bool {
    let mut source = status.source();
    while let Some(cause) = source {
        if cause.is::<tonic::transport::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

fn code_number(code: Code) -> u16 {
    u16::try_from(code as i32).unwrap_or(u16::MAX)
}

/// `retry-after` metadata in (decimal) seconds, as milliseconds.
fn retry_after_ms(metadata: &MetadataMap) -> Option<u64> {
    let value = metadata.get("retry-after")?.to_str().ok()?.trim();
    let seconds = value.parse::<f64>().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| (seconds * 1000.0).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::metadata::MetadataValue;

    #[test]
    fn codes_map_to_kinds() {
        let cases = [
            (Status::unavailable("down"), ErrorKind::Connect, 14),
            (Status::deadline_exceeded("slow"), ErrorKind::Timeout, 4),
            (
                Status::resource_exhausted("busy"),
                ErrorKind::RateLimited,
                8,
            ),
            (Status::internal("boom"), ErrorKind::HttpStatus, 13),
            (Status::unimplemented("no"), ErrorKind::HttpStatus, 12),
        ];
        for (status, kind, code) in cases {
            let err = status_error(&status);
            assert_eq!((err.kind, err.status), (kind, Some(code)), "{status:?}");
            assert!(err.message.starts_with("gRPC "), "{}", err.message);
        }
        let err = status_error(&Status::internal("boom"));
        assert_eq!(err.message, "gRPC Internal: boom");
    }

    #[test]
    fn retry_after_comes_from_metadata() {
        let mut metadata = MetadataMap::new();
        metadata.insert("retry-after", MetadataValue::from_static("2.5"));
        let status = Status::with_metadata(Code::ResourceExhausted, "slow down", metadata);
        assert_eq!(status_error(&status).retry_after_ms, Some(2500));
        assert_eq!(
            status_error(&Status::resource_exhausted("x")).retry_after_ms,
            None
        );
    }

    #[test]
    fn stream_breaks_keep_the_partial_text() {
        let err = stream_error(&Status::aborted("dropped"), 2, "Hello wor".into());
        assert_eq!(err.kind, ErrorKind::Protocol);
        assert_eq!(err.partial.as_deref(), Some("Hello wor"));
        assert_eq!(err.status, Some(10));
        assert!(err.message.contains("after 2 chunk(s)"), "{}", err.message);
    }
}
