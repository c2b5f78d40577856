//! The contract functions: each takes a fresh store and asserts one property of the port.

use super::*;

pub async fn expected_version_contract(store: EventStore) {
    assert_eq!(store.head_position().await.unwrap(), 0);
    let first = store
        .append(request(
            "s",
            ExpectedVersion::NoStream,
            vec![event(1), event(2)],
        ))
        .await
        .unwrap();
    assert_eq!(first.stream_version, 2);
    assert_eq!(first.last_position, nth(&store, 2).await);

    let again = store
        .append(request("s", ExpectedVersion::NoStream, vec![event(3)]))
        .await;
    assert_conflict(again, "s", 2);
    assert_eq!(
        append_one(&store, "s", ExpectedVersion::Exact(2))
            .await
            .stream_version,
        3
    );
    let stale = store
        .append(request("s", ExpectedVersion::Exact(1), vec![event(4)]))
        .await;
    assert_conflict(stale, "s", 3);
    match store
        .append(request("s", ExpectedVersion::Exact(9), vec![event(5)]))
        .await
    {
        Err(AppendError::Conflict { expected, .. }) => {
            assert_eq!(expected, ExpectedVersion::Exact(9))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        append_one(&store, "s", ExpectedVersion::Any)
            .await
            .stream_version,
        4
    );
    assert_eq!(
        append_one(&store, "t", ExpectedVersion::Exact(0))
            .await
            .stream_version,
        1
    );
    assert_eq!(
        append_one(&store, "u", ExpectedVersion::Any)
            .await
            .stream_version,
        1
    );
    // Conflicting appends wrote nothing.
    assert_eq!(store.read_stream("s").await.unwrap().len(), 4);
    assert_eq!(log_positions(&store).await.len(), 6);
    assert_eq!(store.head_position().await.unwrap(), nth(&store, 6).await);
}

pub async fn concurrent_writers_contract(store: EventStore) {
    append_one(&store, "race", ExpectedVersion::NoStream).await;
    let writers: Vec<_> = (0..8)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append(request("race", ExpectedVersion::Exact(1), vec![event(n)]))
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for writer in writers {
        match writer.await.unwrap() {
            Ok(outcome) => {
                won += 1;
                assert_eq!(outcome.stream_version, 2);
            }
            result => assert_conflict(result, "race", 2),
        }
    }
    assert_eq!(
        won, 1,
        "exactly one writer with the same expected version wins"
    );
    assert_eq!(store.read_stream("race").await.unwrap().len(), 2);
}

pub async fn read_stream_contract(store: EventStore) {
    let events = vec![event(1), event(2), event(3)];
    store
        .append(request(
            "r",
            ExpectedVersion::NoStream,
            events[..2].to_vec(),
        ))
        .await
        .unwrap();
    append_one(&store, "other", ExpectedVersion::NoStream).await;
    store
        .append(request(
            "r",
            ExpectedVersion::Exact(2),
            events[2..].to_vec(),
        ))
        .await
        .unwrap();
    let read = store.read_stream("r").await.unwrap();
    let versions: Vec<i64> = read.iter().map(|e| e.version).collect();
    assert_eq!(versions, [1, 2, 3]);
    for (stored, sent) in read.iter().zip(&events) {
        assert_eq!(stored.event_id, sent.event_id);
        assert_eq!(stored.event_type, sent.event_type);
        assert_eq!(stored.payload, sent.payload);
        assert_eq!(stored.metadata, sent.metadata);
        assert_eq!(stored.stream_id, "r");
        let now = chrono::Utc::now().timestamp_millis();
        assert!((now - 60_000..=now).contains(&stored.recorded_at_ms));
    }
    assert_eq!(
        read[2].position,
        nth(&store, 4).await,
        "the other stream's event is the log's third"
    );
    assert!(store.read_stream("missing").await.unwrap().is_empty());
}

pub async fn read_all_contract(store: EventStore) {
    let order = ["a", "b", "a", "c", "b"];
    let mut ids = Vec::new();
    for stream in order {
        let e = event(0);
        ids.push(e.event_id);
        store
            .append(request(stream, ExpectedVersion::Any, vec![e]))
            .await
            .unwrap();
    }
    let all = store.read_all(0, 100).await.unwrap();
    assert_contiguous(&store, &all, 0).await;
    let streams: Vec<&str> = all.iter().map(|e| e.stream_id.as_str()).collect();
    assert_eq!(streams, order);
    assert_eq!(all.iter().map(|e| e.event_id).collect::<Vec<_>>(), ids);
    let at = |i: usize| all[i].position;
    let page = store.read_all(at(1), 2).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.position).collect::<Vec<_>>(),
        [at(2), at(3)]
    );
    assert!(store.read_all(at(4), 10).await.unwrap().is_empty());
    assert_eq!(store.head_position().await.unwrap(), at(4));
}

