//! Writer-only benchmark: N synthetic exchange rows (default 5 000 000; realistic sizes, about
//! 150 bytes of request and 300 of reply text) through `ExportWriter` to a Parquet file in 5 000-row
//! chunks, printing seconds, rows/s, file size and peak RSS. `krawall bench --export-rows N`
//! measures the whole path from the read model; this isolates the polars part and builds in
//! release without the app: `cargo run --release -p export --example parquet_rows -- 5000000`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use export::{ExchangeRow, ExportFormat, ExportWriter};

const CHUNK: usize = 5_000;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn row(i: usize) -> ExchangeRow {
    let failed = i.is_multiple_of(50);
    let words = [
        "order", "refund", "shipping", "account", "invoice", "delivery", "status", "help",
    ];
    let text = |n: usize, seed: usize| -> String {
        (0..n)
            .map(|k| words[(seed * 7 + k * 3) % words.len()])
            .collect::<Vec<_>>()
            .join(" ")
    };
    ExchangeRow {
        session_id: format!("0190a1b2-c3d4-7e5f-8a9b-{:012x}", i / 100),
        target_id: "0190a1b2-0000-7000-8000-000000000001".into(),
        target_name: "Support bot".into(),
        scenario_id: Some("0190a1b2-0000-7000-8000-000000000002".into()),
        scenario_name: "Refund escalation".into(),
        message_index: (i % 100) as i64,
        attempt: 1,
        repetition_index: ((i % 100) / 10) as i64,
        request: text(20, i),
        response: (!failed).then(|| text(45, i + 1)),
        outcome: if failed { "error" } else { "ok" }.into(),
        http_status: Some(if failed { 500 } else { 200 }),
        latency_ms: (!failed).then_some(200 + (i % 1000) as i64),
        ttft_ms: Some(50 + (i % 200) as i64),
        chunk_count: Some(40),
        inter_chunk_mean_ms: Some(12),
        inter_chunk_max_ms: Some(80),
        tokens_in: Some(30 + (i % 40) as i64),
        tokens_out: (!failed).then_some(60 + (i % 90) as i64),
        tokens_estimated: Some(false),
        raw_size: Some(900),
        cost: (!failed).then_some(0.000_015 * (i % 90) as f64),
        repetition_score: (!failed).then_some((i % 100) as f64 / 100.0),
        quality_score: (!failed).then_some(0.75),
        error_kind: failed.then(|| "http_5xx".into()),
        error: failed.then(|| "HTTP 500".into()),
        action: failed.then(|| "skip".into()),
        injected: None,
        partial: None,
        context_messages: Some((i % 10) as i64 * 2 + 1),
        context_tokens: Some(400),
        wait_ms: Some(0),
        sent_at: "2026-11-30T01:00:00.000Z".into(),
        received_at: (!failed).then(|| "2026-11-30T01:00:00.450Z".into()),
    }
}

fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .map_or(5_000_000, |a| a.parse().unwrap());
    let path = std::env::temp_dir().join(format!(
        "krawall-export-bench-{}.parquet",
        std::process::id()
    ));
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let started = Instant::now();
    let mut writer = ExportWriter::new(ExportFormat::Parquet, file).unwrap();
    for first in (0..rows).step_by(CHUNK) {
        let chunk: Vec<ExchangeRow> = (first..(first + CHUNK).min(rows)).map(row).collect();
        writer.write_chunk(&chunk).unwrap();
    }
    let (_, written) = writer.finish().unwrap();
    let secs = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path).unwrap().len() as f64 / 1_048_576.0;
    println!(
        "export (writer only) {written} rows → Parquet in {secs:.1} s ({:.0} rows/s), {size:.0} MiB, peak RSS {:.0} MiB",
        written as f64 / secs,
        peak_rss_mib()
    );
    std::fs::remove_file(&path).unwrap();
}
