//! Hand-computed tests of the quality score (the arithmetic is in each test's comments).

use super::{QualityScore, coherence, completeness, latency, relevance, safety, score};

#[test]
fn a_direct_answer_scores_every_dimension_by_hand() {
    // Prompt keywords {capital, france}; reply keywords {capital, france, paris}: 2/2 → 1.
    // Coherence 1 (ends with '.', 6 words, ≥ 10 chars). Complexity 1 + '?' = 2 → 20 words
    // expected, 6 given → 0.3. Safety 1, latency 1. Overall .25 + .2 + .06 + .2 + .15 = .86.
    let q = score(
        "What is the capital of France?",
        "The capital of France is Paris.",
        1200,
    );
    let expected = QualityScore {
        relevance: 1.0,
        coherence: 1.0,
        completeness: 0.3,
        safety: 1.0,
        latency: 1.0,
        overall: 0.86,
    };
    assert_eq!(q, expected);
}

#[test]
fn a_truncated_unsafe_slow_reply_loses_on_each_dimension() {
    // Prompt keywords {tell, pricing, refunds, shipping, warranty}; reply has pricing: 1/5/0.3.
    // Coherence: no final punctuation, last sentence > 20 chars → 0.8 ("an" 2/15 < 0.15).
    // Complexity 1 + "and" = 2 → 20 expected, 15 words → 0.75. Safety: "as an ai" and
    // "internal server error" → 0.6. Latency 8000 → 1 − 3000/10000 = 0.7.
    // Overall .25·(2/3) + .2·.8 + .2·.75 + .2·.6 + .15·.7 = 0.70167 → 0.702.
    let reply =
        "As an AI I cannot say anything useful about pricing because an internal server error";
    let q = score(
        "Tell me about pricing, refunds, shipping and warranty",
        reply,
        8000,
    );
    let expected = QualityScore {
        relevance: 0.667,
        coherence: 0.8,
        completeness: 0.75,
        safety: 0.6,
        latency: 0.7,
        overall: 0.702,
    };
    assert_eq!(q, expected);
}

#[test]
fn one_word_dominating_and_short_replies_cost_coherence() {
    // 11 words, "yes" 6/11 = 0.545 → −min(0.3, 0.79) = −0.3; truncated (35 chars) → −0.2.
    assert!((coherence("yes yes yes yes yes yes no no no no no") - 0.5).abs() < 1e-9);
    // Under 10 characters → −0.3.
    assert!((coherence("ok") - 0.7).abs() < 1e-9);
    assert_eq!(coherence("   "), 0.0);
}

#[test]
fn empty_inputs_follow_upstream() {
    assert_eq!(relevance("", "anything at all"), 0.5);
    assert_eq!(relevance("the a of", "anything at all"), 0.5);
    assert_eq!(relevance("capital France", ""), 0.0);
    assert_eq!(completeness("why?", ""), 0.0);
    // "why?" → complexity 2, 20 words expected; 25 given → capped at 1.
    assert_eq!(completeness("why?", &"word ".repeat(25)), 1.0);
}

#[test]
fn safety_and_latency_bounds() {
    assert_eq!(safety("All good here."), 1.0);
    let all = "as an ai i cannot help with i'm sorry, but i can't error occurred internal server error undefined null";
    assert_eq!(safety(all), 0.0);
    assert_eq!(latency(0), 1.0);
    assert_eq!(latency(5000), 1.0);
    assert!((latency(10_000) - 0.5).abs() < 1e-12);
    assert_eq!(latency(15_000), 0.0);
    assert_eq!(latency(60_000), 0.0);
}

#[test]
fn stop_words_are_looked_up_exactly() {
    for word in super::STOP_WORDS {
        assert!(super::is_stop_word(word), "{word}");
    }
    for word in [
        "abouts", "", "ab", "bet", "thes", "capital", "wills", "Thee",
    ] {
        assert!(!super::is_stop_word(word), "{word}");
    }
}

/// The scorer before it shared one lower-casing between dimensions (sets of owned strings, a
/// hash map of word counts): the optimised one must give the same scores.
mod reference {
    use std::collections::{BTreeSet, HashMap};

    fn keywords(text: &str) -> BTreeSet<String> {
        let cleaned: String = text
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '_' || c.is_whitespace())
            .collect();
        cleaned
            .split_whitespace()
            .filter(|w| w.chars().count() > 2 && !super::super::STOP_WORDS.contains(w))
            .map(str::to_owned)
            .collect()
    }

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

    pub fn completeness(prompt: &str, reply: &str) -> f64 {
        if reply.trim().is_empty() {
            return 0.0;
        }
        let words = prompt.split_whitespace().count();
        let lower = prompt.to_lowercase();
        let parts = lower
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| matches!(w, "and" | "also" | "additionally"));
        let complexity = 1
            + u32::from(words > 20)
            + u32::from(words > 50)
            + u32::from(prompt.contains('?'))
            + u32::from(parts);
        (reply.split_whitespace().count() as f64 / f64::from(complexity * 10)).min(1.0)
    }

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
            let mut freq = HashMap::new();
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
}

#[test]
fn the_shared_lower_casing_scores_like_the_reference() {
    let texts = [
        "What is the capital of France?",
        "The capital of France is Paris. PARIS paris Paris, and also Lyon!",
        "Don't you think Straße, ÉCOLE and école are the same? ΣΊΣΥΦΟΣ σίσυφος",
        "As an AI I cannot say anything useful about pricing because an internal server error",
        "yes yes yes yes yes yes no no no no no YES Yes",
        "Here is a detailed answer about \"Question 3: Got it…\". To give you a thorough answer, it helps.",
        "snake_case and CamelCase words_with_UNDERSCORES; numbers 123 4567 and İstanbul",
        "",
        "   ",
        "vertical\u{b}tab and\u{c}form feed\r\nline breaks\tand tabs, words words words words words words",
        "nbsp\u{a0}joins no\u{2003}em-space splits; Ünïcödé wörds wörds wörds wörds wörds wörds wörds",
    ];
    for prompt in texts {
        for reply in texts {
            assert_eq!(
                relevance(prompt, reply),
                reference::relevance(prompt, reply),
                "relevance of {reply:?} to {prompt:?}"
            );
            assert_eq!(
                completeness(prompt, reply),
                reference::completeness(prompt, reply),
                "completeness of {reply:?} to {prompt:?}"
            );
        }
        assert_eq!(
            coherence(prompt),
            reference::coherence(prompt),
            "{prompt:?}"
        );
    }
}
