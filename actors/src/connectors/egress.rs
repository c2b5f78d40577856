//! Egress policy of outbound connections (`serve --egress allow|deny-private`, `--egress-allow
//! CIDR`), checked on the *resolved* address: names through the HTTP client's DNS resolver
//! (before connecting), and every connection's peer address once connected (IP literals,
//! redirects). Link-local metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254) need an
//! explicit `--egress-allow` even in `allow` mode.

use std::future::Future;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::{Connection, HttpInfo};
use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Which destinations outbound connections may reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EgressMode {
    /// Everything but link-local metadata addresses (the default; targets on loopback work).
    #[default]
    Allow,
    /// Public addresses only: no loopback, private, link-local, CGNAT or unique-local ranges.
    DenyPrivate,
}

/// The node's egress policy: a mode plus explicitly allowed networks (which win).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    pub mode: EgressMode,
    pub allow: Vec<IpNet>,
}

/// A connection the egress policy refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("egress policy refuses {ip} ({class}); allow it with --egress-allow")]
pub struct EgressRefused {
    pub ip: IpAddr,
    pub class: &'static str,
}

/// The AWS IPv6 instance metadata address.
const EC2_METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);

impl EgressPolicy {
    /// The addresses the policy allows, and the first refusal (when one was refused).
    pub fn allowed(
        &self,
        addrs: impl IntoIterator<Item = SocketAddr>,
    ) -> (Vec<SocketAddr>, Option<EgressRefused>) {
        let mut refused = None;
        let allowed = addrs
            .into_iter()
            .filter(|a| match self.check(a.ip()) {
                Ok(()) => true,
                Err(e) => {
                    refused.get_or_insert(e);
                    false
                }
            })
            .collect();
        (allowed, refused)
    }

    /// Whether a connection to `ip` may proceed.
    pub fn check(&self, ip: IpAddr) -> Result<(), EgressRefused> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        if self.allow.iter().any(|net| net.contains(&ip)) {
            return Ok(());
        }
        let refuse = |class| Err(EgressRefused { ip, class });
        if is_link_local(ip) {
            return refuse("link-local / cloud metadata");
        }
        if self.mode == EgressMode::DenyPrivate && is_private(ip) {
            return refuse("private, loopback or reserved");
        }
        Ok(())
    }
}

fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => v6 == EC2_METADATA_V6 || (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
                || a >= 240
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
        }
    }
}

/// DNS resolver of the outbound client: drops the addresses the policy refuses (before any
/// connection), failing when none is left.
#[derive(Debug, Clone)]
pub struct EgressResolver(pub Arc<EgressPolicy>);

impl Resolve for EgressResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (allowed, refused) = policy.allowed(found);
            match (allowed.is_empty(), refused) {
                (true, Some(e)) => Err(Box::new(e) as BoxError),
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

/// Connector layer that checks each new connection's peer address (IP-literal URLs and
/// redirects do not go through the resolver).
#[derive(Debug, Clone)]
pub struct EgressLayer(pub Arc<EgressPolicy>);

impl<S> tower::Layer<S> for EgressLayer {
    type Service = EgressService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EgressService {
            inner,
            policy: self.0.clone(),
        }
    }
}

/// See [`EgressLayer`].
#[derive(Debug, Clone)]
pub struct EgressService<S> {
    inner: S,
    policy: Arc<EgressPolicy>,
}

/// The IP-literal host of a connector request, read from its `Debug` form (reqwest's request
/// type is sealed; it prints the destination URI). `None` for names, which the resolver checks.
fn literal_destination(req: &impl std::fmt::Debug) -> Option<IpAddr> {
    let text = format!("{req:?}");
    let rest = text.split_once("://")?.1;
    let authority = rest.split(['/', ')', '?', '#', '"']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host.split(':').next()?,
    };
    host.parse().ok()
}

impl<S, Req> tower::Service<Req> for EgressService<S>
where
    Req: std::fmt::Debug,
    S: tower::Service<Req, Error = BoxError>,
    S::Response: Connection + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let policy = self.policy.clone();
        // Before connecting when the destination is an IP literal; after, on the peer address.
        if let Some(Err(refused)) = literal_destination(&req).map(|ip| policy.check(ip)) {
            return Box::pin(async move { Err(Box::new(refused) as BoxError) });
        }
        let connecting = self.inner.call(req);
        Box::pin(async move {
            let conn = connecting.await?;
            let mut extras = http::Extensions::new();
            conn.connected().get_extras(&mut extras);
            if let Some(info) = extras.get::<HttpInfo>() {
                policy.check(info.remote_addr().ip())?;
            }
            Ok(conn)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn metadata_addresses_need_an_explicit_allow_even_in_allow_mode() {
        let allow = EgressPolicy::default();
        assert!(allow.check(ip("169.254.169.254")).is_err());
        assert!(allow.check(ip("fd00:ec2::254")).is_err());
        assert!(allow.check(ip("::ffff:169.254.169.254")).is_err());
        assert!(allow.check(ip("127.0.0.1")).is_ok());
        assert!(allow.check(ip("10.1.2.3")).is_ok());
        let explicit = EgressPolicy {
            allow: vec!["169.254.169.254/32".parse().unwrap()],
            ..EgressPolicy::default()
        };
        assert!(explicit.check(ip("169.254.169.254")).is_ok());
    }

    #[test]
    fn literal_destinations_are_read_from_the_request() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Unnameable(&'static str);
        let ip = |u| literal_destination(&Unnameable(u));
        assert_eq!(
            ip("http://169.254.169.254/latest"),
            Some("169.254.169.254".parse().unwrap())
        );
        assert_eq!(
            ip("http://[fd00:ec2::254]:80/"),
            Some("fd00:ec2::254".parse().unwrap())
        );
        assert_eq!(
            ip("https://u:p@10.0.0.1:8443"),
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(ip("https://api.example.com/v1"), None);
    }

    #[test]
    fn deny_private_refuses_loopback_private_and_reserved_ranges() {
        let deny = EgressPolicy {
            mode: EgressMode::DenyPrivate,
            allow: vec!["10.9.0.0/16".parse().unwrap()],
        };
        for refused in [
            "127.0.0.1",
            "10.0.0.1",
            "192.168.1.1",
            "172.16.0.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(deny.check(ip(refused)).is_err(), "{refused}");
        }
        for allowed in ["8.8.8.8", "2606:4700::1111", "10.9.1.1"] {
            assert!(deny.check(ip(allowed)).is_ok(), "{allowed}");
        }
    }
}