pub async fn idempotency_contract(store: EventStore) {
    let (e1, e2) = (event(1), event(2));
    let req = request("i", ExpectedVersion::NoStream, vec![e1.clone(), e2.clone()]);
    let first = store.append(req.clone()).await.unwrap();
    let retried = store.append(req).await.unwrap();
    assert_eq!(
        retried, first,
        "a retried append reports the stored outcome"
    );
    // All events stored already: Ok whatever the expected version.
    let single = store
        .append(request("i", ExpectedVersion::Exact(7), vec![e1.clone()]))
        .await
        .unwrap();
    assert_eq!(single.stream_version, 1);
    assert_eq!(single.last_position, nth(&store, 1).await);
    // A partly stored request appends only the new event.
    let mixed = store
        .append(request("i", ExpectedVersion::Exact(2), vec![e2, event(3)]))
        .await
        .unwrap();
    assert_eq!(mixed.stream_version, 3);
    // The same id twice in one batch is stored once.
    let e4 = event(4);
    let batch = vec![
        request("j", ExpectedVersion::NoStream, vec![e4.clone()]),
        request("j", ExpectedVersion::NoStream, vec![e4]),
    ];
    let results = store.append_batch(batch).await.unwrap();
    assert_eq!(results[0].as_ref().unwrap(), results[1].as_ref().unwrap());
    assert_eq!(store.read_stream("i").await.unwrap().len(), 3);
    assert_eq!(store.read_stream("j").await.unwrap().len(), 1);
    assert_eq!(log_positions(&store).await.len(), 4);
    assert_eq!(store.head_position().await.unwrap(), nth(&store, 4).await);
}

pub async fn batch_contract(store: EventStore) {
    append_one(&store, "b", ExpectedVersion::NoStream).await;
    let batch = vec![
        request("a", ExpectedVersion::NoStream, vec![event(1)]),
        request("b", ExpectedVersion::Exact(5), vec![event(2)]),
        request("c", ExpectedVersion::Any, vec![event(3), event(4)]),
        request("a", ExpectedVersion::Exact(1), vec![event(5)]),
        request("a", ExpectedVersion::Exact(1), vec![event(6)]),
    ];
    let results = store.append_batch(batch).await.unwrap();
    assert_eq!(results.len(), 5);
    let ok = |i: usize| *results[i].as_ref().unwrap();
    assert_eq!(
        ok(0),
        AppendOutcome {
            stream_version: 1,
            last_position: nth(&store, 2).await
        }
    );
    assert!(matches!(
        &results[1],
        Err(AppendError::Conflict { actual: 1, .. })
    ));
    assert_eq!(
        ok(2),
        AppendOutcome {
            stream_version: 2,
            last_position: nth(&store, 4).await
        }
    );
    assert_eq!(
        ok(3),
        AppendOutcome {
            stream_version: 2,
            last_position: nth(&store, 5).await
        }
    );
    assert!(matches!(
        &results[4],
        Err(AppendError::Conflict { actual: 2, .. })
    ));
    assert_eq!(store.read_stream("b").await.unwrap().len(), 1);
    assert_eq!(log_positions(&store).await.len(), 5);
    assert!(store.append_batch(Vec::new()).await.unwrap().is_empty());
}

