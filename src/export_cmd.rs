//! `krawall export`: exchange rows of one session or of the filtered session list, from the
//! node's database to a file or stdout, through the same bounded pipeline as the HTTP export.

use std::fs::File;
use std::io::{self, Write};

use anyhow::{Context, bail};
use projections::queries::{self, SessionFilter};
use tokio::sync::mpsc;

use crate::cli::ExportArgs;
use crate::config::Settings;
use crate::exports::{ExportScope, export_blocking, produce};

const STATUSES: &[&str] = &["QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"];

/// What to export: the session (which must exist) or the filtered list.
async fn scope(pool: &sqlx::AnyPool, args: &ExportArgs) -> anyhow::Result<ExportScope> {
    if let Some(id) = &args.session {
        let session = queries::get_session(pool, id)
            .await?
            .with_context(|| format!("no session {id}"))?;
        return Ok(ExportScope::Session(Box::new(session)));
    }
    let status = args.status.as_ref().map(|s| s.to_uppercase());
    if let Some(s) = status.as_deref().filter(|s| !STATUSES.contains(s)) {
        bail!("--status must be one of {STATUSES:?}, got {s:?}");
    }
    Ok(ExportScope::Sessions(SessionFilter {
        status,
        target_id: args.target_id.clone(),
        scenario_id: args.scenario_id.clone(),
        limit: 0,
        offset: 0,
    }))
}

/// Runs the export; prints the row count on stderr. Exit code 0.
pub async fn run(args: ExportArgs) -> anyhow::Result<i32> {
    let mut settings = Settings::new(args.store.data_dir.clone());
    settings.database_url = args.store.database_url.clone();
    let store = actors::store::EventStore::connect(&settings.database_url()).await?;
    let pool = store.pool().clone();
    let scope = scope(&pool, &args).await?;
    let out: Box<dyn Write + Send> = if args.output.as_os_str() == "-" {
        Box::new(io::stdout())
    } else {
        let file = File::create(&args.output)
            .with_context(|| format!("creating {}", args.output.display()))?;
        Box::new(io::BufWriter::new(file))
    };
    let (tx, rx) = mpsc::channel(2);
    let format = args.format;
    let writer = tokio::task::spawn_blocking(move || export_blocking(format, out, rx));
    produce(pool, scope, tx).await;
    let rows = writer.await.context("export writer")??;
    eprintln!("exported {rows} rows ({format})");
    Ok(0)
}
