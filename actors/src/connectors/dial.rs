//! TCP connections under the egress policy, for the transports that do not go through the
//! outbound HTTP client (WebSocket, gRPC): the host is resolved here, every resolved address is
//! checked, and the socket is opened to a checked address — never resolved a second time, so a
//! DNS answer that changes between check and connect (rebinding) cannot slip through.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::egress::{EgressPolicy, EgressRefused};

/// Why no connection was opened.
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    #[error(transparent)]
    Refused(#[from] EgressRefused),
    #[error("{0} has no host")]
    NoHost(String),
    #[error("cannot resolve {host}: {source}")]
    Resolve { host: String, source: io::Error },
    #[error("{0} resolved to no address")]
    NoAddress(String),
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: SocketAddr, source: io::Error },
}

/// The addresses of `host:port` that the policy allows, in resolver order; an IP literal is
/// checked as it is. Fails with the first refusal when every address is refused.
pub async fn allowed_addrs(
    policy: &EgressPolicy,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, DialError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        policy.check(ip)?;
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let found = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| DialError::Resolve {
            host: host.to_string(),
            source,
        })?;
    let (allowed, refused) = policy.allowed(found);
    match (allowed.is_empty(), refused) {
        (true, Some(refused)) => Err(refused.into()),
        (true, None) => Err(DialError::NoAddress(host.to_string())),
        (false, _) => Ok(allowed),
    }
}

/// Opens a TCP connection (no Nagle) to the first allowed address of `host:port` that accepts.
pub async fn dial(policy: &EgressPolicy, host: &str, port: u16) -> Result<TcpStream, DialError> {
    let mut last = None;
    for addr in allowed_addrs(policy, host, port).await? {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(source) => last = Some(DialError::Connect { addr, source }),
        }
    }
    Err(last.unwrap_or_else(|| DialError::NoAddress(host.to_string())))
}

/// Opens a TCP connection to the host of `uri` (default port by scheme: 443 for `https`/`wss`,
/// else 80).
pub async fn dial_uri(policy: &EgressPolicy, uri: &Uri) -> Result<TcpStream, DialError> {
    let host = uri
        .host()
        .ok_or_else(|| DialError::NoHost(uri.to_string()))?;
    let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("https" | "wss") => 443,
        _ => 80,
    });
    dial(policy, host, port).await
}

/// A connector (`tower::Service<Uri>`) for clients that take one, such as tonic's
/// `Endpoint::connect_with_connector`: each new connection is dialled under the policy.
#[derive(Debug, Clone)]
pub struct EgressDialer(pub Arc<EgressPolicy>);

impl tower::Service<Uri> for EgressDialer {
    type Response = TokioIo<TcpStream>;
    type Error = DialError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, DialError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), DialError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let policy = self.0.clone();
        Box::pin(async move { dial_uri(&policy, &uri).await.map(TokioIo::new) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::egress::EgressMode;

    fn deny_private() -> EgressPolicy {
        EgressPolicy {
            mode: EgressMode::DenyPrivate,
            allow: Vec::new(),
        }
    }

    #[tokio::test]
    async fn literals_and_resolved_names_are_checked_before_connecting() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let refused = dial(&deny_private(), "127.0.0.1", port).await.unwrap_err();
        assert!(matches!(refused, DialError::Refused(_)), "{refused}");
        let refused = dial(&deny_private(), "localhost", port).await.unwrap_err();
        assert!(
            refused.to_string().contains("egress policy refuses"),
            "{refused}"
        );
        let metadata = dial(&EgressPolicy::default(), "169.254.169.254", 80)
            .await
            .unwrap_err();
        assert!(matches!(metadata, DialError::Refused(_)), "{metadata}");
        let v6 = allowed_addrs(&deny_private(), "[::1]", port).await;
        assert!(matches!(v6, Err(DialError::Refused(_))), "{v6:?}");
        let allowed = EgressPolicy {
            allow: vec!["127.0.0.1/32".parse().unwrap()],
            ..deny_private()
        };
        let stream = dial(&allowed, "127.0.0.1", port).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap().port(), port);
        let uri: Uri = format!("http://127.0.0.1:{port}/x").parse().unwrap();
        assert!(dial_uri(&allowed, &uri).await.is_ok());
    }
}
