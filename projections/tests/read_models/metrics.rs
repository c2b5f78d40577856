//! The metrics projection on a known set of exchanges with chosen commit times: every figure
//! checked against hand-computed values; one batch, one event at a time, and a replayed batch
//! give the same read model; the session total row equals the merge of its buckets, also after
//! a rebuild from the event log.

use std::sync::Arc;

use actors::domain::events::{
    DomainEvent, ErrorKind, ExchangeRef, MessageFailed, MessageSent, ResponseReceived,
    StreamMetrics, TokenCounts,
};
use actors::domain::scenario::ErrorAction;
use actors::store::{EventStore, RecordedEvent};
use projections::metrics::MetricsProjection;
use projections::queries::{bucket_totals, session_metrics};
use projections::{Projection, catch_up, rebuild};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{append, started};

const T0: i64 = 1_700_000_000_000;

fn ex(session: Uuid, index: u32, attempt: u32) -> ExchangeRef {
    ExchangeRef {
        session_id: session,
        message_index: index,
        repetition_index: 0,
        attempt,
    }
}

fn sent(session: Uuid, index: u32, attempt: u32, backoff_ms: u64) -> DomainEvent {
    DomainEvent::MessageSent(MessageSent {
        exchange: ex(session, index, attempt),
        content: "hi".into(),
        context_messages: 1,
        context_tokens: 1,
        wait_ms: backoff_ms,
        backoff_ms,
        sealed: None,
    })
}

/// A reply: (index, attempt), latency, (tokens in, out), (ttft, chunks, itl mean), and
/// (cost, repetition, quality).
fn reply(
    session: Uuid,
    (index, attempt): (u32, u32),
    latency_ms: u64,
    (input, output): (u64, u64),
    stream: Option<(u64, u64, f64)>,
    scores: Option<(f64, f64, f64)>,
) -> DomainEvent {
    DomainEvent::ResponseReceived(ResponseReceived {
        exchange: ex(session, index, attempt),
        content: "ok".into(),
        latency_ms,
        status: Some(200),
        tokens: TokenCounts {
            input,
            output,
            estimated: false,
        },
        raw_size: 2,
        stream: stream.map(|(ttft_ms, chunks, itl)| StreamMetrics {
            ttft_ms,
            chunks,
            inter_chunk_mean_ms: itl,
            inter_chunk_max_ms: itl as u64,
        }),
        cost: scores.map(|s| s.0),
        repetition_score: scores.map(|s| s.1),
        quality_score: scores.map(|s| s.2),
        sealed: None,
    })
}

fn failed(session: Uuid, index: u32, kind: ErrorKind, action: ErrorAction) -> DomainEvent {
    DomainEvent::MessageFailed(MessageFailed {
        exchange: ex(session, index, 0),
        kind,
        error: "x".into(),
        status: None,
        latency_ms: 700,
        action,
        partial_content: None,
        sealed: None,
    })
}

/// The known exchanges as (milliseconds after T0, event).
fn known(s: Uuid) -> Vec<(i64, DomainEvent)> {
    vec![
        (0, started(s)),
        (10, sent(s, 0, 0, 0)),
        (
            110,
            reply(
                s,
                (0, 0),
                100,
                (10, 20),
                Some((40, 5, 15.0)),
                Some((0.001, 0.2, 0.8)),
            ),
        ),
        (200, sent(s, 1, 0, 0)),
        (
            300,
            failed(s, 1, ErrorKind::RateLimited, ErrorAction::Retry),
        ),
        (800, sent(s, 1, 1, 500)),
        (
            1100,
            reply(s, (1, 1), 300, (30, 40), None, Some((0.003, 0.4, 0.6))),
        ),
        (1200, sent(s, 2, 0, 0)),
        (1900, failed(s, 2, ErrorKind::Timeout, ErrorAction::Skip)),
        (2000, sent(s, 3, 0, 0)),
        (
            2500,
            reply(s, (3, 0), 200, (5, 5), Some((60, 3, 25.4)), None),
        ),
        (301_000, sent(s, 4, 0, 0)),
        (301_500, reply(s, (4, 0), 1000, (0, 10), None, None)),
    ]
}

fn recorded(first_position: i64, events: &[(i64, DomainEvent)]) -> Vec<RecordedEvent> {
    events
        .iter()
        .enumerate()
        .map(|(i, (at, event))| {
            let (event_type, payload) = event.to_parts().unwrap();
            RecordedEvent {
                position: first_position + i as i64,
                stream_id: "session-x".into(),
                version: i as i64 + 1,
                event_id: Uuid::new_v4(),
                event_type,
                payload,
                metadata: json!({}),
                recorded_at_ms: T0 + at,
            }
        })
        .collect()
}

