//! Subscriptions: catch up from a position in pages, then tail the log as appends commit.
//!
//! Wake-ups come from the in-process head watch (bumped after every commit), on PostgreSQL
//! also from a `LISTEN krawall_events` connection (so other processes' appends are seen live),
//! on KurrentDB from a `$all` subscription (`kurrent/listen.rs`),
//! and from a periodic re-check in case a notification is lost. Reads always continue from
//! the last delivered position, and appends commit in position order, so a subscriber sees
//! every event exactly once and in order.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use sqlx::postgres::PgListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::append::NOTIFY_CHANNEL;
use super::sql::{Backend, EventStore, bump};
use super::{RecordedEvent, StoreError, TypedPage};

/// Events fetched per read while catching up.
const PAGE: i64 = 500;
/// How long a new subscription waits for the PostgreSQL listener before reading anyway.
const LISTENER_READY_TIMEOUT: Duration = Duration::from_secs(3);
/// Pause before the listener reconnects after an error.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

struct Subscription {
    store: EventStore,
    last: i64,
    buffer: VecDeque<RecordedEvent>,
    head: Option<watch::Receiver<i64>>,
    failed: bool,
}

pub(super) fn subscribe(
    store: EventStore,
    after_position: i64,
) -> impl Stream<Item = Result<RecordedEvent, StoreError>> + Send + 'static {
    let sub = Subscription {
        store,
        last: after_position,
        buffer: VecDeque::new(),
        head: None,
        failed: false,
    };
    futures_util::stream::unfold(sub, |mut sub| async move {
        let item = sub.next().await;
        Some((item, sub))
    })
}

/// Chunks of `events` (see [`EventStore::subscribe_paced`]).
pub(super) fn paced<S>(
    events: S,
    max: usize,
    interval: Duration,
) -> impl Stream<Item = Vec<S::Item>> + Send + 'static
where
    S: Stream + Send + 'static,
    S::Item: Send,
{
    let chunks = Box::pin(events.ready_chunks(max.max(1)));
    futures_util::stream::unfold((chunks, None), move |(mut chunks, next)| async move {
        if let Some(next) = next {
            tokio::time::sleep_until(next).await;
        }
        let chunk = chunks.next().await?;
        let next = (chunk.len() < max).then(|| tokio::time::Instant::now() + interval);
        Some((chunk, (chunks, next)))
    })
}

impl Subscription {
    async fn next(&mut self) -> Result<RecordedEvent, StoreError> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                self.last = event.position;
                return Ok(event);
            }
            self.fill().await?;
        }
    }

    /// Reads the next page, or waits for a wake-up (or the poll interval) when there is none.
    async fn fill(&mut self) -> Result<(), StoreError> {
        if self.head.is_none() {
            self.head = Some(start(&self.store).await);
        }
        if self.failed {
            tokio::time::sleep(self.store.poll_interval).await;
            self.failed = false;
        }
        let Some(head) = self.head.as_mut() else {
            return Ok(());
        };
        // Mark the current head as seen *before* reading, so a commit that lands after the
        // read still wakes us.
        head.borrow_and_update();
        let page = match self.store.read_all(self.last, PAGE).await {
            Ok(page) => page,
            Err(e) => {
                self.failed = true;
                return Err(e);
            }
        };
        if page.is_empty() {
            wait_for_commit(head, self.store.poll_interval).await;
        }
        self.buffer.extend(page);
        Ok(())
    }
}

/// Waits until the head moves (a commit) or `poll` passes; with the watch gone, sleeps `poll`.
async fn wait_for_commit(head: &mut watch::Receiver<i64>, poll: Duration) {
    tokio::select! {
        changed = head.changed() => {
            if changed.is_err() {
                tokio::time::sleep(poll).await;
            }
        }
        () = tokio::time::sleep(poll) => {}
    }
}

/// Subscribes to the head watch and makes sure the store's listener runs: the KurrentDB
/// wake-up subscription, or on PostgreSQL the `LISTEN` connection.
async fn start(store: &EventStore) -> watch::Receiver<i64> {
    let inner = &store.inner;
    let head = inner.head.subscribe();
    #[cfg(feature = "kurrentdb")]
    if let Some(log) = &inner.kurrent {
        if !inner.listener_started.swap(true, Ordering::AcqRel) {
            tokio::spawn(super::kurrent::listen(
                log.clone(),
                inner.head.clone(),
                inner.listening.clone(),
                inner.listener_stop.clone(),
            ));
        }
        wait_for_listener(store).await;
        return head;
    }
    if inner.backend == Backend::Postgres {
        if !inner.listener_started.swap(true, Ordering::AcqRel) {
            tokio::spawn(listen(
                inner.url.clone(),
                inner.head.clone(),
                inner.listening.clone(),
                inner.listener_stop.clone(),
            ));
        }
        wait_for_listener(store).await;
    }
    head
}

