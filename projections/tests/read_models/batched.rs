//! The set-based `apply_all` of a batch leaves the read models exactly as applying its events one
//! by one (`apply`) in position order: sent/reply/failure rows merged per attempt, counters
//! summed per session, session-wide changes (cancel) ordered after what came before them.

use actors::domain::events::{DomainEvent, ErrorInjected, ExchangeRef, SessionCancelled};
use actors::domain::faults::InjectedFault;
use actors::store::EventStore;
use projections::{all_projections, catch_up};
use uuid::Uuid;

use crate::fixtures::{append, completed, failed, queued, reply, sent, started};

fn injected(session: Uuid, index: u32) -> DomainEvent {
    DomainEvent::ErrorInjected(ErrorInjected {
        exchange: ExchangeRef {
            session_id: session,
            message_index: index,
            repetition_index: 0,
            attempt: 0,
        },
        fault: InjectedFault::EmptyBody,
    })
}

/// Every row of both session tables as text, in key order.
async fn snapshot(store: &EventStore) -> Vec<String> {
    let queries = [
        "SELECT id || '|' || status || '|' || CAST(message_count AS TEXT) || '|' || CAST(error_count AS TEXT) || '|' || \
         CAST(tokens_in AS TEXT) || '|' || CAST(tokens_out AS TEXT) || '|' || CAST(latency_total_ms AS TEXT) || '|' || \
         CAST(applied_position AS TEXT) FROM sessions ORDER BY id",
        "SELECT session_id || '|' || CAST(message_index AS TEXT) || '|' || CAST(attempt AS TEXT) || '|' || outcome || '|' || \
         request || '|' || COALESCE(response, '-') || '|' || COALESCE(injected, '-') || '|' || COALESCE(error_kind, '-') || '|' || \
         COALESCE(CAST(latency_ms AS TEXT), '-') || '|' || COALESCE(CAST(tokens_in AS TEXT), '-') || '|' || \
         COALESCE(CAST(context_tokens AS TEXT), '-') FROM session_messages ORDER BY session_id, message_index, attempt",
    ];
    let mut rows = Vec::new();
    for sql in queries {
        let found: Vec<(String,)> = sqlx::query_as(sql).fetch_all(store.pool()).await.unwrap();
        rows.extend(found.into_iter().map(|r| r.0));
    }
    rows
}

/// Two sessions interleaved; with `each`, the projections catch up after every append (the
/// exchanges then span batches), else the whole log is one batch.
async fn seed_and_project(store: &EventStore, each: bool) {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let cancelled = DomainEvent::SessionCancelled(SessionCancelled {
        session_id: b,
        summary: Default::default(),
    });
    let appends = [
        (a, vec![queued(a), started(a), injected(a, 0), sent(a, 0)]),
        (b, vec![queued(b), started(b), sent(b, 0)]),
        (a, vec![reply(a, 0, 3, 4, 10), sent(a, 1), failed(a, 1)]),
        (b, vec![reply(b, 0, 5, 6, 7), sent(b, 1)]),
        (a, vec![sent(a, 2), reply(a, 2, 1, 1, 1), completed(a)]),
        (b, vec![cancelled]),
    ];
    for (session, events) in appends {
        append(store, session, &events).await;
        if each {
            catch_up(store, &all_projections()).await.unwrap();
        }
    }
    catch_up(store, &all_projections()).await.unwrap();
}

pub async fn a_batch_applies_like_its_events_one_by_one(store: EventStore) {
    applies_like_one_by_one(store, false).await;
}

pub async fn batches_split_between_exchanges_apply_like_one_by_one(store: EventStore) {
    applies_like_one_by_one(store, true).await;
}

async fn applies_like_one_by_one(store: EventStore, each: bool) {
    seed_and_project(&store, each).await;
    let batched = snapshot(&store).await;

    let mut tx = store.pool().begin().await.unwrap();
    for table in ["sessions", "session_messages"] {
        let sql = format!("DELETE FROM {table}");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for recorded in store.read_all(0, 1000).await.unwrap() {
        let event = DomainEvent::from_parts(&recorded.event_type, &recorded.payload).unwrap();
        for p in all_projections() {
            p.apply(&mut tx, &recorded, &event).await.unwrap();
        }
    }
    tx.commit().await.unwrap();
    assert_eq!(snapshot(&store).await, batched);
    assert_eq!(batched.len(), 2 + 5, "two sessions, five exchange attempts");
    assert!(batched.iter().any(|r| r.contains("|CANCELLED|")));
}
