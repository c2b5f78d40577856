//! The metrics projection's histogram: HDR buckets (1 ms – 1 h, 3 significant digits, as
//! `hdrhistogram` lays them out) kept sparsely, as a sorted map from each recorded bucket's
//! highest equivalent value to its count. A bucket row is decoded, merged and re-encoded every
//! batch; the dense `hdrhistogram` array (about 180 KiB to allocate, zero and walk per
//! histogram) cost more than the rest of the projection. Figures are exactly the dense ones
//! (tested against `hdrhistogram`).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hdrhistogram::Histogram;

use crate::metrics_figures::{MAX_TRACKED_MS, histogram};

/// The bucket layout (an empty dense histogram, used only for its arithmetic).
static LAYOUT: LazyLock<Histogram<u64>> = LazyLock::new(histogram);

/// What a percentile summary needs of a histogram (dense or sparse).
pub trait Recorded {
    fn len(&self) -> u64;
    fn min(&self) -> u64;
    fn max(&self) -> u64;
    fn mean(&self) -> f64;
    fn value_at_quantile(&self, quantile: f64) -> u64;
}

impl Recorded for Histogram<u64> {
    fn len(&self) -> u64 {
        Histogram::len(self)
    }
    fn min(&self) -> u64 {
        Histogram::min(self)
    }
    fn max(&self) -> u64 {
        Histogram::max(self)
    }
    fn mean(&self) -> f64 {
        Histogram::mean(self)
    }
    fn value_at_quantile(&self, quantile: f64) -> u64 {
        Histogram::value_at_quantile(self, quantile)
    }
}

/// Recorded HDR buckets only: highest equivalent value → count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseHistogram {
    counts: BTreeMap<u64, u64>,
    total: u64,
}

impl SparseHistogram {
    /// Records `value` clamped to the tracked range (as `metrics_figures::record` does).
    pub fn record(&mut self, value: u64) {
        self.record_n(value, 1);
    }

    fn record_n(&mut self, value: u64, n: u64) {
        if n == 0 {
            return;
        }
        let key = LAYOUT.highest_equivalent(value.clamp(1, MAX_TRACKED_MS));
        let count = self.counts.entry(key).or_insert(0);
        *count = count.saturating_add(n);
        self.total = self.total.saturating_add(n);
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &SparseHistogram) {
        for (key, n) in &other.counts {
            let count = self.counts.entry(*key).or_insert(0);
            *count = count.saturating_add(*n);
        }
        self.total = self.total.saturating_add(other.total);
    }

    /// For each recorded bucket in increasing order, the gap from the previous bucket's value
    /// and the count, as LEB128 varints, in base64 (about 4 characters a bucket, which keeps a
    /// row's statement small: see `bulk.rs`). Lossless at the histogram's precision.
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(self.counts.len() * 3);
        let mut previous = 0;
        for (value, count) in &self.counts {
            varint(&mut bytes, value - previous);
            varint(&mut bytes, *count);
            previous = *value;
        }
        STANDARD_NO_PAD.encode(bytes)
    }

    /// Decodes [`Self::encode`]'s text; anything unreadable is an empty histogram.
    pub fn decode(text: &str) -> Self {
        let mut h = Self::default();
        let Ok(bytes) = STANDARD_NO_PAD.decode(text) else {
            return h;
        };
        let (mut at, mut value) = (0, 0u64);
        while at < bytes.len() {
            let (Some(gap), Some(count)) =
                (read_varint(&bytes, &mut at), read_varint(&bytes, &mut at))
            else {
                return Self::default();
            };
            value = value.saturating_add(gap);
            h.record_n(value, count);
        }
        h
    }
}

impl Recorded for SparseHistogram {
    fn len(&self) -> u64 {
        self.total
    }

    fn min(&self) -> u64 {
        self.counts
            .iter()
            .find(|(_, n)| **n > 0)
            .map_or(0, |(v, _)| LAYOUT.lowest_equivalent(*v))
    }

