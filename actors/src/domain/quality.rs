//! Quality score of a reply, 0–1: upstream's heuristic scorer (five dimensions, fixed weights)
//! applied to the real prompt and reply. See `docs/report.md` for the formula.
//!
//! Tokenisation differs from upstream's JavaScript in two documented ways: words are split on
//! Unicode whitespace without the empty leading/trailing tokens `split(/\s+/)` produces, and
//! keywords keep Unicode letters and digits (upstream's `\w` kept ASCII only).

use foldhash::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::lowercase::lower;
use super::word_hash::{hash_kept, hash_word};

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

/// The stop words (looked up by hash, see `word_hash.rs`).
pub const STOP_WORDS: [&str; 81] = [
    "a", "about", "above", "after", "an", "and", "are", "as", "at", "be", "been", "before",
    "being", "below", "between", "but", "by", "can", "could", "did", "do", "does", "during",
    "else", "for", "from", "had", "has", "have", "he", "her", "his", "how", "i", "if", "in",
    "into", "is", "it", "its", "may", "me", "might", "my", "no", "nor", "not", "of", "on", "or",
    "our", "out", "shall", "she", "should", "so", "than", "that", "the", "them", "then", "these",
    "they", "this", "those", "through", "to", "up", "was", "we", "were", "what", "when", "where",
    "which", "who", "will", "with", "would", "you", "your",
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
    // Each text is lower-cased once and shared by the dimensions (this runs on every reply).
    let (prompt_lower, reply_lower) = (lower(prompt), lower(reply));
    let (r, c, m, s, l) = (
        relevance_lowered(&prompt_lower, &reply_lower),
        coherence_lowered(reply, &reply_lower),
        completeness_lowered(prompt, &prompt_lower, reply),
        safety_lowered(&reply_lower),
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

#[cfg(test)]
fn is_stop_word(word: &str) -> bool {
    STOP_HASHES.contains(&hash_word(word))
}

/// The stop words' hashes (see `word_hash.rs`).
static STOP_HASHES: std::sync::LazyLock<HashSet<u64>> =
    std::sync::LazyLock::new(|| STOP_WORDS.iter().map(|w| hash_word(w)).collect());

/// The whitespace-separated words of `text`, as `str::split_whitespace` gives them: byte by
/// byte for ASCII text (which has no other whitespace than `split_ascii_whitespace` knows,
/// save the vertical tab), char by char otherwise.
fn words(text: &str) -> impl Iterator<Item = &str> {
    let ascii = text.is_ascii() && !text.contains('\u{b}');
    let (bytewise, charwise) = if ascii {
        (Some(text.split_ascii_whitespace()), None)
    } else {
        (None, Some(text.split_whitespace()))
    };
    bytewise
        .into_iter()
        .flatten()
        .chain(charwise.into_iter().flatten())
}

/// Whether `c` survives cleaning (everything else is punctuation, removed: "don't" → "dont").
fn kept(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c.is_whitespace()
}

/// The keywords of a lower-cased text, repeats included, as word hashes: its words with
/// punctuation removed that have more than two characters and are not stop words. (Removing
/// punctuation never joins or splits words, so cleaning word by word is cleaning the text, then
/// splitting; each word is hashed as it is cleaned, without a copy.)
fn keywords(lower: &str) -> impl Iterator<Item = u64> + '_ {
    words(lower)
        .map(|w| hash_kept(w, kept))
        .filter(|(hash, chars)| *chars > 2 && !STOP_HASHES.contains(hash))
        .map(|(hash, _)| hash)
}

/// Share of the prompt's keywords found in the reply, divided by 0.3, capped at 1.
/// An empty prompt scores 0.5, an empty reply 0.
pub fn relevance(prompt: &str, reply: &str) -> f64 {
    relevance_lowered(&lower(prompt), &lower(reply))
}

fn relevance_lowered(prompt: &str, reply: &str) -> f64 {
    let mut asked: HashSet<u64> = keywords(prompt).collect();
    if asked.is_empty() {
        return 0.5;
    }
    let distinct = asked.len() as f64;
    let (mut said, mut overlap) = (false, 0usize);
    for word in keywords(reply) {
        said = true;
        overlap += usize::from(asked.remove(&word));
    }
    if !said {
        return 0.0;
    }
    (overlap as f64 / distinct / 0.3).min(1.0)
}

/// 1, minus 0.2 when the reply looks truncated, minus up to 0.3 for one word dominating,
/// minus 0.3 when it is shorter than 10 characters; never below 0.
pub fn coherence(reply: &str) -> f64 {
    coherence_lowered(reply, &lower(reply))
}

fn coherence_lowered(reply: &str, lower: &str) -> f64 {
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
    if last_sentence.is_some_and(|s| s.chars().nth(20).is_some()) && !ends_with_punct {
        score -= 0.2;
    }
    let words = words(lower).count();
    if words > 10 {
        let mut freq: HashMap<u64, usize> = HashMap::default();
        freq.reserve(words);
        let mut max = 0;
        for w in self::words(lower) {
            let n = freq.entry(hash_word(w)).or_insert(0);
            *n += 1;
            max = max.max(*n);
        }
        let ratio = max as f64 / words as f64;
        if ratio > 0.15 {
            score -= ((ratio - 0.15) * 2.0).min(0.3);
        }
    }
    if trimmed.chars().nth(9).is_none() {
        score -= 0.3;
    }
    f64::max(score, 0.0)
}

/// Prompt complexity: 1, +1 over 20 words, +1 over 50, +1 for a `?`, +1 for and/also/additionally.
fn complexity(prompt: &str, lower: &str) -> u32 {
    let words = words(prompt).count();
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
    completeness_lowered(prompt, &lower(prompt), reply)
}

fn completeness_lowered(prompt: &str, prompt_lower: &str, reply: &str) -> f64 {
    if reply.trim().is_empty() {
        return 0.0;
    }
    let expected = f64::from(complexity(prompt, prompt_lower) * 10);
    (words(reply).count() as f64 / expected).min(1.0)
}

/// 1 minus 0.2 per blocklisted phrase the reply contains, never below 0.
pub fn safety(reply: &str) -> f64 {
    safety_lowered(&lower(reply))
}

fn safety_lowered(lower: &str) -> f64 {
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