/// Best effort: the periodic re-check covers a listener that is not up yet.
async fn wait_for_listener(store: &EventStore) {
    let mut ready = store.inner.listening.subscribe();
    let _ = tokio::time::timeout(LISTENER_READY_TIMEOUT, ready.wait_for(|up| *up)).await;
}

/// See [`EventStore::subscribe_types`].
pub(super) fn subscribe_types(
    store: EventStore,
    after_position: i64,
    types: &'static [&'static str],
    interval: Duration,
) -> impl Stream<Item = Result<TypedPage, StoreError>> + Send + 'static {
    let sub = TypedSubscription {
        store,
        last: after_position,
        types,
        interval,
        head: None,
        next_read: None,
        failed: false,
    };
    futures_util::stream::unfold(sub, |mut sub| async move {
        let item = sub.next().await;
        Some((item, sub))
    })
}

/// Follows the log through the `event_type` index: only events of `types` are read and decoded.
struct TypedSubscription {
    store: EventStore,
    last: i64,
    types: &'static [&'static str],
    interval: Duration,
    head: Option<watch::Receiver<i64>>,
    next_read: Option<tokio::time::Instant>,
    failed: bool,
}

impl TypedSubscription {
    async fn next(&mut self) -> Result<TypedPage, StoreError> {
        if self.head.is_none() {
            self.head = Some(start(&self.store).await);
        }
        if std::mem::take(&mut self.failed) {
            tokio::time::sleep(self.store.poll_interval).await;
        }
        if let Some(at) = self.next_read.take() {
            tokio::time::sleep_until(at).await;
        }
        loop {
            // Mark the current head as seen *before* reading, so a later commit still wakes us.
            if let Some(head) = self.head.as_mut() {
                head.borrow_and_update();
            }
            let read = self.read().await;
            self.failed = read.is_err();
            if let Some(page) = read? {
                return Ok(page);
            }
            let Some(head) = self.head.as_mut() else {
                return Ok(TypedPage::default());
            };
            wait_for_commit(head, self.store.poll_interval).await;
        }
    }

    /// The next page when the log grew since the last one; while it keeps growing, the page
    /// after this one is read no sooner than `interval` from now.
    async fn read(&mut self) -> Result<Option<TypedPage>, StoreError> {
        let upto = self.store.head_position().await?;
        if upto <= self.last {
            return Ok(None);
        }
        let page = self
            .store
            .read_types_between(self.types, self.last, upto, PAGE)
            .await?;
        self.last = page.reached;
        if page.reached == upto {
            self.next_read = Some(tokio::time::Instant::now() + self.interval);
        }
        Ok(Some(page))
    }
}

/// Keeps one `LISTEN` connection per store open until the store is dropped.
async fn listen(
    url: String,
    head: watch::Sender<i64>,
    listening: watch::Sender<bool>,
    stop: CancellationToken,
) {
    keep_listening(&stop, &listening, || async {
        if let Err(e) = listen_until_error(&url, &head, &listening).await {
            tracing::warn!(error = %e, "event notification listener failed; reconnecting");
        }
    })
    .await;
}

/// Runs `attempt` (a listener that returns when it fails) again and again, [`RECONNECT_DELAY`]
/// apart, marking the store not listening between attempts, until `stop`.
pub(in crate::store) async fn keep_listening<F, Fut>(
    stop: &CancellationToken,
    listening: &watch::Sender<bool>,
    mut attempt: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = attempt() => listening.send_replace(false),
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(RECONNECT_DELAY) => {}
        }
    }
}

async fn listen_until_error(
    url: &str,
    head: &watch::Sender<i64>,
    listening: &watch::Sender<bool>,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(NOTIFY_CHANNEL).await?;
    listening.send_replace(true);
    loop {
        // `try_recv` returns `None` after a reconnect: notifications may have been lost,
        // so wake everyone to re-check.
        let position = match listener.try_recv().await? {
            Some(notification) => notification.payload().parse::<i64>().unwrap_or(i64::MAX),
            None => i64::MAX,
        };
        if position == i64::MAX {
            head.send_modify(|_| {});
        } else {
            bump(head, position);
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    #[tokio::test]
    async fn paced_chunks_hold_at_most_max_events_in_order() {
        let events = futures_util::stream::iter(1..=5);
        let chunks: Vec<Vec<i32>> = super::paced(events, 2, std::time::Duration::ZERO)
            .collect()
            .await;
        assert_eq!(chunks, vec![vec![1, 2], vec![3, 4], vec![5]]);
    }
}
