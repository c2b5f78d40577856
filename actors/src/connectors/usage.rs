//! Token usage: normalises the providers' usage shapes into `TokenCounts`, or estimates them.
//!
//! Upstream cast the usage object to camelCase only, so OpenAI, Anthropic and Gemini replies all
//! counted 0 tokens. Here every known shape is mapped explicitly.

use serde_json::Value;

use super::paths::read_path;
use crate::domain::events::TokenCounts;

/// Input-side keys, in order of preference (OpenAI, Anthropic, Gemini, camelCase).
const INPUT_KEYS: &[&str] = &[
    "prompt_tokens",
    "input_tokens",
    "promptTokenCount",
    "promptTokens",
    "inputTokens",
];
/// Output-side keys, in order of preference.
const OUTPUT_KEYS: &[&str] = &[
    "completion_tokens",
    "output_tokens",
    "candidatesTokenCount",
    "completionTokens",
    "outputTokens",
];
/// Extra input tokens reported separately (Anthropic prompt caching).
const EXTRA_INPUT_KEYS: &[&str] = &["cache_creation_input_tokens", "cache_read_input_tokens"];
/// Extra output tokens reported separately (Gemini thinking tokens are billed as output).
const EXTRA_OUTPUT_KEYS: &[&str] = &["thoughtsTokenCount"];
/// Totals, used when no input/output split is present.
const TOTAL_KEYS: &[&str] = &["total_tokens", "totalTokenCount", "totalTokens", "total"];

/// Reads the usage object at `token_usage_path` (or, when `None`, `usage` then `usageMetadata`
/// at the root) and maps it to token counts. `None` when no known shape is found.
pub fn normalise_usage(reply: &Value, token_usage_path: Option<&str>) -> Option<TokenCounts> {
    match token_usage_path.map(str::trim).filter(|p| !p.is_empty()) {
        Some(path) => read_path(reply, path)
            .ok()
            .flatten()
            .and_then(|v| map_usage(&v)),
        None => ["usage", "usageMetadata"]
            .iter()
            .find_map(|key| reply.get(*key).and_then(map_usage))
            .or_else(|| ollama_usage(reply)),
    }
}

/// Ollama reports `prompt_eval_count` / `eval_count` at the root of the reply.
fn ollama_usage(reply: &Value) -> Option<TokenCounts> {
    let input = reply.get("prompt_eval_count").and_then(Value::as_u64);
    let output = reply.get("eval_count").and_then(Value::as_u64);
    (input.is_some() || output.is_some()).then(|| TokenCounts {
        input: input.unwrap_or(0),
        output: output.unwrap_or(0),
        estimated: false,
    })
}

/// Estimates tokens as ceil(chars / 4): 0 for empty text, at least 1 otherwise.
pub fn estimate_tokens(text: &str) -> u64 {
    let chars = text.chars().count() as u64;
    chars.div_ceil(4)
}

/// The normalised usage of `reply`, or an estimate from both texts marked `estimated: true`.
pub fn usage_or_estimate(
    reply: &Value,
    token_usage_path: Option<&str>,
    sent_text: &str,
    reply_text: &str,
) -> TokenCounts {
    normalise_usage(reply, token_usage_path).unwrap_or_else(|| TokenCounts {
        input: estimate_tokens(sent_text),
        output: estimate_tokens(reply_text),
        estimated: true,
    })
}

fn map_usage(usage: &Value) -> Option<TokenCounts> {
    if let Some(total) = count(usage) {
        return Some(TokenCounts {
            input: 0,
            output: total,
            estimated: false,
        });
    }
    let first = |keys: &[&str]| keys.iter().find_map(|k| usage.get(*k).and_then(count));
    let sum = |keys: &[&str]| {
        keys.iter()
            .filter_map(|k| usage.get(*k).and_then(count))
            .fold(0u64, u64::saturating_add)
    };
    let input = first(INPUT_KEYS);
    let output = first(OUTPUT_KEYS);
    let total = first(TOTAL_KEYS);
    let extra_input = sum(EXTRA_INPUT_KEYS);
    let extra_output = sum(EXTRA_OUTPUT_KEYS);
    let (input, output) = match (input, output, total) {
        (None, None, None) if extra_input == 0 && extra_output == 0 => return None,
        (None, None, total) => (0, total.unwrap_or(0)),
        (Some(i), None, Some(t)) => (
            i,
            t.saturating_sub(i.saturating_add(extra_input.saturating_add(extra_output))),
        ),
        (None, Some(o), Some(t)) => (t.saturating_sub(o.saturating_add(extra_output)), o),
        (i, o, _) => (i.unwrap_or(0), o.unwrap_or(0)),
    };
    Some(TokenCounts {
        input: input.saturating_add(extra_input),
        output: output.saturating_add(extra_output),
        estimated: false,
    })
}