pub async fn subscription_contract(store: EventStore) {
    const EXISTING: usize = 30;
    const WRITERS: usize = 4;
    const PER_WRITER: usize = 15;
    for n in 0..EXISTING {
        append_one(&store, &format!("old-{}", n % 3), ExpectedVersion::Any).await;
    }
    let mut subscription = Box::pin(store.subscribe(0));
    let caught_up = take(&mut subscription, EXISTING).await;
    assert_contiguous(&store, &caught_up, 0).await;

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 0..PER_WRITER {
                    let expected = ExpectedVersion::Exact(n as i64);
                    append_one(&store, &format!("live-{w}"), expected).await;
                }
            })
        })
        .collect();
    let live = take(&mut subscription, WRITERS * PER_WRITER).await;
    for writer in writers {
        writer.await.unwrap();
    }
    assert_contiguous(&store, &live, EXISTING).await;
    let ids: HashSet<Uuid> = caught_up.iter().chain(&live).map(|e| e.event_id).collect();
    assert_eq!(ids.len(), EXISTING + WRITERS * PER_WRITER, "no duplicates");
    let extra = tokio::time::timeout(Duration::from_millis(300), subscription.next()).await;
    assert!(extra.is_err(), "nothing beyond the appended events");

    let mut from_middle = Box::pin(store.subscribe(nth(&store, 10).await));
    assert_eq!(
        take(&mut from_middle, 1).await[0].position,
        nth(&store, 11).await
    );
}

