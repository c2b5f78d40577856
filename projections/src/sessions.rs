//! Sessions read model (`sessions`): status, timings, running counts and the final summary.

use actors::domain::events::{DomainEvent, ResponseReceived, SessionQueued, SessionSummary};
use actors::store::RecordedEvent;
use sqlx::AnyConnection;

use crate::projection::{Projection, ProjectionError, bounded, saturating_sum};

/// Writes `sessions`.
pub struct SessionsProjection;

async fn insert_queued(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    q: &SessionQueued,
) -> Result<(), ProjectionError> {
    let scenario_id =
        (!q.scenario.scenario_id.is_nil()).then(|| q.scenario.scenario_id.to_string());
    sqlx::query(
        "INSERT INTO sessions (id, target_id, target_name, scenario_id, scenario_name, status, queued_at_ms,
             message_count, error_count, tokens_in, tokens_out, latency_total_ms, restarted_from, execution_config)
         VALUES ($1, $2, $3, $4, $5, 'QUEUED', $6, 0, 0, 0, 0, 0, $7, $8)
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
    sqlx::query(
        "UPDATE sessions SET status = $2, completed_at_ms = $3, summary = $4, failure_reason = $5, error = $6
         WHERE id = $1",
    )
    .bind(id)
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
    r: &ResponseReceived,
) -> Result<(), ProjectionError> {
    let sql = format!(
        "UPDATE sessions SET message_count = {}, tokens_in = {}, tokens_out = {}, latency_total_ms = {}
         WHERE id = $1",
        saturating_sum("message_count", "1"),
        saturating_sum("tokens_in", "$2"),
        saturating_sum("tokens_out", "$3"),
        saturating_sum("latency_total_ms", "$4"),
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(r.exchange.session_id.to_string())
        .bind(bounded(r.tokens.input))
        .bind(bounded(r.tokens.output))
        .bind(bounded(r.latency_ms))
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

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        match event {
            DomainEvent::SessionQueued(q) => insert_queued(conn, meta, q).await?,
            DomainEvent::SessionStarted(s) => {
                sqlx::query(
                    "UPDATE sessions SET status = 'RUNNING', started_at_ms = $2 WHERE id = $1",
                )
                .bind(s.session_id.to_string())
                .bind(meta.recorded_at_ms)
                .execute(conn)
                .await?;
            }
            DomainEvent::ResponseReceived(r) => count_reply(conn, r).await?,
            DomainEvent::MessageFailed(f) => {
                let sql = format!(
                    "UPDATE sessions SET message_count = {}, error_count = {} WHERE id = $1",
                    saturating_sum("message_count", "1"),
                    saturating_sum("error_count", "1"),
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(f.exchange.session_id.to_string())
                    .execute(conn)
                    .await?;
            }
            DomainEvent::SessionCompleted(c) => {
                finish(
                    conn,
                    meta,
                    c.session_id.to_string(),
                    "COMPLETED",
                    &c.summary,
                    None,
                )
                .await?
            }
            DomainEvent::SessionCancelled(c) => {
                finish(
                    conn,
                    meta,
                    c.session_id.to_string(),
                    "CANCELLED",
                    &c.summary,
                    None,
                )
                .await?
            }
            DomainEvent::SessionFailed(f) => {
                finish(
                    conn,
                    meta,
                    f.session_id.to_string(),
                    "FAILED",
                    &f.summary,
                    Some((&f.reason, &f.error)),
                )
                .await?
            }
            DomainEvent::SessionDeleted(d) => {
                sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind(d.id.to_string())
                    .execute(conn)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }
}
