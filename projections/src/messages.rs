//! Session messages read model (`session_messages`): one row per exchange attempt with its metrics.

use actors::domain::events::{
    DomainEvent, ExchangeRef, MessageFailed, MessageSent, ResponseReceived,
};
use actors::store::RecordedEvent;
use sqlx::AnyConnection;

use crate::projection::{Decoded, Projection, ProjectionError, bounded};

/// Writes `session_messages`.
pub struct SessionMessagesProjection;

const KEY: &str = "session_id = $1 AND message_index = $2 AND attempt = $3";

fn key(e: &ExchangeRef) -> (String, i64, i64) {
    (
        e.session_id.to_string(),
        i64::from(e.message_index),
        i64::from(e.attempt),
    )
}

async fn upsert_sent(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    e: &ExchangeRef,
    request: &str,
    injected: Option<&str>,
    sent: Option<&MessageSent>,
) -> Result<(), ProjectionError> {
    let (session, index, attempt) = key(e);
    let size = |f: fn(&MessageSent) -> u64| sent.map(|s| bounded(f(s)));
    sqlx::query(
        "INSERT INTO session_messages (session_id, message_index, attempt, repetition_index, request, outcome,
             injected, sent_at_ms, context_messages, context_tokens, wait_ms)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10)
         ON CONFLICT (session_id, message_index, attempt) DO UPDATE SET
             request = CASE WHEN excluded.request = '' THEN session_messages.request ELSE excluded.request END,
             injected = COALESCE(excluded.injected, session_messages.injected),
             sent_at_ms = excluded.sent_at_ms,
             context_messages = COALESCE(excluded.context_messages, session_messages.context_messages),
             context_tokens = COALESCE(excluded.context_tokens, session_messages.context_tokens),
             wait_ms = COALESCE(excluded.wait_ms, session_messages.wait_ms)",
    )
    .bind(session)
    .bind(index)
    .bind(attempt)
    .bind(i64::from(e.repetition_index))
    .bind(request.to_string())
    .bind(injected.map(str::to_string))
    .bind(meta.recorded_at_ms)
    .bind(size(|s| u64::from(s.context_messages)))
    .bind(size(|s| s.context_tokens))
    .bind(size(|s| s.wait_ms))
    .execute(conn)
    .await?;
    Ok(())
}

async fn received(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    r: &ResponseReceived,
) -> Result<(), ProjectionError> {
    let (session, index, attempt) = key(&r.exchange);
    let sql = format!(
        "UPDATE session_messages SET outcome = 'ok', response = $4, http_status = $5, latency_ms = $6,
             tokens_in = $7, tokens_out = $8, tokens_estimated = $9, raw_size = $10, received_at_ms = $11,
             ttft_ms = $12, chunk_count = $13, inter_chunk_mean_ms = $14, inter_chunk_max_ms = $15,
             cost = $16, repetition_score = $17, quality_score = $18
         WHERE {KEY}"
    );
    let stream = r.stream.as_ref();
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(session)
        .bind(index)
        .bind(attempt)
        .bind(r.content.clone())
        .bind(r.status.map(i64::from))
        .bind(bounded(r.latency_ms))
        .bind(bounded(r.tokens.input))
        .bind(bounded(r.tokens.output))
        .bind(i64::from(r.tokens.estimated))
        .bind(bounded(r.raw_size))
        .bind(meta.recorded_at_ms)
        .bind(stream.map(|s| bounded(s.ttft_ms)))
        .bind(stream.map(|s| bounded(s.chunks)))
        .bind(stream.map(|s| s.inter_chunk_mean_ms.round() as i64))
        .bind(stream.map(|s| bounded(s.inter_chunk_max_ms)))
        .bind(r.cost.filter(|c| c.is_finite()))
        .bind(r.repetition_score.filter(|c| c.is_finite()))
        .bind(r.quality_score.filter(|c| c.is_finite()))
        .execute(conn)
        .await?;
    Ok(())
}

async fn failed(
    conn: &mut AnyConnection,
    meta: &RecordedEvent,
    f: &MessageFailed,
) -> Result<(), ProjectionError> {
    let (session, index, attempt) = key(&f.exchange);
    let sql = format!(
        "UPDATE session_messages SET outcome = 'error', error_kind = $4, error = $5, http_status = $6,
             latency_ms = $7, action = $8, received_at_ms = $9, partial = $10
         WHERE {KEY}"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(session)
        .bind(index)
        .bind(attempt)
        .bind(f.kind.as_str())
        .bind(f.error.clone())
        .bind(f.status.map(i64::from))
        .bind(bounded(f.latency_ms))
        .bind(f.action.as_str())
        .bind(meta.recorded_at_ms)
        .bind(f.partial_content.clone())
        .execute(conn)
        .await?;
    Ok(())
}

/// An exchange still pending when its session ended never got an answer: say why.
async fn close_pending(
    conn: &mut AnyConnection,
    session: String,
    outcome: &str,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "UPDATE session_messages SET outcome = $2 WHERE session_id = $1 AND outcome = 'pending'",
    )
    .bind(session)
    .bind(outcome.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Retention: blanks every text of the session's messages (request, reply, error, partial
/// reply); outcomes, latencies, tokens, cost and repetition scores stay.
async fn shred(conn: &mut AnyConnection, session: String) -> Result<(), ProjectionError> {
    sqlx::query(
        "UPDATE session_messages SET request = '',
             response = CASE WHEN response IS NULL THEN NULL ELSE '' END,
             error = CASE WHEN error IS NULL THEN NULL ELSE '' END,
             partial = NULL
         WHERE session_id = $1",
    )
    .bind(session)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl Projection for SessionMessagesProjection {
    fn name(&self) -> &'static str {
        "session_messages"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["session_messages"]
    }

    async fn apply_all(
        &self,
        conn: &mut AnyConnection,
        events: &[Decoded<'_>],
    ) -> Result<(), ProjectionError> {
        crate::messages_batch::apply_all(conn, events).await
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        match event {
            DomainEvent::ErrorInjected(i) => {
                upsert_sent(conn, meta, &i.exchange, "", Some(i.fault.as_str()), None).await?
            }
            DomainEvent::MessageSent(s) => {
                upsert_sent(conn, meta, &s.exchange, &s.content, None, Some(s)).await?
            }
            DomainEvent::ResponseReceived(r) => received(conn, meta, r).await?,
            DomainEvent::MessageFailed(f) => failed(conn, meta, f).await?,
            DomainEvent::SessionCancelled(c) => {
                close_pending(conn, c.session_id.to_string(), "cancelled").await?
            }
            DomainEvent::SessionFailed(f) => {
                close_pending(conn, f.session_id.to_string(), "interrupted").await?
            }
            DomainEvent::SessionTextsShredded(t) => shred(conn, t.session_id.to_string()).await?,
            DomainEvent::SessionDeleted(d) => {
                sqlx::query("DELETE FROM session_messages WHERE session_id = $1")
                    .bind(d.id.to_string())
                    .execute(conn)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }
}