pub async fn batched_appender_contract(store: EventStore) {
    const STREAMS: usize = 40;
    const PER_STREAM: usize = 25;
    let appender = store.batching(64);
    let tasks: Vec<_> = (0..STREAMS)
        .map(|s| {
            let appender = appender.clone();
            tokio::spawn(async move {
                for n in 0..PER_STREAM {
                    let expected = ExpectedVersion::Exact(n as i64);
                    let req = request(&format!("session-{s}"), expected, vec![event(n as i64)]);
                    let outcome = appender.append(req).await.unwrap();
                    assert_eq!(outcome.stream_version, n as i64 + 1);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let total = STREAMS * PER_STREAM;
    assert_eq!(log_positions(&store).await.len(), total);
    assert_eq!(
        store.head_position().await.unwrap(),
        nth(&store, total).await
    );
    let stream = store.read_stream("session-7").await.unwrap();
    assert_eq!(stream.len(), PER_STREAM);
    assert_conflict(
        appender
            .append(request(
                "session-7",
                ExpectedVersion::NoStream,
                vec![event(0)],
            ))
            .await,
        "session-7",
        PER_STREAM as i64,
    );
}

/// Appends submitted without waiting commit in submission order, so a writer can pipeline
/// them with locally assigned expected versions; a failed one makes every later one of its
/// stream conflict (no gap).
pub async fn submitted_appends_contract(store: EventStore) {
    const PER_STREAM: i64 = 30;
    let appender = store.batching(8);
    let mut tickets = Vec::new();
    for n in 0..PER_STREAM {
        for s in ["queued-a", "queued-b"] {
            let req = request(s, ExpectedVersion::Exact(n), vec![event(n)]);
            tickets.push(appender.submit(req).unwrap());
        }
    }
    for (i, ticket) in tickets.into_iter().enumerate() {
        assert_eq!(
            ticket.wait().await.unwrap().stream_version,
            i as i64 / 2 + 1
        );
    }
    assert_eq!(store.read_stream("queued-a").await.unwrap().len(), 30);
    let bad = request("queued-a", ExpectedVersion::Exact(0), vec![event(0)]);
    let next = request("queued-a", ExpectedVersion::Exact(31), vec![event(1)]);
    let (bad, next) = (
        appender.submit(bad).unwrap(),
        appender.submit(next).unwrap(),
    );
    assert_conflict(bad.wait().await, "queued-a", PER_STREAM);
    assert_conflict(next.wait().await, "queued-a", PER_STREAM);
    assert_eq!(store.read_stream("queued-a").await.unwrap().len(), 30);
}

/// A writer that bypasses the store's lock: the unique index catches it, the affected
/// request gets a typed conflict and the rest of the batch is still stored.
pub async fn unique_index_backstop_contract(store: EventStore) {
    let mut foreign = store.pool().begin().await.unwrap();
    sqlx::query(
        "INSERT INTO events (stream_id, version, event_id, event_type, payload, metadata, \
         recorded_at_ms) VALUES ('x', 1, $1, 'Foreign', '{}', '{}', 0)",
    )
    .bind(Uuid::new_v4().to_string())
    .execute(&mut *foreign)
    .await
    .unwrap();
    let writer = store.clone();
    let batch = tokio::spawn(async move {
        let reqs = vec![
            request("x", ExpectedVersion::NoStream, vec![event(1)]),
            request("y", ExpectedVersion::NoStream, vec![event(2)]),
        ];
        writer.append_batch(reqs).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    foreign.commit().await.unwrap();
    let results = batch.await.unwrap().unwrap();
    assert_conflict(results.into_iter().next().unwrap(), "x", 1);
    assert_eq!(store.read_stream("x").await.unwrap().len(), 1);
    assert_eq!(store.read_stream("y").await.unwrap().len(), 1);
}

/// A subscriber on one store instance sees appends made through a second instance (a
/// separate connection, as another process would have).
pub async fn cross_instance_contract(reader: EventStore, writer: EventStore) {
    for _ in 0..3 {
        append_one(&reader, "here", ExpectedVersion::Any).await;
    }
    let mut subscription = Box::pin(reader.subscribe(0));
    assert_contiguous(&reader, &take(&mut subscription, 3).await, 0).await;
    for _ in 0..5 {
        append_one(&writer, "there", ExpectedVersion::Any).await;
    }
    let live = tokio::time::timeout(Duration::from_secs(10), take(&mut subscription, 5))
        .await
        .expect("appends from the other instance arrive well before the poll interval");
    assert_contiguous(&reader, &live, 3).await;
}

const TYPED: &[&str] = &["Wanted", "AlsoWanted"];

fn typed_event(event_type: &str, n: i64) -> NewEvent {
    NewEvent {
        event_type: event_type.to_owned(),
        ..event(n)
    }
}

/// Appends 40 events, every other one of a [`TYPED`] type; their positions.
async fn append_mixed(store: &EventStore) -> Vec<i64> {
    let mut wanted = Vec::new();
    for n in 0..40 {
        let kind = ["Wanted", "TestHappened", "AlsoWanted", "TestHappened"][n as usize % 4];
        let request = request("mixed", ExpectedVersion::Any, vec![typed_event(kind, n)]);
        let stored = store.append(request).await.unwrap();
        if TYPED.contains(&kind) {
            wanted.push(stored.last_position);
        }
    }
    wanted
}

async fn next_page<S>(pages: &mut S) -> actors::store::TypedPage
where
    S: Stream<Item = Result<actors::store::TypedPage, StoreError>> + Unpin,
{
    let page = tokio::time::timeout(WAIT, pages.next()).await.unwrap();
    page.unwrap().unwrap()
}

/// `subscribe_types`: only the asked types arrive, in order and once each; every page says how
/// far the log was read, also past a stretch with none of them; live appends arrive.
pub async fn typed_subscription_contract(store: EventStore) {
    let expected = append_mixed(&store).await;
    let head = store.head_position().await.unwrap();
    let mut pages = Box::pin(store.subscribe_types(0, TYPED, Duration::from_millis(10)));
    let (mut got, mut reached) = (Vec::new(), 0);
    while reached < head {
        let page = next_page(&mut pages).await;
        assert!(page.reached > reached, "every page moves forward");
        assert!(
            page.events
                .iter()
                .all(|e| TYPED.contains(&e.event_type.as_str()))
        );
        assert!(page.events.iter().all(|e| e.position <= page.reached));
        got.extend(page.events.iter().map(|e| e.position));
        reached = page.reached;
    }
    assert_eq!(got, expected, "each wanted event once, in order");
    assert_eq!(reached, head);

    assert_live_pages(&store, &mut pages).await;
}

/// After catching up: an unwanted append moves `reached` only, a wanted one arrives.
async fn assert_live_pages<S>(store: &EventStore, pages: &mut S)
where
    S: Stream<Item = Result<actors::store::TypedPage, StoreError>> + Unpin,
{
    let other = request("mixed", ExpectedVersion::Any, vec![event(98)]);
    let other = store.append(other).await.unwrap();
    let page = next_page(pages).await;
    assert!(page.events.is_empty(), "an unwanted event is passed over");
    assert_eq!(
        page.reached, other.last_position,
        "but the page reaches past it"
    );
    let wanted = request(
        "mixed",
        ExpectedVersion::Any,
        vec![typed_event("Wanted", 99)],
    );
    let wanted = store.append(wanted).await.unwrap();
    let page = next_page(pages).await;
    let positions: Vec<i64> = page.events.iter().map(|e| e.position).collect();
    assert_eq!(
        positions,
        vec![wanted.last_position],
        "a live event arrives"
    );
    assert_eq!(page.events[0].payload["n"], 99);
}
