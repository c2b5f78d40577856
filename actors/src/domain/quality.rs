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
    // Each text is lower-cased once and the reply's words are read once for three of the
    // dimensions (this runs on every reply).
    let (prompt_lower, reply_lower) = (lower(prompt), lower(reply));
    let mut asked: HashSet<u64> = keywords(&prompt_lower).collect();
    let distinct = asked.len();
    let read = ReplyWords::read(&reply_lower, &mut asked);
    let (r, c, m, s, l) = (
        relevance_of(distinct, &read),
        coherence_of(reply, &read),
        completeness_of(prompt, &prompt_lower, reply, read.words),
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

/// A word's keyword hash: the word with punctuation removed, when it has more than two
/// characters and is not a stop word. (Removing punctuation never joins or splits words, so
/// cleaning word by word is cleaning the text, then splitting; the word is hashed as it is
/// cleaned, without a copy.)
fn keyword(word: &str) -> Option<u64> {
    let (hash, chars) = hash_kept(word, kept);
    (chars > 2 && !STOP_HASHES.contains(&hash)).then_some(hash)
}

/// The keywords of a lower-cased text, repeats included.
fn keywords(lower: &str) -> impl Iterator<Item = u64> + '_ {
    words(lower).filter_map(keyword)
}

/// What one pass over a lower-cased reply's words finds, for coherence, completeness and
/// relevance.
#[derive(Debug, Default)]
struct ReplyWords {
    words: usize,
    /// How often the most frequent word occurs.
    most_repeated: usize,
    /// The reply has a keyword.
    said: bool,
    /// Distinct keywords of the prompt found in the reply.
    found: usize,
}

impl ReplyWords {
    /// Reads `lower`; each of the prompt's keywords (`asked`) found is taken out of `asked`.
    fn read(lower: &str, asked: &mut HashSet<u64>) -> Self {
        let mut out = Self::default();
        let mut freq: HashMap<u64, usize> = HashMap::default();
        for word in words(lower) {
            out.words += 1;
            let n = freq.entry(hash_word(word)).or_insert(0);
            *n += 1;
            out.most_repeated = out.most_repeated.max(*n);
            if let Some(k) = keyword(word) {
                out.said = true;
                out.found += usize::from(asked.remove(&k));
            }
        }
        out
    }
}

/// Share of the prompt's keywords found in the reply, divided by 0.3, capped at 1.
/// An empty prompt scores 0.5, an empty reply 0.
pub fn relevance(prompt: &str, reply: &str) -> f64 {
    let mut asked: HashSet<u64> = keywords(&lower(prompt)).collect();
    let distinct = asked.len();
    relevance_of(distinct, &ReplyWords::read(&lower(reply), &mut asked))
}

fn relevance_of(distinct_asked: usize, reply: &ReplyWords) -> f64 {
    if distinct_asked == 0 {
        return 0.5;
    }
    if !reply.said {
        return 0.0;
    }
    (reply.found as f64 / distinct_asked as f64 / 0.3).min(1.0)
}

/// 1, minus 0.2 when the reply looks truncated, minus up to 0.3 for one word dominating,
/// minus 0.3 when it is shorter than 10 characters; never below 0.
pub fn coherence(reply: &str) -> f64 {
    coherence_of(
        reply,
        &ReplyWords::read(&lower(reply), &mut HashSet::default()),
    )
}

fn coherence_of(reply: &str, read: &ReplyWords) -> f64 {
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
    if read.words > 10 {
        let ratio = read.most_repeated as f64 / read.words as f64;
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
    completeness_of(prompt, &lower(prompt), reply, words(reply).count())
}

/// [`completeness`] of a reply of `reply_words` words.
fn completeness_of(prompt: &str, prompt_lower: &str, reply: &str, reply_words: usize) -> f64 {
    if reply.trim().is_empty() {
        return 0.0;
    }
    let expected = f64::from(complexity(prompt, prompt_lower) * 10);
    (reply_words as f64 / expected).min(1.0)
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
