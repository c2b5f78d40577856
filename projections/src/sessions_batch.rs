//! `sessions` counters for a whole batch: replies and failures are summed per session in memory
//! and written with one `UPDATE … FROM` per run, guarded like the per-event updates by the
//! row's `applied_position`. Other session events (queued, started, finished, deleted) are
//! applied one by one, after writing the counts that came before them for that session, so the
//! result equals applying every event in position order. A session whose row has already seen
//! part of the run (a replay over a lost checkpoint) is applied event by event instead.

use std::collections::{HashMap, HashSet};

use actors::domain::events::DomainEvent;
use actors::domain::scenario::ErrorAction;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use crate::bulk::{Col, run};
use crate::projection::{
    COUNTER_CAP, Decoded, Projection, ProjectionError, bounded, saturating_sum,
};
use crate::sessions::SessionsProjection;

/// A session's counters over a run of its events.
struct Sums<'a> {
    first: i64,
    last: i64,
    messages: i64,
    errors: i64,
    tokens_in: i64,
    tokens_out: i64,
    latency_ms: i64,
    events: Vec<Decoded<'a>>,
}

fn add(sum: i64, value: i64) -> i64 {
    sum.saturating_add(value).min(COUNTER_CAP)
}

#[derive(Default)]
struct Pending<'a> {
    sessions: HashMap<Uuid, Sums<'a>>,
}

impl<'a> Pending<'a> {
    fn count(&mut self, session: Uuid, decoded: Decoded<'a>) {
        let (meta, event) = decoded;
        let sums = self.sessions.entry(session).or_insert(Sums {
            first: meta.position,
            last: meta.position,
            messages: 0,
            errors: 0,
            tokens_in: 0,
            tokens_out: 0,
            latency_ms: 0,
            events: Vec::new(),
        });
        sums.last = meta.position;
        sums.messages = add(sums.messages, 1);
        match event {
            DomainEvent::ResponseReceived(r) => {
                sums.tokens_in = add(sums.tokens_in, bounded(r.tokens.input));
                sums.tokens_out = add(sums.tokens_out, bounded(r.tokens.output));
                sums.latency_ms = add(sums.latency_ms, bounded(r.latency_ms));
            }
            _ => sums.errors = add(sums.errors, 1),
        }
        sums.events.push(decoded);
    }

    async fn flush(&mut self, conn: &mut AnyConnection) -> Result<(), ProjectionError> {
        if self.sessions.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = self
            .sessions
            .iter()
            .map(|(id, s)| {
                let sums = (
                    s.messages,
                    s.errors,
                    s.tokens_in,
                    s.tokens_out,
                    s.latency_ms,
                );
                (id.to_string(), s.first, s.last, sums)
            })
            .map(|(id, first, last, (m, e, i, o, l))| (id, first, last, m, e, i, o, l))
            .collect();
        let updated: HashSet<String> = run(conn, &UPDATE_COLS, &rows, update_sql)
            .await?
            .iter()
            .map(|row| row.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?;
        for (id, sums) in std::mem::take(&mut self.sessions) {
            if !updated.contains(&id.to_string()) {
                for (meta, event) in sums.events {
                    SessionsProjection.apply(conn, meta, event).await?;
                }
            }
        }
        Ok(())
    }
}

/// Session id, first and last position, then the five sums.
const UPDATE_COLS: [Col; 8] = [
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Int,
];

fn update_sql(select: &str) -> String {
    format!(
        "UPDATE sessions SET message_count = {}, error_count = {}, tokens_in = {}, tokens_out = {},
             latency_total_ms = {}, applied_position = d.c2
         FROM ({select}) AS d WHERE sessions.id = d.c0 AND sessions.applied_position < d.c1
         RETURNING sessions.id",
        saturating_sum("message_count", "d.c3"),
        saturating_sum("error_count", "d.c4"),
        saturating_sum("tokens_in", "d.c5"),
        saturating_sum("tokens_out", "d.c6"),
        saturating_sum("latency_total_ms", "d.c7"),
    )
}

/// The session an event of this projection belongs to.
fn session_of(event: &DomainEvent) -> Option<Uuid> {
    match event {
        DomainEvent::SessionQueued(q) => Some(q.session_id),
        DomainEvent::SessionStarted(s) => Some(s.session_id),
        DomainEvent::SessionCompleted(c) => Some(c.session_id),
        DomainEvent::SessionCancelled(c) => Some(c.session_id),
        DomainEvent::SessionFailed(f) => Some(f.session_id),
        DomainEvent::SessionDeleted(d) => Some(d.id),
        DomainEvent::SessionTextsShredded(t) => Some(t.session_id),
        _ => None,
    }
}

/// Applies a run of events (position order) to `sessions`.
pub async fn apply_all(
    conn: &mut AnyConnection,
    events: &[Decoded<'_>],
) -> Result<(), ProjectionError> {
    let mut pending = Pending::default();
    for &(meta, event) in events {
        match event {
            DomainEvent::ResponseReceived(r) => pending.count(r.exchange.session_id, (meta, event)),
            // A retried attempt is not a failed message (as in `SessionsProjection::apply`).
            DomainEvent::MessageFailed(f) if f.action == ErrorAction::Retry => {}
            DomainEvent::MessageFailed(f) => pending.count(f.exchange.session_id, (meta, event)),
            other => {
                let Some(session) = session_of(other) else {
                    continue;
                };
                if pending.sessions.contains_key(&session) {
                    pending.flush(conn).await?;
                }
                SessionsProjection.apply(conn, meta, event).await?;
            }
        }
    }
    pending.flush(conn).await
}
