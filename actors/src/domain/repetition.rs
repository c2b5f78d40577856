//! Repetition score of a reply, 0–1: the highest cosine similarity between the reply's word
//! 3-shingle counts and those of earlier replies (of its conversation and of its session).
//!
//! Text is lower-cased and split on non-alphanumeric characters; a reply of fewer than three
//! words is one shingle of what it has. 1 = the same shingles in the same proportions, 0 = no
//! shingle in common.

use std::collections::VecDeque;

use super::lowercase::lower;

/// Shingle counts of one text (sorted by shingle hash, so a cosine is one merge pass) with
/// their Euclidean norm.
#[derive(Debug, Clone, PartialEq)]
pub struct Shingles {
    counts: Vec<(u64, u32)>,
    norm: f64,
}

fn hash(words: &[&str]) -> u64 {
    // FNV-1a: stable across runs, so scores are reproducible.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for w in words {
        for b in w.bytes().chain(std::iter::once(b' ')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

impl Shingles {
    pub fn of(text: &str) -> Self {
        let lower = lower(text);
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let mut hashes: Vec<u64> = if words.len() < 3 {
            (!words.is_empty())
                .then(|| hash(&words))
                .into_iter()
                .collect()
        } else {
            words.windows(3).map(hash).collect()
        };
        hashes.sort_unstable();
        let mut counts: Vec<(u64, u32)> = Vec::with_capacity(hashes.len());
        for h in hashes {
            match counts.last_mut() {
                Some((last, n)) if *last == h => *n += 1,
                _ => counts.push((h, 1)),
            }
        }
        let norm = counts
            .iter()
            .map(|(_, c)| f64::from(*c).powi(2))
            .sum::<f64>()
            .sqrt();
        Self { counts, norm }
    }

    /// Cosine similarity, 0 when either text has no words.
    pub fn cosine(&self, other: &Shingles) -> f64 {
        if self.norm == 0.0 || other.norm == 0.0 {
            return 0.0;
        }
        // A merge of two sorted lists without unpredictable branches: both cursors advance
        // on a tie, the smaller one otherwise (this runs against 64 kept replies per reply).
        let (a, b) = (&self.counts, &other.counts);
        let (mut i, mut j, mut dot) = (0, 0, 0u64);
        while i < a.len() && j < b.len() {
            let ((x, cx), (y, cy)) = (a[i], b[j]);
            dot += u64::from(x == y) * u64::from(cx) * u64::from(cy);
            i += usize::from(x <= y);
            j += usize::from(y <= x);
        }
        let dot = dot as f64;
        (dot / (self.norm * other.norm)).clamp(0.0, 1.0)
    }
}

/// The latest replies a score compares with (bounded memory).
#[derive(Debug, Default, Clone)]
pub struct ReplyWindow {
    recent: VecDeque<Shingles>,
}

impl ReplyWindow {
    /// Replies kept per window (bounds the CPU per reply: one merge pass per kept reply).
    pub const CAPACITY: usize = 32;

    /// The highest similarity of `reply` to a kept reply (0 when none is kept).
    pub fn score(&self, reply: &Shingles) -> f64 {
        self.recent
            .iter()
            .map(|r| reply.cosine(r))
            .fold(0.0, f64::max)
    }

    pub fn push(&mut self, reply: Shingles) {
        if self.recent.len() == Self::CAPACITY {
            self.recent.pop_front();
        }
        self.recent.push_back(reply);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_texts_score_one_and_disjoint_zero() {
        let a = Shingles::of("The quick brown fox jumps over the lazy dog");
        assert!(
            (a.cosine(&Shingles::of(
                "the QUICK brown fox, jumps over the lazy dog!"
            )) - 1.0)
                .abs()
                < 1e-12
        );
        assert_eq!(
            a.cosine(&Shingles::of("completely different words here now")),
            0.0
        );
        assert_eq!(a.cosine(&Shingles::of("")), 0.0);
    }

    #[test]
    fn partial_overlap_is_the_cosine_of_shingle_counts() {
        // 4 shingles each: "a b c", "b c d", "c d e", "d e f" vs "a b c", "b c d", "c d x", "d x y":
        // two in common → 2 / (2 × 2) = 0.5.
        let a = Shingles::of("a b c d e f");
        let b = Shingles::of("a b c d x y");
        assert!((a.cosine(&b) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_window_keeps_the_latest_replies() {
        let mut w = ReplyWindow::default();
        assert_eq!(w.score(&Shingles::of("hello there my friend")), 0.0);
        w.push(Shingles::of("hello there my friend"));
        assert!((w.score(&Shingles::of("hello there my friend")) - 1.0).abs() < 1e-12);
        for i in 0..ReplyWindow::CAPACITY {
            w.push(Shingles::of(&format!("filler reply number {i}")));
        }
        assert_eq!(
            w.score(&Shingles::of("hello there my friend")),
            0.0,
            "the first one left"
        );
    }
}
