//! Fault injection: the faults Krawall can inject (per message step, or a share of all exchanges
//! via `executionConfig.faults`) and the seeded, deterministic draw that picks them.

use serde::{Deserialize, Serialize};

use super::validation::Validator;

/// A deliberately injected fault, as recorded in `ErrorInjected.fault`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectedFault {
    /// A request whose JSON body is cut short (sent to the target).
    MalformedJson,
    /// A request with an empty body (sent to the target).
    EmptyBody,
    /// A 1 MiB message (sent to the target).
    Oversized,
    /// No reply until the message timeout (the target never sees the request).
    Timeout,
    /// An HTTP 500 in place of the reply (the target never sees the request).
    ServerError,
    /// An HTTP 429 in place of the reply (the target never sees the request).
    RateLimit,
    /// The connection drops before a reply (the target never sees the request).
    Drop,
}

impl InjectedFault {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedJson => "malformed_json",
            Self::EmptyBody => "empty_body",
            Self::Oversized => "oversized",
            Self::Timeout => "timeout",
            Self::ServerError => "server_error",
            Self::RateLimit => "rate_limit",
            Self::Drop => "drop",
        }
    }

    /// Faults a message step's `inject` may name: they shape a real request to the target.
    pub fn from_step(name: &str) -> Option<Self> {
        match name {
            "malformed_json" => Some(Self::MalformedJson),
            "empty_body" => Some(Self::EmptyBody),
            "oversized" => Some(Self::Oversized),
            _ => None,
        }
    }
}

/// `executionConfig.faults`: the share (0–1) of exchanges replaced by each fault.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(default)]
    pub timeout_rate: f64,
    #[serde(default)]
    pub server_error_rate: f64,
    #[serde(default)]
    pub rate_limit_rate: f64,
    #[serde(default)]
    pub drop_rate: f64,
    /// Seed of the draw; the same seed picks the same exchanges (by message index and attempt).
    #[serde(default)]
    pub seed: u64,
}

impl FaultSpec {
    fn bands(&self) -> [(f64, InjectedFault); 4] {
        [
            (self.timeout_rate, InjectedFault::Timeout),
            (self.server_error_rate, InjectedFault::ServerError),
            (self.rate_limit_rate, InjectedFault::RateLimit),
            (self.drop_rate, InjectedFault::Drop),
        ]
    }

    /// The fault replacing this exchange attempt, if any: a uniform draw from a hash of
    /// (seed, message index, attempt) falls into one fault's band.
    pub fn draw(&self, message_index: u32, attempt: u32) -> Option<InjectedFault> {
        let key = (u64::from(message_index) << 32) | u64::from(attempt);
        let u = unit_interval(splitmix64(self.seed ^ splitmix64(key)));
        let mut upper = 0.0;
        for (rate, fault) in self.bands() {
            upper += rate;
            if u < upper {
                return Some(fault);
            }
        }
        None
    }

    pub fn is_active(&self) -> bool {
        self.bands().iter().any(|(rate, _)| *rate > 0.0)
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit_interval(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Checks each rate is in 0–1 and that they add up to at most 1.
pub fn validate_faults(v: &mut Validator, prefix: &str, faults: &FaultSpec) {
    let names = [
        "timeoutRate",
        "serverErrorRate",
        "rateLimitRate",
        "dropRate",
    ];
    let mut sum = 0.0;
    for (name, (rate, _)) in names.iter().zip(faults.bands()) {
        if !(0.0..=1.0).contains(&rate) {
            v.push(format!("{prefix}.{name}"), "must be between 0 and 1");
        }
        sum += rate;
    }
    if sum > 1.0 + 1e-9 {
        v.push(prefix, "the rates must add up to at most 1");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_match_the_configured_shares_and_are_deterministic() {
        let spec = FaultSpec {
            timeout_rate: 0.1,
            server_error_rate: 0.2,
            rate_limit_rate: 0.05,
            drop_rate: 0.05,
            seed: 7,
        };
        let draws: Vec<_> = (0..20_000).map(|i| spec.draw(i, 0)).collect();
        let share = |f| draws.iter().filter(|d| **d == Some(f)).count() as f64 / 20_000.0;
        assert!((share(InjectedFault::Timeout) - 0.1).abs() < 0.01);
        assert!((share(InjectedFault::ServerError) - 0.2).abs() < 0.01);
        assert!((share(InjectedFault::RateLimit) - 0.05).abs() < 0.01);
        assert!((share(InjectedFault::Drop) - 0.05).abs() < 0.01);
        let again: Vec<_> = (0..20_000).map(|i| spec.draw(i, 0)).collect();
        assert_eq!(draws, again);
        let other = FaultSpec { seed: 8, ..spec };
        assert_ne!(
            draws,
            (0..20_000).map(|i| other.draw(i, 0)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn rates_outside_the_unit_interval_are_refused() {
        let mut v = Validator::default();
        let spec = FaultSpec {
            timeout_rate: 1.5,
            drop_rate: 0.5,
            ..FaultSpec::default()
        };
        validate_faults(&mut v, "faults", &spec);
        let errors: Vec<String> = v
            .finish()
            .unwrap_err()
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            errors,
            vec![
                "faults.timeoutRate: must be between 0 and 1",
                "faults: the rates must add up to at most 1"
            ]
        );
    }
}