    fn max(&self) -> u64 {
        self.counts
            .iter()
            .rev()
            .find(|(_, n)| **n > 0)
            .map_or(0, |(v, _)| *v)
    }

    fn mean(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        self.counts.iter().fold(0.0_f64, |sum, (value, count)| {
            sum + LAYOUT.median_equivalent(*value) as f64 * *count as f64 / self.total as f64
        })
    }

    /// `hdrhistogram`'s definition: the bucket where the running count first reaches
    /// `ceil(quantile × total)` (at least 1); its highest equivalent value, its lowest for 0.
    fn value_at_quantile(&self, quantile: f64) -> u64 {
        let quantile = quantile.min(1.0);
        let target = ((quantile * self.total as f64).ceil() as u64).max(1);
        let mut running = 0u64;
        for (value, count) in &self.counts {
            running = running.saturating_add(*count);
            if running >= target {
                return if quantile == 0.0 {
                    LAYOUT.lowest_equivalent(*value)
                } else {
                    *value
                };
            }
        }
        0
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The next varint of `bytes` from `at`; `None` at the end or on a malformed one.
fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{Recorded, SparseHistogram};
    use crate::metrics_figures::{histogram, record};

    /// Values spread over the whole range, with repeats (a small LCG: reproducible).
    fn values(seed: u64, n: usize) -> Vec<u64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let magnitude = (x >> 60) as u32; // 0..16
                (x >> 20) % (1u64 << (magnitude + 8)) + u64::from(magnitude.is_multiple_of(3))
            })
            .collect()
    }

    #[test]
    fn figures_match_the_dense_histogram() {
        for seed in 0..40 {
            let (mut dense, mut sparse) = (histogram(), SparseHistogram::default());
            for v in values(seed, 1 + seed as usize * 37) {
                record(&mut dense, v);
                sparse.record(v);
            }
            assert_eq!(Recorded::len(&sparse), dense.len());
            assert_eq!(Recorded::min(&sparse), dense.min(), "seed {seed}");
            assert_eq!(Recorded::max(&sparse), dense.max(), "seed {seed}");
            assert_eq!(Recorded::mean(&sparse), dense.mean(), "seed {seed}");
            for q in [0.0, 0.001, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0, 1.5] {
                assert_eq!(
                    sparse.value_at_quantile(q),
                    dense.value_at_quantile(q),
                    "seed {seed}, q {q}"
                );
            }
        }
    }

    #[test]
    fn merged_and_decoded_histograms_are_the_same_histogram() {
        let (mut a, mut b, mut all) = Default::default();
        for (i, v) in values(7, 500).into_iter().enumerate() {
            let half: &mut SparseHistogram = if i % 2 == 0 { &mut a } else { &mut b };
            half.record(v);
            SparseHistogram::record(&mut all, v);
        }
        a.merge(&b);
        assert_eq!(a, all);
        assert_eq!(SparseHistogram::decode(&all.encode()), all);
        assert_eq!(SparseHistogram::default().encode(), "");
    }

    #[test]
    fn unreadable_text_is_an_empty_histogram() {
        let mut h = SparseHistogram::default();
        h.record(300);
        let text = h.encode();
        assert!(
            Recorded::len(&SparseHistogram::decode(&text[..text.len() - 1])) == 0,
            "cut short"
        );
        assert_eq!(
            SparseHistogram::decode("not base64!"),
            SparseHistogram::default()
        );
        assert_eq!(
            SparseHistogram::decode("[[1,2]]"),
            SparseHistogram::default()
        );
    }

    #[test]
    fn a_thousand_buckets_take_about_four_characters_each() {
        let mut h = SparseHistogram::default();
        for v in 1000..2000 {
            for _ in 0..300 {
                h.record(v);
            }
        }
        let text = h.encode();
        assert!(text.len() < 4100, "{}", text.len());
        assert_eq!(Recorded::len(&SparseHistogram::decode(&text)), 300_000);
    }
}
