//! Live wake-ups from KurrentDB: one `$all` subscription per store (filtered on the prefix,
//! from the end) bumps the store's head watch for every event any process appends, so
//! subscribers read the new page at once instead of at the next poll. The reads themselves
//! stay `read_all` pages from the last delivered position (`subscribe.rs`).

use std::sync::Arc;

use kurrentdb::{StreamPosition, SubscribeToAllOptions, SubscriptionEvent};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::log::{KurrentLog, position};
use crate::store::sql::bump;
use crate::store::subscribe::keep_listening;

/// Keeps the wake-up subscription open until `stop` (the store was dropped).
pub(in crate::store) async fn listen(
    log: Arc<KurrentLog>,
    head: watch::Sender<i64>,
    listening: watch::Sender<bool>,
    stop: CancellationToken,
) {
    keep_listening(&stop, &listening, || async {
        let error = follow(&log, &head, &listening).await;
        tracing::warn!(%error, "KurrentDB wake-up subscription failed; resubscribing");
        // Events may have been missed meanwhile: wake everyone to re-check.
        head.send_modify(|_| {});
    })
    .await;
}

async fn follow(
    log: &KurrentLog,
    head: &watch::Sender<i64>,
    listening: &watch::Sender<bool>,
) -> kurrentdb::Error {
    let options = SubscribeToAllOptions::default()
        .position(StreamPosition::End)
        .filter(log.filter());
    let mut subscription = log.client.subscribe_to_all(&options).await;
    loop {
        match subscription.next_subscription_event().await {
            // Live from here on: appends after this point wake subscribers.
            Ok(SubscriptionEvent::Confirmed(_)) => {
                listening.send_replace(true);
            }
            Ok(SubscriptionEvent::EventAppeared(event)) => {
                match event.event.as_ref().map(|e| position(e.position.commit)) {
                    Some(Ok(p)) => bump(head, p),
                    _ => head.send_modify(|_| {}),
                }
            }
            Ok(_) => {}
            Err(e) => return e,
        }
    }
}
