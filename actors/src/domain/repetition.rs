//! Repetition score of a reply, 0–1: the highest cosine similarity between the reply's word
//! 3-shingle counts and those of earlier replies (of its conversation and of its session).
//!
//! Text is lower-cased and split on non-alphanumeric characters; a reply of fewer than three
//! words is one shingle of what it has. 1 = the same shingles in the same proportions, 0 = no
//! shingle in common.

use std::sync::Arc;

use foldhash::HashMap;

use super::lowercase::lower;
use super::word_hash::{hash_bytes, hash_sequence, hash_word};

/// Shingle counts of one text (sorted by shingle hash, so a cosine is one merge pass) with
/// their Euclidean norm.
#[derive(Debug, Clone, PartialEq)]
pub struct Shingles {
    counts: Vec<(u64, u32)>,
    norm: f64,
}

impl Shingles {
    pub fn of(text: &str) -> Self {
        let lower = lower(text);
        // For ASCII text the byte test is the char test, without decoding.
        let words: Vec<u64> = if lower.is_ascii() {
            lower
                .as_bytes()
                .split(|b| !b.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(hash_bytes)
                .collect()
        } else {
            lower
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(hash_word)
                .collect()
        };
        let mut hashes: Vec<u64> = if words.len() < 3 {
            (!words.is_empty())
                .then(|| hash_sequence(&words))
                .into_iter()
                .collect()
        } else {
            words.windows(3).map(hash_sequence).collect()
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

/// The latest replies a score compares with (bounded memory), with an inverted index from
/// shingle to the kept replies holding it: a score costs one lookup per shingle of the new
/// reply plus one multiply-add per shared shingle, not a merge pass per kept reply.
#[derive(Debug, Default, Clone)]
pub struct ReplyWindow {
    /// Ring of kept replies; `pushed % CAPACITY` is the next slot.
    slots: Vec<Kept>,
    pushed: usize,
    postings: HashMap<u64, Vec<Posting>>,
}

#[derive(Debug, Clone)]
struct Kept {
    id: u64,
    shingles: Arc<Shingles>,
}

/// A kept reply (by slot) holding a shingle `count` times; a list is in push order.
#[derive(Debug, Clone, Copy)]
struct Posting {
    slot: u32,
    count: u32,
}

impl ReplyWindow {
    /// Replies kept per window (bounds memory and the CPU per reply).
    pub const CAPACITY: usize = 32;

    /// The highest similarity of `reply` to a kept reply (0 when none is kept).
    pub fn score(&self, reply: &Shingles) -> f64 {
        self.score_before(reply, u64::MAX)
    }

    /// [`Self::score`] over the kept replies whose id is below `before` only.
    pub fn score_before(&self, reply: &Shingles, before: u64) -> f64 {
        if reply.norm == 0.0 || self.slots.is_empty() {
            return 0.0;
        }
        if self.oldest_id().is_none_or(|oldest| oldest >= before) {
            return 0.0;
        }
        // A bot that loops sends the same text again: no other kept reply can score higher.
        if let Some(same) = self
            .slots
            .iter()
            .find(|k| k.id < before && *k.shingles == *reply)
        {
            return reply.cosine(&same.shingles);
        }
        let mut dots = [0u64; Self::CAPACITY];
        for (hash, count) in &reply.counts {
            for p in self.postings.get(hash).into_iter().flatten() {
                dots[p.slot as usize] += u64::from(*count) * u64::from(p.count);
            }
        }
        let mut best = 0.0f64;
        for (kept, dot) in self.slots.iter().zip(dots) {
            if dot > 0 && kept.id < before {
                let cosine = dot as f64 / (reply.norm * kept.shingles.norm);
                best = best.max(cosine.clamp(0.0, 1.0));
            }
        }
        best
    }

    /// The id of the oldest kept reply.
    pub fn oldest_id(&self) -> Option<u64> {
        let oldest = if self.slots.len() < Self::CAPACITY {
            0
        } else {
            self.pushed % Self::CAPACITY
        };
        self.slots.get(oldest).map(|k| k.id)
    }

    /// The id after the newest kept reply's (0 for an empty window).
    pub fn next_id(&self) -> u64 {
        let newest = (self.pushed + Self::CAPACITY - 1) % Self::CAPACITY;
        self.slots.get(newest).map_or(0, |k| k.id + 1)
    }

    /// Keeps `reply` under `id` (ids increase push by push), dropping the oldest when full.
    pub fn push(&mut self, id: u64, reply: Arc<Shingles>) {
        let slot = self.pushed % Self::CAPACITY;
        self.pushed += 1;
        let kept = Kept {
            id,
            shingles: reply,
        };
        let slot_id = slot as u32;
        if slot < self.slots.len() {
            let evicted = std::mem::replace(&mut self.slots[slot], kept);
            self.unindex(slot_id, &evicted.shingles);
        } else {
            self.slots.push(kept);
        }
        for (hash, count) in &self.slots[slot].shingles.counts {
            let list = self.postings.entry(*hash).or_default();
            list.push(Posting {
                slot: slot_id,
                count: *count,
            });
        }
    }

    /// Removes the postings of the reply that left `slot`.
    fn unindex(&mut self, slot: u32, evicted: &Shingles) {
        for (hash, _) in &evicted.counts {
            if let Some(list) = self.postings.get_mut(hash) {
                if let Some(i) = list.iter().position(|p| p.slot == slot) {
                    list.remove(i);
                }
                if list.is_empty() {
                    self.postings.remove(hash);
                }
            }
        }
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
    fn ascii_and_unicode_texts_shingle_words_alike() {
        // The first text takes the byte path, the second the char path.
        let ascii = Shingles::of("Alpha, beta: gamma delta");
        let unicode = Shingles::of("alpha beta GAMMA delta émile");
        let expected = 2.0 / 6f64.sqrt();
        assert!((ascii.cosine(&unicode) - expected).abs() < 1e-12);
    }

    #[test]
    fn a_window_keeps_the_latest_replies() {
        let mut w = ReplyWindow::default();
        assert_eq!(w.score(&Shingles::of("hello there my friend")), 0.0);
        w.push(0, Arc::new(Shingles::of("hello there my friend")));
        assert!((w.score(&Shingles::of("hello there my friend")) - 1.0).abs() < 1e-12);
        for i in 0..ReplyWindow::CAPACITY {
            w.push(
                1 + i as u64,
                Arc::new(Shingles::of(&format!("filler reply number {i}"))),
            );
        }
        assert_eq!(
            w.score(&Shingles::of("hello there my friend")),
            0.0,
            "the first one left"
        );
        assert_eq!(w.oldest_id(), Some(1));
        assert_eq!(w.next_id(), 1 + ReplyWindow::CAPACITY as u64);
    }

    /// Texts with shared, repeated and unique shingles.
    fn text(i: usize) -> String {
        let words = [
            "alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta",
        ];
        (0..(5 + i % 13))
            .map(|k| words[(i * 7 + k * k + k * (i % 3)) % words.len()])
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn the_index_scores_exactly_as_a_cosine_against_every_kept_reply() {
        let mut w = ReplyWindow::default();
        let mut kept: Vec<(u64, Shingles)> = Vec::new();
        for i in 0..100 {
            // From reply 60 on, each repeats the one 20 before (still kept): exact repeats.
            let reply = Shingles::of(&text(if i >= 60 { i - 20 } else { i }));
            let window = &kept[kept.len().saturating_sub(ReplyWindow::CAPACITY)..];
            let expected = window
                .iter()
                .map(|(_, k)| reply.cosine(k))
                .fold(0.0, f64::max);
            assert_eq!(w.score(&reply), expected, "reply {i}");
            let before = 3 * i as u64 / 2;
            let expected_before = window
                .iter()
                .filter(|(id, _)| *id < before)
                .map(|(_, k)| reply.cosine(k))
                .fold(0.0, f64::max);
            assert_eq!(w.score_before(&reply, before), expected_before, "reply {i}");
            let id = 2 * i as u64;
            w.push(id, Arc::new(reply.clone()));
            kept.push((id, reply));
        }
        let live: usize = w.postings.values().map(Vec::len).sum();
        let expected: usize = kept[kept.len() - ReplyWindow::CAPACITY..]
            .iter()
            .map(|(_, k)| k.counts.len())
            .sum();
        assert_eq!(live, expected, "evicted replies leave no postings behind");
    }
}