/// A token count: a non-negative integer, a float (rounded) or a numeric string.
fn count(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f.round() as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ollama_counts_at_the_root() {
        let reply = serde_json::json!({"message": {"content": "hi"}, "prompt_eval_count": 9, "eval_count": 3});
        let counts = super::normalise_usage(&reply, None).unwrap();
        assert_eq!(
            (counts.input, counts.output, counts.estimated),
            (9, 3, false)
        );
    }

    use super::*;
    use serde_json::json;

    fn counts(input: u64, output: u64) -> Option<TokenCounts> {
        Some(TokenCounts {
            input,
            output,
            estimated: false,
        })
    }

    #[test]
    fn openai_shape_is_auto_detected() {
        let reply =
            json!({"usage": {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42}});
        assert_eq!(normalise_usage(&reply, None), counts(12, 30));
        assert_eq!(normalise_usage(&reply, Some("usage")), counts(12, 30));
        assert_eq!(normalise_usage(&reply, Some("$.usage")), counts(12, 30));
    }

    #[test]
    fn anthropic_shape_adds_cache_tokens_to_input() {
        let reply = json!({"usage": {
            "input_tokens": 10, "output_tokens": 20,
            "cache_creation_input_tokens": 100, "cache_read_input_tokens": 5
        }});
        assert_eq!(normalise_usage(&reply, None), counts(115, 20));
    }

    #[test]
    fn gemini_shape_is_auto_detected() {
        let reply = json!({"usageMetadata": {
            "promptTokenCount": 8, "candidatesTokenCount": 16, "totalTokenCount": 24
        }});
        assert_eq!(normalise_usage(&reply, None), counts(8, 16));
        assert_eq!(
            normalise_usage(&reply, Some("usageMetadata")),
            counts(8, 16)
        );
        let thinking = json!({"usageMetadata": {
            "promptTokenCount": 8, "candidatesTokenCount": 16, "thoughtsTokenCount": 4
        }});
        assert_eq!(normalise_usage(&thinking, None), counts(8, 20));
        let no_candidates = json!({"usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8}});
        assert_eq!(normalise_usage(&no_candidates, None), counts(8, 0));
    }

    #[test]
    fn camel_case_shape() {
        let reply = json!({"meta": {"tokenUsage": {"promptTokens": 3, "completionTokens": 4, "totalTokens": 7}}});
        assert_eq!(
            normalise_usage(&reply, Some("meta.tokenUsage")),
            counts(3, 4)
        );
        assert_eq!(normalise_usage(&reply, None), None);
    }

    #[test]
    fn bare_totals_count_as_output() {
        assert_eq!(
            normalise_usage(&json!({"tokens": {"total": 9}}), Some("tokens")),
            counts(0, 9)
        );
        assert_eq!(
            normalise_usage(&json!({"usage": {"total_tokens": 11}}), None),
            counts(0, 11)
        );
        assert_eq!(
            normalise_usage(&json!({"tokens": {"total": 9}}), Some("tokens.total")),
            counts(0, 9)
        );
    }

    #[test]
    fn lenient_numbers_and_unknown_shapes() {
        let reply = json!({"usage": {"prompt_tokens": "5", "completion_tokens": 6.0}});
        assert_eq!(normalise_usage(&reply, None), counts(5, 6));
        assert_eq!(normalise_usage(&json!({"usage": {"foo": 1}}), None), None);
        assert_eq!(normalise_usage(&json!({"usage": "lots"}), None), None);
        assert_eq!(
            normalise_usage(&json!({"usage": {"prompt_tokens": -3}}), None),
            None
        );
        assert_eq!(normalise_usage(&json!([1, 2]), None), None);
        assert_eq!(
            normalise_usage(&json!({"a": 1}), Some("missing.path")),
            None
        );
        assert_eq!(normalise_usage(&json!({"a": 1}), Some("$[?")), None);
    }

    #[test]
    fn estimates_quarter_chars_rounded_up() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("a"), 1);
        assert_eq!(estimate_tokens("abcd"), 1);
        assert_eq!(estimate_tokens("abcde"), 2);
        assert_eq!(estimate_tokens("ääää"), 1);
    }

    #[test]
    fn usage_or_estimate_falls_back() {
        let reply = json!({"response": "hello"});
        let est = usage_or_estimate(&reply, None, "12345678", "hello");
        assert_eq!(
            est,
            TokenCounts {
                input: 2,
                output: 2,
                estimated: true
            }
        );
        let reply = json!({"usage": {"prompt_tokens": 1, "completion_tokens": 2}});
        let real = usage_or_estimate(&reply, None, "12345678", "hello");
        assert_eq!(
            real,
            TokenCounts {
                input: 1,
                output: 2,
                estimated: false
            }
        );
    }
}
