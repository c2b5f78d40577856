//! Sessions read model (`sessions`): status, timings, running counts and the final summary.
//!
//! Idempotent per event: every change to a row records the event's position in
//! `applied_position` and only applies when the row has not seen that position yet, so a replayed
//! event never counts twice nor rolls a finished session back to `RUNNING`.

use actors::domain::events::{DomainEvent, ResponseReceived, SessionQueued, SessionSummary};
use actors::domain::scenario::ErrorAction;
use actors::store::RecordedEvent;
use sqlx::AnyConnection;

use crate::projection::{Decoded, Projection, ProjectionError, bounded, saturating_sum};

/// Writes `sessions`.
pub struct SessionsProjection;

/// `UPDATE sessions SET {set}` for the event at `$2` on session `$1`, skipped when the row has
/// already applied that position (or a later one). Further parameters start at `$3`.
fn guarded_update(set: &str) -> String {
    format!(
        "UPDATE sessions SET {set}, applied_position = $2 WHERE id = $1 AND applied_position < $2"
    )
}

async fn insert_queued(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    q: &SessionQueued,
) -> Result<(), ProjectionError> {
    let scenario_id =
        (!q.scenario.scenario_id.is_nil()).then(|| q.scenario.scenario_id.to_string());
    sqlx::query(
        "INSERT INTO sessions (id, target_id, target_name, scenario_id, scenario_name, status, queued_at_ms,
             message_count, error_count, tokens_in, tokens_out, latency_total_ms, restarted_from, execution_config,
             applied_position, batch_id)
         VALUES ($1, $2, $3, $4, $5, 'QUEUED', $6, 0, 0, 0, 0, 0, $7, $8, $9, $10)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(q.session_id.to_string())
    .bind(q.target.target_id.to_string())
    .bind(&q.target.spec.name)
    .bind(scenario_id)
    .bind(&q.scenario.spec.name)
    .bind(meta.recorded_at_ms)
    .bind(q.restarted_from.map(|r| r.to_string()))
    .bind(serde_json::to_string(&q.scenario.spec)?)
    .bind(meta.position)
    .bind(q.batch_id.map(|b| b.to_string()))
    .execute(conn)
    .await?;
    Ok(())
}

async fn start(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    id: String,
) -> Result<(), ProjectionError> {
    let sql = guarded_update("status = 'RUNNING', started_at_ms = $3");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(meta.position)
        .bind(meta.recorded_at_ms)
        .execute(conn)
        .await?;
    Ok(())
}

async fn finish(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    id: String,
    status: &str,
    summary: &SessionSummary,
    failure: Option<(&str, &str)>,
) -> Result<(), ProjectionError> {
    let sql = guarded_update(
        "status = $3, completed_at_ms = $4, summary = $5, failure_reason = $6, error = $7",
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(meta.position)
        .bind(status)
        .bind(meta.recorded_at_ms)
        .bind(serde_json::to_string(summary)?)
        .bind(failure.map(|f| f.0.to_string()))
        .bind(failure.map(|f| f.1.to_string()))
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds one reply to the running counts; token counts and latency come from the bot, so they
/// are clamped and the sums saturate (see [`COUNTER_CAP`](crate::projection::COUNTER_CAP)).
async fn count_reply(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    r: &ResponseReceived,
) -> Result<(), ProjectionError> {
    let sql = guarded_update(&format!(
        "message_count = {}, tokens_in = {}, tokens_out = {}, latency_total_ms = {}",
        saturating_sum("message_count", "1"),
        saturating_sum("tokens_in", "$3"),
        saturating_sum("tokens_out", "$4"),
        saturating_sum("latency_total_ms", "$5"),
    ));
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(r.exchange.session_id.to_string())
        .bind(meta.position)
        .bind(bounded(r.tokens.input))
        .bind(bounded(r.tokens.output))
        .bind(bounded(r.latency_ms))
        .execute(conn)
        .await?;
    Ok(())
}

async fn count_failure(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    id: String,
) -> Result<(), ProjectionError> {
    let sql = guarded_update(&format!(
        "message_count = {}, error_count = {}",
        saturating_sum("message_count", "1"),
        saturating_sum("error_count", "1"),
    ));
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(meta.position)
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl Projection for SessionsProjection {
    fn name(&self) -> &'static str {
        "sessions"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["sessions"]
    }

    async fn apply_all(
        &self,
        conn: &mut AnyConnection,
        events: &[Decoded<'_>],
    ) -> Result<(), ProjectionError> {
        crate::sessions_batch::apply_all(conn, events).await
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        match event {
            DomainEvent::SessionQueued(q) => insert_queued(conn, meta, q).await,
            DomainEvent::SessionStarted(s) => start(conn, meta, s.session_id.to_string()).await,
            DomainEvent::ResponseReceived(r) => count_reply(conn, meta, r).await,
            // A retried attempt is not a failed message: the retry's outcome counts.
            DomainEvent::MessageFailed(f) if f.action == ErrorAction::Retry => Ok(()),
            DomainEvent::MessageFailed(f) => {
                count_failure(conn, meta, f.exchange.session_id.to_string()).await
            }
            DomainEvent::SessionCompleted(c) => {
                let id = c.session_id.to_string();
                finish(conn, meta, id, "COMPLETED", &c.summary, None).await
            }
            DomainEvent::SessionCancelled(c) => {
                let id = c.session_id.to_string();
                finish(conn, meta, id, "CANCELLED", &c.summary, None).await
            }
            DomainEvent::SessionFailed(f) => {
                let failure = Some((f.reason.as_str(), f.error.as_str()));
                let id = f.session_id.to_string();
                finish(conn, meta, id, "FAILED", &f.summary, failure).await
            }
            DomainEvent::SessionTextsShredded(t) => {
                sqlx::query("UPDATE sessions SET texts_shredded_at_ms = $2 WHERE id = $1")
                    .bind(t.session_id.to_string())
                    .bind(meta.recorded_at_ms)
                    .execute(conn)
                    .await?;
                Ok(())
            }
            DomainEvent::SessionDeleted(d) => {
                sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind(d.id.to_string())
                    .execute(conn)
                    .await?;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
