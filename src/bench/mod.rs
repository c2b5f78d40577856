//! `krawall bench`: event appends/s per backend (group commit), conversations/messages per
//! second against the in-process mock at 0 ms latency (replies counted from the stored
//! `ResponseReceived` events, plus the read-model lag) with CPU time per reply, and the
//! dashboard's figures: live-feed latency (`feed.rs`) and page times over a seeded history
//! (`pages.rs`, `seed.rs`); `--external`: exchanges per CPU-second of this process against
//! `krawall mock` in its own process (`external.rs`); `--load`: the load-shape rows against an
//! external mock (`load.rs`); `--metrics`: the metrics projection and query (`metrics.rs`);
//! `--export-rows N`: N seeded message rows exported to Parquet
//! (`export_rows.rs`); `--workers 1,2,3`: exchanges/s of 1, 2, 3 `krawall worker` processes on
//! PostgreSQL against a CPU-bound mock and the scaling ratio (`workers.rs`). Flags: `args.rs`.
//! Benchmarks print figures and assert nothing about speed.

mod appends;
mod args;
mod conversations;
mod export_rows;
mod external;
mod feed;
mod load;
mod metrics;
mod pages;
mod seed;
mod stats;
mod support;
mod workers;

pub use args::{BenchArgs, WorkersBenchArgs};
pub use support::run;
