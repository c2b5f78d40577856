//! The persona enum, the outcomes a persona can produce, and the dispatch between them.

use std::time::Duration;

use super::{code, default, ecommerce, support};
use crate::mock::sessions::SessionView;

/// How long the `flaky` persona hangs before answering 504.
pub const FLAKY_HANG: Duration = Duration::from_secs(10);

/// A mock chatbot personality, chosen per request by `X-Persona` or the body's `persona`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Persona {
    #[default]
    Default,
    Ecommerce,
    Support,
    Code,
    RateLimited,
    Flaky,
}

/// What the mock does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A normal reply with this text.
    Reply(String),
    /// A normal reply with empty content.
    Empty,
    /// 429 with `Retry-After` in seconds.
    RateLimited { retry_after_secs: u64 },
    /// 500 with an error body.
    ServerError,
    /// Waits, then answers 504.
    HangThenGatewayTimeout(Duration),
}

impl Persona {
    /// Parses a persona name case-insensitively (`rate-limited`, `rate_limited` and
    /// `ratelimited` are the same); `None` for unknown names.
    pub fn parse(name: &str) -> Option<Self> {
        let normalised: String = name
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .collect::<String>()
            .to_lowercase();
        match normalised.as_str() {
            "default" => Some(Self::Default),
            "ecommerce" | "shop" => Some(Self::Ecommerce),
            "support" => Some(Self::Support),
            "code" | "coder" => Some(Self::Code),
            "ratelimited" => Some(Self::RateLimited),
            "flaky" => Some(Self::Flaky),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Ecommerce => "ecommerce",
            Self::Support => "support",
            Self::Code => "code",
            Self::RateLimited => "rate-limited",
            Self::Flaky => "flaky",
        }
    }

    /// The outcome of `message`, given what the session has seen so far.
    pub fn respond(self, message: &str, session: &SessionView) -> Outcome {
        match self {
            Self::Default => Outcome::Reply(default::reply(message, session)),
            Self::Ecommerce => Outcome::Reply(ecommerce::reply(message, session)),
            Self::Support => Outcome::Reply(support::reply(message, session)),
            Self::Code => Outcome::Reply(code::reply(message, session)),
            Self::RateLimited if session.count.is_multiple_of(3) => Outcome::RateLimited {
                retry_after_secs: fastrand::u64(2..=4),
            },
            Self::RateLimited => Outcome::Reply(default::reply(message, session)),
            Self::Flaky => flaky(fastrand::u32(0..100), message, session),
        }
    }
}

/// 60 % normal, 20 % 500, 10 % hang then 504, 10 % empty content; `roll` is 0..100.
fn flaky(roll: u32, message: &str, session: &SessionView) -> Outcome {
    match roll {
        0..60 => Outcome::Reply(default::reply(message, session)),
        60..80 => Outcome::ServerError,
        80..90 => Outcome::HangThenGatewayTimeout(FLAKY_HANG),
        _ => Outcome::Empty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(count: u64) -> SessionView {
        SessionView {
            count,
            seed: 7,
            history: Vec::new(),
        }
    }

    #[test]
    fn parses_names_case_insensitively() {
        assert_eq!(Persona::parse("Rate-Limited"), Some(Persona::RateLimited));
        assert_eq!(Persona::parse("ECOMMERCE"), Some(Persona::Ecommerce));
        assert_eq!(Persona::parse("rate_limited"), Some(Persona::RateLimited));
        assert_eq!(Persona::parse("nope"), None);
        for p in [
            Persona::Default,
            Persona::Support,
            Persona::Code,
            Persona::Flaky,
        ] {
            assert_eq!(Persona::parse(p.as_str()), Some(p));
        }
    }

    #[test]
    fn rate_limited_every_third_request() {
        let p = Persona::RateLimited;
        assert!(matches!(p.respond("hi", &session(1)), Outcome::Reply(_)));
        assert!(matches!(p.respond("hi", &session(2)), Outcome::Reply(_)));
        match p.respond("hi", &session(3)) {
            Outcome::RateLimited { retry_after_secs } => {
                assert!((2..=4).contains(&retry_after_secs))
            }
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(matches!(
            p.respond("hi", &session(6)),
            Outcome::RateLimited { .. }
        ));
    }

    #[test]
    fn flaky_distribution_by_roll() {
        let s = session(1);
        assert!(matches!(flaky(0, "hi", &s), Outcome::Reply(_)));
        assert!(matches!(flaky(59, "hi", &s), Outcome::Reply(_)));
        assert_eq!(flaky(60, "hi", &s), Outcome::ServerError);
        assert_eq!(
            flaky(85, "hi", &s),
            Outcome::HangThenGatewayTimeout(FLAKY_HANG)
        );
        assert_eq!(flaky(95, "hi", &s), Outcome::Empty);
    }
}
