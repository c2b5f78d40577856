//! `krawall bench --metrics`: the metrics projection over one session of N exchanges (default
//! 1 000 000; replies with varied latency, streamed every 4th, a retried 429 every 50th, commit
//! times spread over 1 000 s) applied in runner-sized batches — projection cost per exchange —
//! then the time of `GET /api/sessions/{id}/metrics`' query (the session's total row plus the
//! timeline's bucket rows), and of merging every bucket's histograms instead (the former query,
//! which the total must agree with).

use std::time::Instant;

use actors::domain::events::{
    DomainEvent, ErrorKind, ExchangeRef, MessageFailed, ResponseReceived, SessionStarted,
    StreamMetrics, TokenCounts,
};
use actors::domain::scenario::ErrorAction;
use actors::store::{EventStore, RecordedEvent};
use projections::Projection;
use projections::metrics::MetricsProjection;
use projections::queries::{self, Aggregate};
use serde_json::json;
use uuid::Uuid;

use super::support::cpu_seconds;

/// Events per projection transaction, like the runner's batches.
const BATCH: usize = 512;
/// Span of commit times the exchanges are spread over.
const SPAN_MS: i64 = 1_000_000;

fn exchange_event(session: Uuid, i: u32) -> DomainEvent {
    let exchange = ExchangeRef {
        session_id: session,
        message_index: i,
        repetition_index: 0,
        attempt: 0,
    };
    if i % 50 == 49 {
        return DomainEvent::MessageFailed(MessageFailed {
            exchange,
            kind: ErrorKind::RateLimited,
            error: "429".into(),
            status: Some(429),
            latency_ms: 5,
            action: ErrorAction::Retry,
            partial_content: None,
            sealed: None,
        });
    }
    DomainEvent::ResponseReceived(ResponseReceived {
        exchange,
        content: "ok".into(),
        latency_ms: 50 + u64::from(i) * 7919 % 1950,
        status: Some(200),
        tokens: TokenCounts {
            input: 20,
            output: 40,
            estimated: false,
        },
        raw_size: 100,
        stream: i.is_multiple_of(4).then_some(StreamMetrics {
            ttft_ms: 20 + u64::from(i % 200),
            chunks: 10,
            inter_chunk_mean_ms: 12.5,
            inter_chunk_max_ms: 30,
        }),
        cost: Some(0.000_03),
        repetition_score: Some(0.1),
        quality_score: Some(0.8),
        sealed: None,
    })
}

fn recorded(position: i64, at_ms: i64, event: &DomainEvent) -> anyhow::Result<RecordedEvent> {
    let (event_type, payload) = event.to_parts()?;
    Ok(RecordedEvent {
        position,
        stream_id: "session-bench".into(),
        version: position,
        event_id: Uuid::now_v7(),
        event_type,
        payload,
        metadata: json!({}),
        recorded_at_ms: at_ms,
    })
}

/// Projects `exchanges` exchanges of one session in batches; returns the session id.
async fn project(store: &EventStore, exchanges: u32) -> anyhow::Result<Uuid> {
    let session = Uuid::now_v7();
    let start = 1_700_000_000_000i64;
    let first = DomainEvent::SessionStarted(SessionStarted {
        session_id: session,
        node_id: "bench".into(),
    });
    let mut pending = vec![(recorded(1, start, &first)?, first)];
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    for i in 0..exchanges {
        let event = exchange_event(session, i);
        let at = start + i64::from(i) * SPAN_MS / i64::from(exchanges.max(1));
        pending.push((recorded(i64::from(i) + 2, at, &event)?, event));
        if pending.len() == BATCH || i + 1 == exchanges {
            let batch: Vec<_> = pending.iter().map(|(r, e)| (r, e)).collect();
            let mut tx = store.pool().begin().await?;
            MetricsProjection.apply_all(&mut tx, &batch).await?;
            tx.commit().await?;
            pending.clear();
        }
    }
    let (secs, cpu) = (wall.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    println!(
        "metrics  projection  {exchanges} exchanges in {secs:.1} s: {:.0} exchanges/s, {:.1} µs CPU per exchange (decode + apply)",
        f64::from(exchanges) / secs,
        cpu * 1e6 / f64::from(exchanges.max(1))
    );
    Ok(session)
}

/// Whether the total row and the merged buckets agree: counts and percentiles exactly, sums of
/// floats (cost, means) to a relative 1e-9 (they are added up in a different order).
fn agrees(total: &Aggregate, merged: &Aggregate) -> bool {
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
        (a, b) => a.is_none() && b.is_none(),
    };
    let floats = |a: &Aggregate| Aggregate {
        cost: None,
        repetition_mean: None,
        quality_mean: None,
        ..a.clone()
    };
    floats(total) == floats(merged)
        && close(total.cost, merged.cost)
        && close(total.repetition_mean, merged.repetition_mean)
        && close(total.quality_mean, merged.quality_mean)
}

/// The projection, then the metrics query (median of 5), then the merge of the buckets.
pub async fn bench_metrics(label: &str, url: &str, exchanges: u32) -> anyhow::Result<()> {
    let store = EventStore::connect(url).await?;
    let session = project(&store, exchanges).await?.to_string();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let t = Instant::now();
        let m = queries::session_metrics(store.pool(), &session).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(m.totals.exchanges > 0, "the projection recorded nothing");
        last = Some(m);
    }
    let m = last.ok_or_else(|| anyhow::anyhow!("no query ran"))?;
    times.sort_by(f64::total_cmp);
    println!(
        "metrics  {label:<8}  GET /api/sessions/{{id}}/metrics query over {exchanges} exchanges ({} buckets, total row): median {:.1} ms",
        m.timeline.len(),
        times[2]
    );
    let t = Instant::now();
    let merged = queries::bucket_totals(store.pool(), &session, m.duration_ms).await?;
    let merge_ms = t.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        agrees(&m.totals, &merged),
        "the total row differs from the merged buckets:\n{:?}\n{:?}",
        m.totals,
        merged
    );
    println!(
        "metrics  {label:<8}  the same aggregate merged from the {} buckets' histograms instead: {merge_ms:.1} ms (agrees with the total row)",
        m.timeline.len()
    );
    Ok(())
}