async fn apply(store: &EventStore, batch: &[RecordedEvent]) {
    let events: Vec<DomainEvent> = batch
        .iter()
        .map(|r| DomainEvent::from_parts(&r.event_type, &r.payload).unwrap())
        .collect();
    let decoded: Vec<_> = batch.iter().zip(&events).collect();
    let mut tx = store.pool().begin().await.unwrap();
    MetricsProjection
        .apply_all(&mut tx, &decoded)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn metrics_json(store: &EventStore, s: Uuid) -> Value {
    let mut v =
        serde_json::to_value(session_metrics(store.pool(), &s.to_string()).await.unwrap()).unwrap();
    v["sessionId"] = json!("s");
    v
}

fn check_totals(m: &Value) {
    // Replies #0 #1 #3 #4; #2 failed for good; #1's first attempt was retried (one success).
    let expect = json!({
        "exchanges": 5, "replies": 4, "errors": 1, "retries": 1, "errorRate": 0.2,
        "errorsByKind": {"rate_limited": 1, "timeout": 1}, "rateLimited": 1, "backoffMs": 500,
        "tokensIn": 45, "tokensOut": 75,
        // 75 tokens and 5 exchanges over 301.5 s.
        "tokensPerSecond": 0.249, "exchangesPerSecond": 0.017,
        "cost": 0.004, "repetitionMean": 0.3, "qualityMean": 0.7,
        // [100, 200, 300, 1000]: rank ceil(q·4) → p50 200, p90..p99 1000.
        "latency": {"count": 4, "min": 100, "mean": 400.0, "p50": 200, "p90": 1000, "p95": 1000, "p99": 1000, "max": 1000},
        "ttft": {"count": 2, "min": 40, "mean": 50.0, "p50": 40, "p90": 60, "p95": 60, "p99": 60, "max": 60},
        "itl": {"count": 2, "min": 15, "mean": 20.0, "p50": 15, "p90": 25, "p95": 25, "p99": 25, "max": 25},
    });
    for (key, value) in expect.as_object().unwrap() {
        assert_eq!(&m[key], value, "{key}");
    }
    assert_eq!(m["startedAtMs"], json!(T0));
    assert_eq!(m["durationMs"], json!(301_500));
}

fn check_timeline(m: &Value) {
    let timeline = m["timeline"].as_array().unwrap();
    let shape: Vec<(i64, i64, i64, i64, i64)> = timeline
        .iter()
        .map(|b| {
            let n = |k: &str| b[k].as_i64().unwrap();
            (
                n("offsetMs"),
                n("widthMs"),
                n("exchanges"),
                n("errors"),
                n("retries"),
            )
        })
        .collect();
    // 1 s buckets at 0, 1 and 2 s; the reply at 301.5 s falls in the 10 s bucket from 300 s.
    let expected = vec![
        (0, 1000, 1, 0, 1),
        (1000, 1000, 2, 1, 0),
        (2000, 1000, 1, 0, 0),
        (300_000, 10_000, 1, 0, 0),
    ];
    assert_eq!(shape, expected);
    assert_eq!(timeline[0]["backoffMs"], json!(500));
    assert_eq!(timeline[0]["rateLimited"], json!(1));
    assert_eq!(timeline[0]["latency"]["p50"], json!(100));
    assert_eq!(timeline[1]["errorRate"], json!(0.5));
    assert_eq!(timeline[1]["exchangesPerSecond"], json!(2.0));
    assert_eq!(timeline[3]["exchangesPerSecond"], json!(0.1));
    assert_eq!(timeline[3]["startMs"], json!(T0 + 300_000));
}

pub async fn metrics_match_hand_computed_figures(store: EventStore) {
    let s = Uuid::new_v4();
    apply(&store, &recorded(1, &known(s))).await;
    let m = metrics_json(&store, s).await;
    check_totals(&m);
    check_timeline(&m);
}

pub async fn metrics_are_the_same_one_event_at_a_time_and_after_a_replay(store: EventStore) {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let batch_a = recorded(1, &known(a));
    apply(&store, &batch_a).await;
    for event in recorded(100, &known(b)) {
        apply(&store, std::slice::from_ref(&event)).await;
    }
    let expected = metrics_json(&store, a).await;
    assert_eq!(metrics_json(&store, b).await, expected);
    // The same batch again, forwards and backwards: nothing counts twice.
    apply(&store, &batch_a).await;
    let reversed: Vec<RecordedEvent> = batch_a.iter().rev().cloned().collect();
    apply(&store, &reversed).await;
    assert_eq!(metrics_json(&store, a).await, expected);
}

/// The session's total (from its `metrics_totals` row) and the merge of its bucket rows.
async fn total_and_merged_buckets(store: &EventStore, s: Uuid) -> (Value, Value) {
    let m = session_metrics(store.pool(), &s.to_string()).await.unwrap();
    let merged = bucket_totals(store.pool(), &s.to_string(), m.duration_ms)
        .await
        .unwrap();
    (
        serde_json::to_value(&m.totals).unwrap(),
        serde_json::to_value(&merged).unwrap(),
    )
}

pub async fn the_session_total_is_the_merge_of_its_buckets(store: EventStore) {
    // The known exchanges over four buckets, in one batch and in batches of three.
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    apply(&store, &recorded(1, &known(a))).await;
    for chunk in recorded(100, &known(b)).chunks(3) {
        apply(&store, chunk).await;
    }
    for s in [a, b] {
        let (total, merged) = total_and_merged_buckets(&store, s).await;
        assert_eq!(total, merged);
        assert_eq!(
            (
                total["exchanges"].as_i64(),
                total["latency"]["count"].as_i64()
            ),
            (Some(5), Some(4))
        );
    }
    // Stored events through the runner, then the read model rebuilt from them.
    let c = Uuid::new_v4();
    let events: Vec<DomainEvent> = known(c).into_iter().map(|(_, e)| e).collect();
    append(&store, c, &events).await;
    let metrics: Vec<Arc<dyn Projection>> = vec![Arc::new(MetricsProjection)];
    catch_up(&store, &metrics).await.unwrap();
    let before = metrics_json(&store, c).await;
    assert_eq!(before["exchanges"], json!(5), "{before}");
    let (total, merged) = total_and_merged_buckets(&store, c).await;
    assert_eq!(total, merged);
    rebuild(&store, &metrics).await.unwrap();
    assert_eq!(metrics_json(&store, c).await, before);
    let (total, merged) = total_and_merged_buckets(&store, c).await;
    assert_eq!(total, merged);
}
