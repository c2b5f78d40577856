//! `krawall bench --export-rows N`: seeds N `session_messages` rows (100 per session) in a fresh
//! SQLite read model, then exports them all to Parquet through the same pipeline as
//! `GET /api/export/sessions` (keyset pages, one row group per 5 000 rows): seconds, rows/s,
//! file size and the process's peak RSS during the export.

use std::time::Instant;

use export::ExportFormat;
use projections::queries::SessionFilter;
use tokio::sync::mpsc;

use super::seed::{Catalog, Ref, seed};
use super::support::tempfile_dir;
use crate::exports::{ExportScope, export_blocking, produce};

const MESSAGES_PER_SESSION: usize = 100;

/// Peak resident memory so far, in MiB (`VmHWM`).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Resets the peak-RSS counter (Linux: writing 5 to clear_refs), so the export's peak is its own.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn catalog() -> Catalog {
    let refs = |what: &str, n: usize| -> Vec<Ref> {
        (0..n)
            .map(|i| Ref {
                id: uuid::Uuid::new_v4().to_string(),
                name: format!("{what} {i}"),
            })
            .collect()
    };
    Catalog {
        targets: refs("Support bot", 8),
        scenarios: refs("Scenario", 20),
        spec_json: "{}".into(),
    }
}

/// Seeds `rows` message rows and times their export to Parquet.
pub async fn bench_export(rows: usize) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.join("export.db").display());
    let store = actors::store::EventStore::connect(&url).await?;
    let pool = store.pool().clone();
    let started = Instant::now();
    let sessions = rows.div_ceil(MESSAGES_PER_SESSION);
    let seeded = seed(&pool, &catalog(), sessions, MESSAGES_PER_SESSION).await?;
    println!(
        "export   seeded {sessions} sessions + {seeded} messages in {:.1} s (peak RSS {:.0} MiB)",
        started.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
    let reset = reset_peak_rss();
    let path = dir.join("export.parquet");
    let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let started = Instant::now();
    let (tx, rx) = mpsc::channel(2);
    let writer =
        tokio::task::spawn_blocking(move || export_blocking(ExportFormat::Parquet, file, rx));
    produce(pool, ExportScope::Sessions(SessionFilter::default()), tx).await;
    let written = writer.await??;
    let secs = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path)?.len() as f64 / 1_048_576.0;
    println!(
        "export   {written} rows → Parquet in {secs:.1} s ({:.0} rows/s), {size:.0} MiB file, \
         peak RSS {:.0} MiB{}",
        written as f64 / secs,
        peak_rss_mib(),
        if reset {
            " (export only)"
        } else {
            " (whole process: could not reset)"
        }
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
