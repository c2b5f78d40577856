//! Command-line flags of the web and egress hardening: `serve` takes both groups, `worker` the
//! egress group (it connects to targets but serves no HTTP). See docs/DEPLOYMENT.md, *Security*.

use clap::Args;

use actors::connectors::egress::{EgressMode, EgressPolicy};

/// `serve` flags of the web and egress hardening.
#[derive(Debug, Args)]
pub struct HardeningArgs {
    /// URL users reach this node by (repeatable or comma-separated); its host joins the Host
    /// allow-list (loopback names are always allowed).
    #[arg(long = "public-url", env = "KRAWALL_PUBLIC_URL", value_delimiter = ',')]
    pub public_url: Vec<reqwest::Url>,
    #[command(flatten)]
    pub egress: EgressArgs,
}

/// Where outbound connections (targets, probes, webhooks) may go: `serve` and `worker`.
#[derive(Debug, Clone, Args)]
pub struct EgressArgs {
    /// Outbound connections: `allow` (everything but link-local metadata addresses) or
    /// `deny-private` (public addresses only), checked on the resolved address.
    #[arg(long, env = "KRAWALL_EGRESS", value_enum, default_value_t = EgressArg::Allow)]
    pub egress: EgressArg,
    /// Networks outbound connections may always reach, e.g. 10.0.0.0/8 or 169.254.169.254/32
    /// (repeatable or comma-separated).
    #[arg(
        long = "egress-allow",
        env = "KRAWALL_EGRESS_ALLOW",
        value_delimiter = ','
    )]
    pub egress_allow: Vec<ipnet::IpNet>,
}

/// `--egress` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EgressArg {
    Allow,
    DenyPrivate,
}

impl EgressArgs {
    /// The egress policy of these flags.
    pub fn policy(&self) -> EgressPolicy {
        EgressPolicy {
            mode: match self.egress {
                EgressArg::Allow => EgressMode::Allow,
                EgressArg::DenyPrivate => EgressMode::DenyPrivate,
            },
            allow: self.egress_allow.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn egress_of(args: &[&str]) -> EgressPolicy {
        let cli = Cli::try_parse_from(args).unwrap();
        match cli.command {
            Command::Serve { hardening, .. } => hardening.egress.policy(),
            Command::Worker { egress, .. } => egress.policy(),
            other => panic!("unexpected command {other:?}"),
        }
    }

    #[test]
    fn serve_and_worker_take_the_same_egress_flags() {
        let expected = EgressPolicy {
            mode: EgressMode::DenyPrivate,
            allow: vec![
                "127.0.0.1/32".parse().unwrap(),
                "10.0.0.0/8".parse().unwrap(),
                "169.254.169.254/32".parse().unwrap(),
            ],
        };
        let flags = [
            "--egress",
            "deny-private",
            "--egress-allow",
            "127.0.0.1/32,10.0.0.0/8",
            "--egress-allow",
            "169.254.169.254/32",
        ];
        for command in ["serve", "worker"] {
            let mut args = vec!["krawall", command];
            args.extend(flags);
            assert_eq!(egress_of(&args), expected, "{command}");
            assert_eq!(
                egress_of(&["krawall", command]),
                EgressPolicy::default(),
                "{command}"
            );
        }
        let bad = Cli::try_parse_from(["krawall", "worker", "--egress", "deny"]);
        assert!(bad.is_err());
        let bad = Cli::try_parse_from(["krawall", "worker", "--egress-allow", "10.0.0.300/8"]);
        assert!(bad.is_err());
    }
}
