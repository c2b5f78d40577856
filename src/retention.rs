//! The retention sweep: sessions that ended more than `retentionDays` ago get
//! `SessionTextsShredded` (their message texts leave the read models; metrics stay). Runs every
//! ten minutes on a node with background workers, and on `POST /api/settings/retention/run`.

use std::collections::HashSet;
use std::time::Duration;

use actors::commands::Commands;
use actors::domain::retention::retention_cutoff_ms;
use anyhow::Context;
use projections::ProjectionHandle;
use serde::Serialize;
use sqlx::AnyPool;

/// How often the background sweep runs.
pub const SWEEP_EVERY: Duration = Duration::from_secs(600);
const PAGE: i64 = 200;

/// What one sweep did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionRun {
    /// `None`: retention is off (texts are kept forever) and nothing was swept.
    pub retention_days: Option<u32>,
    pub ended_before_ms: Option<i64>,
    pub shredded_sessions: u64,
    /// Position of the last `SessionTextsShredded` appended (0 when none).
    #[serde(skip)]
    pub last_position: i64,
}

/// Shreds the texts of every session that ended before `now_ms − retentionDays`.
pub async fn sweep(
    commands: &Commands,
    read: &AnyPool,
    projections: &ProjectionHandle,
    now_ms: i64,
) -> anyhow::Result<RetentionRun> {
    let Some(days) = commands.settings().await?.retention_days else {
        return Ok(RetentionRun::default());
    };
    let cutoff = retention_cutoff_ms(now_ms, days);
    let mut run = RetentionRun {
        retention_days: Some(days),
        ended_before_ms: Some(cutoff),
        ..RetentionRun::default()
    };
    let mut seen = HashSet::new();
    loop {
        let due = projections::queries::sessions_to_shred(read, cutoff, PAGE).await?;
        let fresh: Vec<_> = due.into_iter().filter(|id| seen.insert(*id)).collect();
        if fresh.is_empty() {
            return Ok(run);
        }
        for id in fresh {
            match commands.shred_session_texts(id, days, cutoff).await {
                Ok(Some(position)) => {
                    run.shredded_sessions += 1;
                    run.last_position = position;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(session = %id, error = %e, "retention: cannot shred"),
            }
        }
        projections
            .wait_for(run.last_position, Duration::from_secs(10))
            .await
            .then_some(())
            .context("the read models did not catch up with the retention sweep")?;
    }
}

/// Runs the sweep every [`SWEEP_EVERY`] (first run at start).
pub fn start(commands: Commands, read: AnyPool, projections: ProjectionHandle) {
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tick.tick().await;
            let now = chrono::Utc::now().timestamp_millis();
            match sweep(&commands, &read, &projections, now).await {
                Ok(run) if run.shredded_sessions > 0 => {
                    tracing::info!(
                        sessions = run.shredded_sessions,
                        "retention: texts shredded"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
            }
        }
    });
}
