//! Statistics of an A/B comparison: the Mann–Whitney U test on two latency samples (normal
//! approximation with tie and continuity corrections, two-sided, as scipy's
//! `mannwhitneyu(method="asymptotic")`) and a seeded bootstrap 95 % interval of the
//! difference of medians (B − A). Pure and deterministic.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An A/B comparison of two completed sessions (`POST /api/compare`, stream
/// `comparison-<uuid>`); its statistics are computed from the sessions' read models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComparisonCreated {
    pub comparison_id: Uuid,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub session_a_id: Uuid,
    pub session_b_id: Uuid,
}

/// Stream id of a comparison.
pub fn comparison_stream(id: Uuid) -> String {
    format!("comparison-{id}")
}

/// Resamples of the bootstrap.
pub const BOOTSTRAP_RESAMPLES: usize = 1000;
/// Largest sample the bootstrap resamples; bigger samples are thinned to this many evenly
/// spaced order statistics first (keeps the distribution, bounds the cost).
pub const BOOTSTRAP_MAX_SAMPLE: usize = 5000;
/// Seed of the bootstrap's generator, so a comparison always reports the same interval.
pub const BOOTSTRAP_SEED: u64 = 0x6b72_6177_616c_6c21;

/// Result of the Mann–Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MannWhitney {
    /// U of sample A (the number of (a, b) pairs with a > b, ties counting ½).
    pub u: f64,
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Standard normal survival function, 1 − Φ(x).
fn normal_sf(x: f64) -> f64 {
    0.5 * libm::erfc(x / std::f64::consts::SQRT_2)
}

/// Ranks (1-based, ties averaged) of `a` followed by `b`, and Σ(t³ − t) over tie groups.
fn ranks(a: &[f64], b: &[f64]) -> (f64, f64) {
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut rank_sum_a, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        let rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_a += rank * all[i..=j].iter().filter(|x| x.1).count() as f64;
        ties += t * t * t - t;
        i = j + 1;
    }
    (rank_sum_a, ties)
}

/// Two-sided Mann–Whitney U test of `a` against `b`; `None` when a sample is empty or every
/// value is the same (no variance).
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<MannWhitney> {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let n = n1 + n2;
    let (rank_sum_a, ties) = ranks(a, b);
    let u1 = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let u = u1.max(n1 * n2 - u1);
    let mu = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if variance <= 0.0 {
        return None;
    }
    let z = (u - mu - 0.5) / variance.sqrt();
    Some(MannWhitney {
        u: u1,
        z,
        p_value: (2.0 * normal_sf(z)).clamp(0.0, 1.0),
    })
}

/// Median of a non-empty slice (reorders it).
fn median(values: &mut [f64]) -> f64 {
    let mid = values.len() / 2;
    let (_, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if values.len() % 2 == 1 {
        return upper;
    }
    let lower = values[..mid]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    (lower + upper) / 2.0
}

/// At most [`BOOTSTRAP_MAX_SAMPLE`] evenly spaced order statistics of `values`.
fn thinned(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.len() <= BOOTSTRAP_MAX_SAMPLE {
        return sorted;
    }
    let step = sorted.len() as f64 / BOOTSTRAP_MAX_SAMPLE as f64;
    (0..BOOTSTRAP_MAX_SAMPLE)
        .map(|i| sorted[((i as f64 + 0.5) * step) as usize])
        .collect()
}

/// Difference of medians (B − A) and its bootstrap 95 % percentile interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MedianDifference {
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub resamples: usize,
}

/// The median difference of `b` − `a` with a seeded percentile bootstrap interval (2.5 % and
/// 97.5 % of [`BOOTSTRAP_RESAMPLES`] resampled differences); `None` when a sample is empty.
pub fn median_difference(a: &[f64], b: &[f64]) -> Option<MedianDifference> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (a, b) = (thinned(a), thinned(b));
    let estimate = median(&mut b.clone()) - median(&mut a.clone());
    let mut rng = fastrand::Rng::with_seed(BOOTSTRAP_SEED);
    let mut resample = |from: &[f64], into: &mut Vec<f64>| {
        into.clear();
        into.extend((0..from.len()).map(|_| from[rng.usize(..from.len())]));
        median(into)
    };
    let (mut ra, mut rb) = (Vec::with_capacity(a.len()), Vec::with_capacity(b.len()));
    let mut diffs: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| {
            let ma = resample(&a, &mut ra);
            resample(&b, &mut rb) - ma
        })
        .collect();
    diffs.sort_by(f64::total_cmp);
    let at = |q: f64| diffs[((q * (diffs.len() - 1) as f64).round() as usize).min(diffs.len() - 1)];
    Some(MedianDifference {
        estimate,
        ci_low: at(0.025),
        ci_high: at(0.975),
        resamples: BOOTSTRAP_RESAMPLES,
    })
}

#[cfg(test)]
mod tests {
    use super::{mann_whitney, median, median_difference};

    // Reference values from scipy 1.17.1:
    // `scipy.stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic",
    //  use_continuity=True)` printed `statistic` and `pvalue` as below.
    #[test]
    fn the_p_value_matches_scipy_with_ties() {
        let a = [120., 135., 150., 150., 160., 170., 180., 200., 210., 250.];
        let b = [
            150., 165., 180., 190., 200., 220., 240., 260., 300., 310., 150.,
        ];
        let r = mann_whitney(&a, &b).unwrap();
        assert_eq!(r.u, 30.0);
        assert!(
            (r.p_value - 0.083_273_690_241_801_59).abs() < 1e-12,
            "{r:?}"
        );
        let swapped = mann_whitney(&b, &a).unwrap();
        assert_eq!(swapped.u, 80.0);
        assert!((swapped.p_value - r.p_value).abs() < 1e-15);
    }

    #[test]
    fn the_p_value_matches_scipy_on_a_shifted_sample() {
        // a = 1..=40, b = a + 5.5 → scipy: U = 595.0, p = 0.049090804709638.
        let a: Vec<f64> = (1..=40).map(f64::from).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 5.5).collect();
        let r = mann_whitney(&a, &b).unwrap();
        assert_eq!(r.u, 595.0);
        assert!((r.p_value - 0.049_090_804_709_638).abs() < 1e-12, "{r:?}");
    }

    #[test]
    fn degenerate_samples_have_no_test() {
        assert!(mann_whitney(&[], &[1.0]).is_none());
        assert!(mann_whitney(&[5.0, 5.0], &[5.0]).is_none());
    }

    #[test]
    fn medians_and_the_bootstrap_are_deterministic() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        let a: Vec<f64> = (0..200).map(|i| 100.0 + f64::from(i % 50)).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 30.0).collect();
        let d = median_difference(&a, &b).unwrap();
        assert_eq!(d.estimate, 30.0);
        assert!(d.ci_low <= 30.0 && d.ci_high >= 30.0, "{d:?}");
        assert!(d.ci_low > 15.0 && d.ci_high < 45.0, "{d:?}");
        assert_eq!(median_difference(&a, &b), Some(d));
    }
}
