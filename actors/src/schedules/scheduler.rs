//! Keeps every schedule's folded state (loaded at start, then live from the log) and, every
//! [`TICK`], fires the slots that are due. Several nodes may run it on one database: a slot
//! another node recorded first is a conflict here, so each slot runs once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use uuid::Uuid;

use crate::commands::Commands;
use crate::domain::batch::batch_stream;
use crate::domain::event_type::names;
use crate::domain::events::{DomainEvent, EventType};
use crate::domain::schedule::{Due, ScheduleState, due, parse_cron, parse_timezone};
use crate::store::{RecordedEvent, StoreError};

/// How often due slots are looked for.
pub const TICK: Duration = Duration::from_millis(250);
/// Shortest interval between two reads of the log while events keep arriving.
const READ_INTERVAL: Duration = TICK;

const TYPES: [&str; 6] = names([
    EventType::ScheduleCreated,
    EventType::ScheduleUpdated,
    EventType::ScheduleEnabled,
    EventType::ScheduleDisabled,
    EventType::ScheduleFired,
    EventType::ScheduleDeleted,
]);

type States = Arc<Mutex<HashMap<Uuid, ScheduleState>>>;

/// Handle of the running scheduler.
pub struct Scheduler;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn schedule_id(e: &RecordedEvent) -> Option<Uuid> {
    e.stream_id.strip_prefix("schedule-")?.parse().ok()
}

fn apply(states: &States, e: &RecordedEvent) {
    let (Some(id), Ok(event)) = (
        schedule_id(e),
        DomainEvent::from_parts(&e.event_type, &e.payload),
    ) else {
        return;
    };
    lock(states)
        .entry(id)
        .or_default()
        .apply(e.version, e.recorded_at_ms, &event);
}

impl Scheduler {
    /// Starts the scheduler on the current Tokio runtime; it restarts after a store error.
    pub fn start(commands: Commands) {
        tokio::spawn(async move {
            loop {
                let states: States = Arc::default();
                if let Err(e) = run(&commands, &states).await {
                    tracing::error!(error = %e, "scheduler failed; restarting in 1 s");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}

async fn run(commands: &Commands, states: &States) -> Result<(), StoreError> {
    let store = commands.store().clone();
    let head = store.head_position().await?;
    for e in store.read_types(&TYPES).await? {
        apply(states, &e);
    }
    resume_unqueued(commands, states).await?;
    let follower = {
        let states = states.clone();
        async move {
            let mut live = std::pin::pin!(store.subscribe_types(head, &TYPES, READ_INTERVAL));
            while let Some(page) = live.next().await {
                for e in page?.events {
                    apply(&states, &e);
                }
            }
            Ok::<(), StoreError>(())
        }
    };
    let ticker = async {
        let mut skipped = HashMap::new();
        loop {
            tick(commands, states, &mut skipped).await;
            tokio::time::sleep(TICK).await;
        }
    };
    tokio::select! {
        r = follower => r,
        () = ticker => Ok(()),
    }
}

/// A slot recorded just before the node stopped may not have queued its batch yet: queue it.
async fn resume_unqueued(commands: &Commands, states: &States) -> Result<(), StoreError> {
    let fired: Vec<_> = lock(states)
        .values()
        .filter_map(|s| Some((s.live()?.spec.clone(), s.last_batch?)))
        .collect();
    for (spec, batch) in fired {
        let queued = !commands
            .store()
            .read_stream(&batch_stream(batch))
            .await?
            .is_empty();
        // Session ids derive from the batch id, so a node racing us here stores nothing twice.
        if !queued && let Err(e) = commands.run_fired(&spec, batch).await {
            tracing::warn!(%batch, error = %e, "scheduled batch could not be queued");
        }
    }
    Ok(())
}

/// Fires every due slot; remembers slots skipped under the `skip` policy (not recorded).
async fn tick(commands: &Commands, states: &States, skipped: &mut HashMap<Uuid, i64>) {
    let now = chrono::Utc::now().timestamp_millis();
    let snapshot: Vec<(Uuid, ScheduleState)> = lock(states)
        .iter()
        .filter(|(_, s)| s.live().is_some_and(|l| l.is_enabled))
        .map(|(id, s)| (*id, s.clone()))
        .collect();
    for (id, state) in snapshot {
        let Some(live) = state.live() else { continue };
        let (Ok(cron), Ok(tz)) = (
            parse_cron(&live.spec.cron_expression),
            parse_timezone(&live.spec.timezone),
        ) else {
            continue;
        };
        let since = state.since_ms().max(skipped.get(&id).copied().unwrap_or(0));
        match due(&cron, tz, since, now, live.spec.missed_run_policy) {
            Due::Fire { slot_ms, missed } => {
                fire(commands, states, &state, id, slot_ms, missed).await
            }
            Due::SkipTo(slot) => {
                tracing::info!(schedule = %id, slot, "missed slots skipped");
                skipped.insert(id, slot);
            }
            Due::Wait(_) | Due::Never => {}
        }
    }
}

async fn fire(
    commands: &Commands,
    states: &States,
    state: &ScheduleState,
    id: Uuid,
    slot_ms: i64,
    missed: bool,
) {
    let Some(live) = state.live() else { return };
    match commands
        .record_fire(id, state.version, slot_ms, missed)
        .await
    {
        Ok(Some(batch)) => {
            if let Some(s) = lock(states).get_mut(&id) {
                let fired = crate::domain::schedule::ScheduleFired {
                    schedule_id: id,
                    slot_ms,
                    batch_id: batch,
                    missed,
                };
                let now = chrono::Utc::now().timestamp_millis();
                s.apply(state.version + 1, now, &DomainEvent::ScheduleFired(fired));
            }
            let (commands, spec) = (commands.clone(), live.spec.clone());
            tokio::spawn(async move {
                if let Err(e) = commands.run_fired(&spec, batch).await {
                    tracing::warn!(schedule = %id, error = %e, "scheduled batch could not be queued");
                }
            });
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(schedule = %id, error = %e, "slot could not be recorded"),
    }
}
