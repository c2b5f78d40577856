//! Conversation state: role-structured turns, the scenario's `history` policy and the selection
//! of the turns a request carries (full, last N exchanges, token budget, none).

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Who wrote a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// One turn of a conversation; the content is shared so a request can carry it without copying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTurn {
    pub role: Role,
    pub content: Arc<str>,
}

impl ChatTurn {
    pub fn new(role: Role, content: impl Into<Arc<str>>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// How much of a conversation's history each request carries (scenario `history`).
///
/// Wire form: `"full"`, `"none"`, `{"window": N}` (the last N exchanges) or `{"maxTokens": N}`
/// (drop the oldest exchanges while system prompt + history + the new message exceed N estimated
/// tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryPolicy {
    #[default]
    Full,
    None,
    Window(u32),
    MaxTokens(u32),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum HistoryWire {
    Named(HistoryName),
    Window {
        window: u32,
    },
    #[serde(rename_all = "camelCase")]
    MaxTokens {
        max_tokens: u32,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum HistoryName {
    Full,
    None,
}

impl Serialize for HistoryPolicy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Self::Full => HistoryWire::Named(HistoryName::Full),
            Self::None => HistoryWire::Named(HistoryName::None),
            Self::Window(window) => HistoryWire::Window { window },
            Self::MaxTokens(max_tokens) => HistoryWire::MaxTokens { max_tokens },
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for HistoryPolicy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = HistoryWire::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "must be \"full\", \"none\", {\"window\": N} or {\"maxTokens\": N}",
            )
        })?;
        Ok(match wire {
            HistoryWire::Named(HistoryName::Full) => Self::Full,
            HistoryWire::Named(HistoryName::None) => Self::None,
            HistoryWire::Window { window } => Self::Window(window),
            HistoryWire::MaxTokens { max_tokens } => Self::MaxTokens(max_tokens),
        })
    }
}

impl HistoryPolicy {
    pub fn is_full(&self) -> bool {
        *self == Self::Full
    }
}

/// Estimated tokens of a text: ceil(chars / 4), the same rule as reply token estimates.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

/// What one request carries: the system prompt, the selected earlier turns, and its size.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Context {
    pub system: Option<Arc<str>>,
    /// Earlier turns, oldest first, always whole exchanges (user, assistant).
    pub turns: Vec<ChatTurn>,
    /// Messages in the request: system + turns + the new user message.
    pub message_count: u32,
    /// Estimated tokens of everything above.
    pub estimated_tokens: u64,
}

/// Selects the turns a request carries under `policy`. `history` holds whole exchanges only
/// (a user turn followed by its reply), so every selection starts with a user turn.
pub fn select_context(
    policy: HistoryPolicy,
    system: Option<&Arc<str>>,
    history: &[ChatTurn],
    message: &str,
) -> Context {
    let fixed = system.map_or(0, |s| estimate_tokens(s)) + estimate_tokens(message);
    let start = match policy {
        HistoryPolicy::Full => 0,
        HistoryPolicy::None => history.len(),
        HistoryPolicy::Window(n) => history.len().saturating_sub(2 * n as usize),
        HistoryPolicy::MaxTokens(budget) => budget_start(history, fixed, u64::from(budget)),
    };
    let start = start + start % 2;
    let turns = history.get(start..).unwrap_or_default().to_vec();
    let tokens = turns
        .iter()
        .map(|t| estimate_tokens(&t.content))
        .sum::<u64>()
        + fixed;
    let system_count = u32::from(system.is_some() && policy != HistoryPolicy::None);
    Context {
        system: system.filter(|_| policy != HistoryPolicy::None).cloned(),
        message_count: system_count + turns.len() as u32 + 1,
        estimated_tokens: tokens,
        turns,
    }
}

/// The first index (an exchange boundary) from which the turns fit `budget` with `fixed`.
fn budget_start(history: &[ChatTurn], fixed: u64, budget: u64) -> usize {
    let mut used = fixed;
    let mut start = history.len();
    let pairs = history.len() / 2;
    for pair in (0..pairs).rev() {
        let cost: u64 = history[2 * pair..2 * pair + 2]
            .iter()
            .map(|t| estimate_tokens(&t.content))
            .sum();
        if used + cost > budget {
            break;
        }
        used += cost;
        start = 2 * pair;
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn history(pairs: usize) -> Vec<ChatTurn> {
        (0..pairs)
            .flat_map(|i| {
                [
                    ChatTurn::new(Role::User, format!("question {i} ....")),
                    ChatTurn::new(Role::Assistant, format!("answer {i} ......")),
                ]
            })
            .collect()
    }

    #[test]
    fn policy_wire_forms_round_trip() {
        for (wire, policy) in [
            (json!("full"), HistoryPolicy::Full),
            (json!("none"), HistoryPolicy::None),
            (json!({"window": 3}), HistoryPolicy::Window(3)),
            (json!({"maxTokens": 500}), HistoryPolicy::MaxTokens(500)),
        ] {
            assert_eq!(serde_json::to_value(policy).unwrap(), wire);
            assert_eq!(
                serde_json::from_value::<HistoryPolicy>(wire).unwrap(),
                policy
            );
        }
        let err = serde_json::from_value::<HistoryPolicy>(json!("some")).unwrap_err();
        assert!(err.to_string().contains("\"full\""), "{err}");
    }

    #[test]
    fn full_window_none_select_whole_exchanges() {
        let h = history(4);
        let system: Arc<str> = Arc::from("be brief");
        let full = select_context(HistoryPolicy::Full, Some(&system), &h, "next");
        assert_eq!((full.turns.len(), full.message_count), (8, 10));
        let window = select_context(HistoryPolicy::Window(1), None, &h, "next");
        assert_eq!(window.turns, h[6..].to_vec());
        assert_eq!(window.message_count, 3);
        let none = select_context(HistoryPolicy::None, Some(&system), &h, "next");
        assert!(none.turns.is_empty() && none.system.is_none());
        assert_eq!(none.message_count, 1);
    }

    #[test]
    fn token_budget_drops_oldest_exchanges() {
        let h = history(4);
        // Each exchange costs 4 + 4 = 8 estimated tokens; the new message costs 1.
        let pair = estimate_tokens(&h[0].content) + estimate_tokens(&h[1].content);
        assert_eq!(pair, 8);
        let ctx = select_context(HistoryPolicy::MaxTokens(17), None, &h, "next");
        assert_eq!(ctx.turns, h[4..].to_vec());
        assert_eq!(ctx.estimated_tokens, 17);
        let tiny = select_context(HistoryPolicy::MaxTokens(1), None, &h, "next");
        assert!(tiny.turns.is_empty());
    }
}
