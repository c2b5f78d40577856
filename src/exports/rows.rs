//! Reads what an export covers from the read model, a page at a time: one session's exchange
//! rows, or the rows of every session matching the session list's filters (newest session
//! first). Pages are keyset-paged, so memory stays bounded by [`CHUNK_ROWS`].

use export::ExchangeRow;
use projections::queries::{self, MessageView, SessionFilter, SessionView};
use sqlx::AnyPool;
use tokio::sync::mpsc;

/// Rows per read-model page, per CSV batch and per Parquet row group.
pub const CHUNK_ROWS: i64 = 5_000;

/// Sessions fetched per page when exporting a filtered list.
const SESSION_PAGE: i64 = 200;

/// What an export covers.
#[derive(Debug, Clone)]
pub enum ExportScope {
    /// One session (already known to exist).
    Session(Box<SessionView>),
    /// Every session matching the filters (`limit`/`offset` ignored).
    Sessions(SessionFilter),
}

/// A chunk of rows, or why reading stopped (the writer then aborts the file).
pub type Chunk = Result<Vec<ExchangeRow>, String>;

/// One exported row: the exchange with its session's ids and names.
pub fn exchange_row(s: &SessionView, m: MessageView) -> ExchangeRow {
    ExchangeRow {
        session_id: s.id.clone(),
        target_id: s.target_id.clone(),
        target_name: s.target_name.clone(),
        scenario_id: s.scenario_id.clone(),
        scenario_name: s.scenario_name.clone(),
        message_index: m.message_index,
        attempt: m.attempt,
        repetition_index: m.repetition_index,
        request: m.request,
        response: m.response,
        outcome: m.outcome,
        http_status: m.http_status,
        latency_ms: m.latency_ms,
        ttft_ms: m.ttft_ms,
        chunk_count: m.chunk_count,
        inter_chunk_mean_ms: m.inter_chunk_mean_ms,
        inter_chunk_max_ms: m.inter_chunk_max_ms,
        tokens_in: m.tokens_in,
        tokens_out: m.tokens_out,
        tokens_estimated: m.tokens_estimated,
        raw_size: m.raw_size,
        cost: m.cost,
        repetition_score: m.repetition_score,
        quality_score: m.quality_score,
        error_kind: m.error_kind,
        error: m.error,
        action: m.action,
        injected: m.injected,
        partial: m.partial,
        context_messages: m.context_messages,
        context_tokens: m.context_tokens,
        wait_ms: m.wait_ms,
        sent_at: m.sent_at,
        received_at: m.received_at,
    }
}

/// Sends the scope's rows to `tx` in chunks; a read error is sent as the last chunk. Stops
/// early when the receiver is gone (client disconnected).
pub async fn produce(pool: AnyPool, scope: ExportScope, tx: mpsc::Sender<Chunk>) {
    let mut out = Batcher {
        rows: Vec::new(),
        tx: &tx,
    };
    let result = match scope {
        ExportScope::Session(s) => session_rows(&pool, &s, &mut out).await,
        ExportScope::Sessions(filter) => list_rows(&pool, &filter, &mut out).await,
    };
    let result = match result {
        Ok(()) => out.flush().await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "export stopped: reading the read model failed");
        let _ = tx.send(Err(e.to_string())).await;
    }
}

/// Gathers rows (of one or several sessions) into chunks of [`CHUNK_ROWS`], so a list of small
/// sessions still makes full Parquet row groups.
struct Batcher<'a> {
    rows: Vec<ExchangeRow>,
    tx: &'a mpsc::Sender<Chunk>,
}

impl Batcher<'_> {
    async fn push(&mut self, rows: impl Iterator<Item = ExchangeRow>) -> Result<(), ProduceError> {
        for row in rows {
            self.rows.push(row);
            if self.rows.len() as i64 >= CHUNK_ROWS {
                self.flush().await?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), ProduceError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.rows);
        self.tx
            .send(Ok(chunk))
            .await
            .map_err(|_| ProduceError::Closed)
    }
}

/// Why a producer stopped early: the read model failed or nobody listens any more.
#[derive(Debug, thiserror::Error)]
enum ProduceError {
    #[error("read model: {0}")]
    Read(#[from] sqlx::Error),
    #[error("the export's reader went away")]
    Closed,
}

async fn session_rows(
    pool: &AnyPool,
    session: &SessionView,
    out: &mut Batcher<'_>,
) -> Result<(), ProduceError> {
    let mut after = None;
    loop {
        let page = queries::messages_after(pool, &session.id, after, CHUNK_ROWS).await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = Some((last.message_index, last.attempt));
        let full = page.len() as i64 == CHUNK_ROWS;
        out.push(page.into_iter().map(|m| exchange_row(session, m)))
            .await?;
        if !full {
            return Ok(());
        }
    }
}

async fn list_rows(
    pool: &AnyPool,
    filter: &SessionFilter,
    out: &mut Batcher<'_>,
) -> Result<(), ProduceError> {
    let mut cursor = None;
    loop {
        let (sessions, next) =
            queries::sessions_after(pool, filter, cursor.as_ref(), SESSION_PAGE).await?;
        for s in &sessions {
            session_rows(pool, s, out).await?;
        }
        if (sessions.len() as i64) < SESSION_PAGE {
            return Ok(());
        }
        cursor = next;
    }
}
