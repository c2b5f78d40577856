//! Quality score of a reply, 0–1: upstream's heuristic scorer (five dimensions, fixed weights)
//! applied to the real prompt and reply. See `docs/report.md` for the formula.
//!
//! Tokenisation differs from upstream's JavaScript in two documented ways: words are split on
//! Unicode whitespace without the empty leading/trailing tokens `split(/\s+/)` produces, and
//! keywords keep Unicode letters and digits (upstream's `\w` kept ASCII only).

use serde::{Deserialize, Serialize};

/// Weights of the five dimensions (sum 1).
pub const WEIGHTS: Weights = Weights {
    relevance: 0.25,
    coherence: 0.20,
    completeness: 0.20,
    safety: 0.20,
    latency: 0.15,
};

/// Latency up to which the latency dimension scores 1; it falls linearly to 0 at 3×.
pub const TARGET_LATENCY_MS: u64 = 5000;

/// Phrases that cost the safety dimension 0.2 each (case-insensitive substring).
pub const BLOCKLIST: [&str; 7] = [
    "as an ai",
    "i cannot help with",
    "i'm sorry, but i can't",
    "error occurred",
    "internal server error",
    "undefined",
    "null",
];

const STOP_WORDS: [&str; 81] = [
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had",
    "do", "does", "did", "will", "would", "could", "should", "may", "might", "shall", "can", "to",
    "of", "in", "for", "on", "with", "at", "by", "from", "as", "into", "through", "during",
    "before", "after", "above", "below", "between", "and", "but", "or", "nor", "not", "no", "so",
    "than", "that", "this", "these", "those", "it", "its", "i", "me", "my", "you", "your", "he",
    "she", "they", "we", "our", "them", "his", "her", "what", "which", "who", "when", "where",
    "how", "if", "then", "else", "about", "up", "out",
];

/// Weight of each dimension.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub relevance: f64,
    pub coherence: f64,
    pub completeness: f64,
    pub safety: f64,
    pub latency: f64,
}

/// The five dimensions and their weighted sum, each 0–1 rounded to 3 decimals.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QualityScore {
    pub relevance: f64,
    pub coherence: f64,
    pub completeness: f64,
    pub safety: f64,
    pub latency: f64,
    pub overall: f64,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Scores `reply` to `prompt`, received after `latency_ms`.
pub fn score(prompt: &str, reply: &str, latency_ms: u64) -> QualityScore {
    let (r, c, m, s, l) = (
        relevance(prompt, reply),
        coherence(reply),
        completeness(prompt, reply),
        safety(reply),
        latency(latency_ms),
    );
    let w = WEIGHTS;
    let overall =
        r * w.relevance + c * w.coherence + m * w.completeness + s * w.safety + l * w.latency;
    QualityScore {
        relevance: round3(r),
        coherence: round3(c),
        completeness: round3(m),
        safety: round3(s),
        latency: round3(l),
        overall: round3(overall),
    }
}

/// Lower-cased words of more than two characters, punctuation removed, stop words dropped.
fn keywords(text: &str) -> std::collections::BTreeSet<String> {
    let cleaned: String = text
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_' || c.is_whitespace())
        .collect();
    cleaned
        .split_whitespace()
        .filter(|w| w.chars().count() > 2 && !STOP_WORDS.contains(w))
        .map(str::to_owned)
        .collect()
}

/// Share of the prompt's keywords found in the reply, divided by 0.3, capped at 1.
/// An empty prompt scores 0.5, an empty reply 0.
pub fn relevance(prompt: &str, reply: &str) -> f64 {
    let asked = keywords(prompt);
    if asked.is_empty() {
        return 0.5;
    }
    let said = keywords(reply);
    if said.is_empty() {
        return 0.0;
    }
    let overlap = asked.intersection(&said).count() as f64;
    (overlap / asked.len() as f64 / 0.3).min(1.0)
}

/// 1, minus 0.2 when the reply looks truncated, minus up to 0.3 for one word dominating,
/// minus 0.3 when it is shorter than 10 characters; never below 0.
pub fn coherence(reply: &str) -> f64 {
    let trimmed = reply.trim();
    if trimmed.is_empty() {
        return 0.0;
    }
    let mut score = 1.0;
    let last_sentence = trimmed
        .split(['.', '!', '?'])
        .map(str::trim)
        .rfind(|s| !s.is_empty());
    let ends_with_punct = trimmed.ends_with(['.', '!', '?', ':', ';']);
    if last_sentence.is_some_and(|s| s.chars().count() > 20) && !ends_with_punct {
        score -= 0.2;
    }
    let lower = reply.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    if words.len() > 10 {
        let mut freq = std::collections::HashMap::new();
        for w in &words {
            *freq.entry(*w).or_insert(0usize) += 1;
        }
        let max = freq.values().copied().max().unwrap_or(0) as f64;
        let ratio = max / words.len() as f64;
        if ratio > 0.15 {
            score -= ((ratio - 0.15) * 2.0).min(0.3);
        }
    }
    if trimmed.chars().count() < 10 {
        score -= 0.3;
    }
    f64::max(score, 0.0)
}

/// Prompt complexity: 1, +1 over 20 words, +1 over 50, +1 for a `?`, +1 for and/also/additionally.
fn complexity(prompt: &str) -> u32 {
    let words = prompt.split_whitespace().count();
    let lower = prompt.to_lowercase();
    let parts = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| matches!(w, "and" | "also" | "additionally"));
    1 + u32::from(words > 20)
        + u32::from(words > 50)
        + u32::from(prompt.contains('?'))
        + u32::from(parts)
}

/// Reply words over 10 × the prompt's complexity, capped at 1; an empty reply scores 0.
pub fn completeness(prompt: &str, reply: &str) -> f64 {
    if reply.trim().is_empty() {
        return 0.0;
    }
    let expected = f64::from(complexity(prompt) * 10);
    (reply.split_whitespace().count() as f64 / expected).min(1.0)
}

/// 1 minus 0.2 per blocklisted phrase the reply contains, never below 0.
pub fn safety(reply: &str) -> f64 {
    let lower = reply.to_lowercase();
    let hits = BLOCKLIST.iter().filter(|p| lower.contains(*p)).count() as f64;
    f64::max(1.0 - 0.2 * hits, 0.0)
}

/// 1 up to [`TARGET_LATENCY_MS`], then linearly down to 0 at three times it.
pub fn latency(latency_ms: u64) -> f64 {
    if latency_ms <= TARGET_LATENCY_MS {
        return 1.0;
    }
    let excess = (latency_ms - TARGET_LATENCY_MS) as f64;
    f64::max(1.0 - excess / (2 * TARGET_LATENCY_MS) as f64, 0.0)
}

#[cfg(test)]
#[path = "quality_tests.rs"]
mod tests;
