//! The outbound HTTP client every target, probe and webhook uses: redirects are followed only
//! within the same origin (scheme, host, port), so credentials sent to a target never reach
//! another host through a `Location` header. [`Outbound`] pairs it with the egress policy for
//! the connectors that open their own sockets (WebSocket, gRPC).

use std::sync::Arc;
use std::time::Duration;

use reqwest::redirect::{Attempt, Policy};

use super::egress::{EgressLayer, EgressPolicy, EgressResolver};

/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 10;

/// Follows a redirect only to the origin of the original request; a cross-origin `Location`
/// is not followed and the 3xx answer is returned as it is.
pub fn same_origin_redirects() -> Policy {
    Policy::custom(|attempt: Attempt| {
        let first = attempt.previous().first().map(|u| u.origin());
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if first.is_some_and(|o| o != attempt.url().origin()) {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// A client builder with the node's outbound defaults: connect timeout, same-origin redirects
/// and the egress policy on every resolved and connected address.
pub fn outbound_client(egress: &EgressPolicy) -> reqwest::ClientBuilder {
    let egress = Arc::new(egress.clone());
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .redirect(same_origin_redirects())
        .dns_resolver(Arc::new(EgressResolver(egress.clone())))
        .connector_layer(EgressLayer(egress))
}

/// What connectors reach targets through, cheap to clone: the shared HTTP client (HTTP, SSE,
/// HTTP health probes) and the egress policy that WebSocket and gRPC connections dial under
/// (`super::dial`).
#[derive(Debug, Clone)]
pub struct Outbound {
    pub http: reqwest::Client,
    pub egress: Arc<EgressPolicy>,
}

impl Outbound {
    /// The node's outbound side: [`outbound_client`] with a pool for many targets, and `egress`.
    pub fn new(egress: &EgressPolicy) -> reqwest::Result<Self> {
        Ok(Self {
            http: outbound_client(egress)
                .pool_max_idle_per_host(1024)
                .build()?,
            egress: Arc::new(egress.clone()),
        })
    }
}
