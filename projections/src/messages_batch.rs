//! `session_messages` for a whole batch in a few set-based statements: the batch's sent rows
//! (`MessageSent` / `ErrorInjected`, merged per exchange attempt exactly as the per-event upsert
//! would merge them, with the attempt's reply or failure when it is in the same batch, so the
//! row is written once) in one upsert, then the other replies and failures in one
//! `UPDATE … FROM` each.
//! Session-wide changes (cancel, fail, delete) first write what came before them, so the
//! result is the same as applying the events one by one in position order.

use std::collections::HashMap;

use actors::domain::events::{DomainEvent, ExchangeRef, MessageFailed, ResponseReceived};
use actors::store::RecordedEvent;
use serde_json::{Value, json};
use sqlx::AnyConnection;

use crate::bulk::{Col, run};
use crate::messages::SessionMessagesProjection;
use crate::projection::{Decoded, Projection, ProjectionError, bounded};

type Key = (String, i64, i64);

/// session, index, attempt, repetition, request, injected, sent at, context messages,
/// context tokens, wait.
type SentRow = (
    String,
    i64,
    i64,
    i64,
    String,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// Key, response, status, latency, tokens in/out/estimated, raw size, received at, ttft,
/// chunks, inter-chunk mean/max, cost, repetition score, quality score.
type ReceivedRow = (
    String,
    i64,
    i64,
    String,
    Option<i64>,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

/// Key, kind, error, status, latency, action, received at, partial content.
type FailedRow = (
    String,
    i64,
    i64,
    String,
    String,
    Option<i64>,
    i64,
    String,
    i64,
    Option<String>,
);

fn key(e: &ExchangeRef) -> Key {
    (
        e.session_id.to_string(),
        i64::from(e.message_index),
        i64::from(e.attempt),
    )
}

/// What an attempt came to, when it is in the same batch as its sent row.
enum Outcome {
    Replied(ReceivedRow),
    Failed(FailedRow),
}

/// Rows waiting to be written, in event order within each kind.
#[derive(Default)]
struct Pending {
    sent: Vec<SentRow>,
    outcomes: Vec<Option<Outcome>>,
    by_key: HashMap<Key, usize>,
    received: Vec<ReceivedRow>,
    failed: Vec<FailedRow>,
}

impl Pending {
    /// Adds a sent row, merged into an earlier one of the same attempt like the upsert does.
    fn sent(&mut self, row: SentRow) {
        let k = (row.0.clone(), row.1, row.2);
        let Some(&at) = self.by_key.get(&k) else {
            self.by_key.insert(k, self.sent.len());
            self.sent.push(row);
            self.outcomes.push(None);
            return;
        };
        let old = &mut self.sent[at];
        if !row.4.is_empty() {
            old.4 = row.4;
        }
        old.5 = row.5.or(old.5.take());
        old.6 = row.6;
        old.7 = row.7.or(old.7);
        old.8 = row.8.or(old.8);
        old.9 = row.9.or(old.9);
    }

    /// Merges a reply into its sent row of this batch, else queues its `UPDATE`.
    fn received(&mut self, row: ReceivedRow) {
        match self.free_slot((row.0.clone(), row.1, row.2)) {
            Some(slot) => *slot = Some(Outcome::Replied(row)),
            None => self.received.push(row),
        }
    }

    fn failed(&mut self, row: FailedRow) {
        match self.free_slot((row.0.clone(), row.1, row.2)) {
            Some(slot) => *slot = Some(Outcome::Failed(row)),
            None => self.failed.push(row),
        }
    }

    /// The outcome slot of this batch's sent row for `k`, if it has none yet.
    fn free_slot(&mut self, k: Key) -> Option<&mut Option<Outcome>> {
        let at = *self.by_key.get(&k)?;
        self.outcomes.get_mut(at).filter(|slot| slot.is_none())
    }

    fn is_empty(&self) -> bool {
        self.sent.is_empty() && self.received.is_empty() && self.failed.is_empty()
    }

    async fn flush(&mut self, conn: &mut AnyConnection) -> Result<(), ProjectionError> {
        if self.is_empty() {
            return Ok(());
        }
        if !self.sent.is_empty() {
            let rows: Vec<Vec<Value>> = (self.sent.iter().zip(&self.outcomes))
                .map(|(sent, outcome)| merged_row(sent, outcome.as_ref()))
                .collect();
            run(conn, &UPSERT_COLS, &rows, upsert_sql).await?;
        }
        if !self.received.is_empty() {
            let rows: Vec<Vec<Value>> = self.received.iter().map(received_values).collect();
            run(conn, &RECEIVED_COLS, &rows, received_sql).await?;
        }
        if !self.failed.is_empty() {
            run(conn, &FAILED_COLS, &self.failed, failed_sql).await?;
        }
        *self = Self::default();
        Ok(())
    }
}

/// A reply row as JSON values (serde serialises tuples of at most 16 fields).
fn received_values(r: &ReceivedRow) -> Vec<Value> {
    vec![
        json!(r.0),
        json!(r.1),
        json!(r.2),
        json!(r.3),
        json!(r.4),
        json!(r.5),
        json!(r.6),
        json!(r.7),
        json!(r.8),
        json!(r.9),
        json!(r.10),
        json!(r.11),
        json!(r.12),
        json!(r.13),
        json!(r.14),
        json!(r.15),
        json!(r.16),
        json!(r.17),
    ]
}

/// A sent row plus its outcome columns (`pending` and NULLs when the outcome is not known).
fn merged_row(sent: &SentRow, outcome: Option<&Outcome>) -> Vec<Value> {
    let (s, m, a, rep, request, injected, at, cm, ct, wait) = sent;
    let mut row = vec![
        json!(s),
        json!(m),
        json!(a),
        json!(rep),
        json!(request),
        json!(injected),
        json!(at),
        json!(cm),
        json!(ct),
        json!(wait),
    ];
    let null = || Value::Null;
    row.extend(match outcome {
        None => [vec![json!("pending")], vec![Value::Null; 19]].concat(),
        Some(Outcome::Replied(r)) => {
            // The reply's columns, then the failure's (NULL), then cost, repetition and quality.
            let v = received_values(r);
            [
                vec![json!("ok")],
                v[3..15].to_vec(),
                vec![null(); 4],
                v[15..].to_vec(),
            ]
            .concat()
        }
        Some(Outcome::Failed(f)) => vec![
            json!("error"),
            null(),
            json!(f.5),
            json!(f.6),
            null(),
            null(),
            null(),
            null(),
            json!(f.8),
            null(),
            null(),
            null(),
            null(),
            json!(f.3),
            json!(f.4),
            json!(f.7),
            json!(f.9),
            null(),
            null(),
            null(),
        ],
    });
    row
}

/// Columns an outcome sets: by any outcome, by a reply, by a failure.
const ANY_OUTCOME: [&str; 3] = ["http_status", "latency_ms", "received_at_ms"];
const REPLY: [&str; 12] = [
    "response",
    "tokens_in",
    "tokens_out",
    "tokens_estimated",
    "raw_size",
    "ttft_ms",
    "chunk_count",
    "inter_chunk_mean_ms",
    "inter_chunk_max_ms",
    "cost",
    "repetition_score",
    "quality_score",
];
const FAILURE: [&str; 4] = ["error_kind", "error", "action", "partial"];

use Col::{Float, Int, Text};

/// The sent row's columns, the outcome, the reply's, the failure's (see [`merged_row`]).
const UPSERT_COLS: [Col; 30] = [
    Text, Int, Int, Int, Text, Text, Int, Int, Int, Int, Text, Text, Int, Int, Int, Int, Int, Int,
    Int, Int, Int, Int, Int, Text, Text, Text, Text, Float, Float, Float,
];
const RECEIVED_COLS: [Col; 18] = [
    Text, Int, Int, Text, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Float, Float,
    Float,
];
const FAILED_COLS: [Col; 10] = [Text, Int, Int, Text, Text, Int, Int, Text, Int, Text];

fn upsert_sql(select: &str) -> String {
    let when = |outcome: &str, col: &str| {
        format!(
            "{col} = CASE WHEN excluded.outcome {outcome} THEN excluded.{col} ELSE session_messages.{col} END"
        )
    };
    let outcome_sets: Vec<String> = (ANY_OUTCOME.iter().map(|c| when("<> 'pending'", c)))
        .chain(REPLY.iter().map(|c| when("= 'ok'", c)))
        .chain(FAILURE.iter().map(|c| when("= 'error'", c)))
        .collect();
    format!(
        "INSERT INTO session_messages (session_id, message_index, attempt, repetition_index, request, injected,
             sent_at_ms, context_messages, context_tokens, wait_ms, outcome, response, http_status, latency_ms,
             tokens_in, tokens_out, tokens_estimated, raw_size, received_at_ms, ttft_ms, chunk_count,
             inter_chunk_mean_ms, inter_chunk_max_ms, error_kind, error, action, partial, cost,
             repetition_score, quality_score)
         SELECT d.* FROM ({select}) AS d WHERE true
         ON CONFLICT (session_id, message_index, attempt) DO UPDATE SET
             request = CASE WHEN excluded.request = '' THEN session_messages.request ELSE excluded.request END,
             injected = COALESCE(excluded.injected, session_messages.injected),
             sent_at_ms = excluded.sent_at_ms,
             context_messages = COALESCE(excluded.context_messages, session_messages.context_messages),
             context_tokens = COALESCE(excluded.context_tokens, session_messages.context_tokens),
             wait_ms = COALESCE(excluded.wait_ms, session_messages.wait_ms),
             outcome = CASE WHEN excluded.outcome = 'pending' THEN session_messages.outcome ELSE excluded.outcome END,
             {}",
        outcome_sets.join(",\n             ")
    )
}

const MATCH: &str = "session_messages.session_id = d.c0 AND session_messages.message_index = d.c1 \
                     AND session_messages.attempt = d.c2";

fn received_sql(select: &str) -> String {
    format!(
        "UPDATE session_messages SET outcome = 'ok', response = d.c3, http_status = d.c4, latency_ms = d.c5,
             tokens_in = d.c6, tokens_out = d.c7, tokens_estimated = d.c8, raw_size = d.c9, received_at_ms = d.c10,
             ttft_ms = d.c11, chunk_count = d.c12, inter_chunk_mean_ms = d.c13, inter_chunk_max_ms = d.c14,
             cost = d.c15, repetition_score = d.c16, quality_score = d.c17
         FROM ({select}) AS d WHERE {MATCH}"
    )
}

fn failed_sql(select: &str) -> String {
    format!(
        "UPDATE session_messages SET outcome = 'error', error_kind = d.c3, error = d.c4, http_status = d.c5,
             latency_ms = d.c6, action = d.c7, received_at_ms = d.c8, partial = d.c9
         FROM ({select}) AS d WHERE {MATCH}"
    )
}

fn received_row(meta: &RecordedEvent, r: &ResponseReceived) -> ReceivedRow {
    let (session, index, attempt) = key(&r.exchange);
    let stream = r.stream.as_ref();
    (
        session,
        index,
        attempt,
        r.content.clone(),
        r.status.map(i64::from),
        bounded(r.latency_ms),
        bounded(r.tokens.input),
        bounded(r.tokens.output),
        i64::from(r.tokens.estimated),
        bounded(r.raw_size),
        meta.recorded_at_ms,
        stream.map(|s| bounded(s.ttft_ms)),
        stream.map(|s| bounded(s.chunks)),
        stream.map(|s| s.inter_chunk_mean_ms.round() as i64),
        stream.map(|s| bounded(s.inter_chunk_max_ms)),
        r.cost.filter(|c| c.is_finite()),
        r.repetition_score.filter(|c| c.is_finite()),
        r.quality_score.filter(|c| c.is_finite()),
    )
}

fn failed_row(meta: &RecordedEvent, f: &MessageFailed) -> FailedRow {
    let (session, index, attempt) = key(&f.exchange);
    (
        session,
        index,
        attempt,
        f.kind.as_str().to_owned(),
        f.error.clone(),
        f.status.map(i64::from),
        bounded(f.latency_ms),
        f.action.as_str().to_owned(),
        meta.recorded_at_ms,
        f.partial_content.clone(),
    )
}

/// Applies a run of events (position order) to `session_messages`.
pub async fn apply_all(
    conn: &mut AnyConnection,
    events: &[Decoded<'_>],
) -> Result<(), ProjectionError> {
    let mut pending = Pending::default();
    for &(meta, event) in events {
        match event {
            DomainEvent::ErrorInjected(i) => {
                let (s, m, a) = key(&i.exchange);
                let rep = i64::from(i.exchange.repetition_index);
                let fault = Some(i.fault.as_str().to_owned());
                let at = meta.recorded_at_ms;
                pending.sent((s, m, a, rep, String::new(), fault, at, None, None, None));
            }
            DomainEvent::MessageSent(x) => {
                let (s, m, a) = key(&x.exchange);
                let rep = i64::from(x.exchange.repetition_index);
                let sizes = (
                    Some(bounded(u64::from(x.context_messages))),
                    Some(bounded(x.context_tokens)),
                    Some(bounded(x.wait_ms)),
                );
                let (request, at) = (x.content.clone(), meta.recorded_at_ms);
                pending.sent((s, m, a, rep, request, None, at, sizes.0, sizes.1, sizes.2));
            }
            DomainEvent::ResponseReceived(r) => pending.received(received_row(meta, r)),
            DomainEvent::MessageFailed(f) => pending.failed(failed_row(meta, f)),
            DomainEvent::SessionCancelled(_)
            | DomainEvent::SessionFailed(_)
            | DomainEvent::SessionDeleted(_)
            | DomainEvent::SessionTextsShredded(_) => {
                pending.flush(conn).await?;
                SessionMessagesProjection.apply(conn, meta, event).await?;
            }
            _ => {}
        }
    }
    pending.flush(conn).await
}
