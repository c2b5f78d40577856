//! `krawall mock --cpu-us-per-reply N`: a fixed amount of CPU work before every chat reply, so the
//! mock behaves like a CPU-bound bot (the scaling benchmark's `krawall bench --workers`).
//!
//! The work is a number of rounds of a hash mix, calibrated once when the mock starts (rounds
//! per microsecond, the fastest of three runs), so every reply costs the same CPU whatever else runs on
//! the machine: under contention a reply takes longer, it does not get cheaper. The rounds run
//! on the HTTP worker thread that answers (the mock has two), like a bot's own computation.

use std::time::Instant;

/// Rounds measured to calibrate.
const CALIBRATION_ROUNDS: u64 = 2_000_000;

/// Calibrated CPU work per reply.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CpuBurn {
    rounds: u64,
}

impl CpuBurn {
    /// Work worth `micros` µs of this machine's CPU (none for 0).
    pub(super) fn calibrated(micros: u64) -> Self {
        if micros == 0 {
            return Self::default();
        }
        // The fastest of three runs: the one least disturbed by other processes.
        let fastest = (0..3)
            .map(|_| {
                let started = Instant::now();
                spin(CALIBRATION_ROUNDS);
                started.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min);
        let per_us = CALIBRATION_ROUNDS as f64 / fastest.max(1e-9) / 1e6;
        Self {
            rounds: (per_us * micros as f64).ceil() as u64,
        }
    }

    /// Does the work of one reply.
    pub(super) fn burn(self) {
        if self.rounds > 0 {
            spin(self.rounds);
        }
    }
}

/// `rounds` rounds of splitmix64; `black_box` keeps the optimiser from removing them.
fn spin(rounds: u64) -> u64 {
    let mut x = std::hint::black_box(0x9e37_79b9_7f4a_7c15_u64);
    for _ in 0..rounds {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x = std::hint::black_box(z ^ (z >> 31));
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_work_for_zero_and_more_work_for_more_micros() {
        assert_eq!(CpuBurn::calibrated(0).rounds, 0);
        let small = CpuBurn::calibrated(100).rounds;
        let large = CpuBurn::calibrated(10_000).rounds;
        assert!(small > 0, "100 µs is some work");
        assert!(
            large > small * 20,
            "{large} rounds for 10 ms vs {small} for 0.1 ms"
        );
    }
}
