//! Appends on KurrentDB with the port's rules, planned by the SQL store's planner (`plan.rs`).
//!
//! Per request: read the stream's newest events (its version, its last position and the ids
//! stored recently), plan the request in memory (expected version, idempotent ids: only new
//! events are written), then append them with `StreamState` = the version that was read, so a
//! concurrent writer makes KurrentDB answer `WrongExpectedVersion`; the request is then read
//! and planned again (a retry may find its events stored by the other writer, or conflict).
//! A caller's `append_batch` runs its requests one after another (positions follow request
//! order); the group-commit writer's batches, whose requests come from independent callers,
//! run different streams concurrently and each stream's requests in order. A batch is not one
//! transaction here: each request commits or conflicts on its own.

use std::collections::HashMap;

use futures_util::future::join_all;
use kurrentdb::{AppendToStreamOptions, EventData, StreamState};

use super::log::{KurrentLog, position};
use crate::store::plan::{Planned, Ref, StoredEvent, StreamState as Current, plan, resolve};
use crate::store::{AppendError, AppendOutcome, AppendRequest, EventStore, StoreError};

/// Newest events of a stream whose ids are checked for idempotency (at least; twice the
/// request's size when that is more). Older copies are not seen: documented in DEPLOYMENT.md.
pub(crate) const DEDUP_WINDOW: usize = 64;
/// Times a request is read and planned again after a concurrent writer moved its stream.
const RACE_RETRIES: usize = 5;

type Outcome = Result<AppendOutcome, AppendError>;

impl EventStore {
    /// The KurrentDB branch of `append_batch`: times it, then wakes this process's subscribers.
    pub(in crate::store) async fn append_on_kurrentdb(
        &self,
        log: &KurrentLog,
        reqs: &[AppendRequest],
        independent: bool,
    ) -> Result<Vec<Outcome>, StoreError> {
        let started = std::time::Instant::now();
        let results = match independent {
            true => log.append_concurrently(reqs).await?,
            false => log.append_in_order(reqs).await?,
        };
        self.inner.append_timings.record(started.elapsed());
        let last = results.iter().flatten().map(|o| o.last_position).max();
        self.bump_head(last.unwrap_or(0));
        Ok(results)
    }
}

impl KurrentLog {
    /// One caller's requests, one after another: positions follow request order.
    async fn append_in_order(&self, reqs: &[AppendRequest]) -> Result<Vec<Outcome>, StoreError> {
        let mut results = Vec::with_capacity(reqs.len());
        for req in reqs {
            results.push(self.append_request(req).await?);
        }
        Ok(results)
    }

    /// Independent callers' requests: streams concurrently, each stream's requests in order.
    async fn append_concurrently(
        &self,
        reqs: &[AppendRequest],
    ) -> Result<Vec<Outcome>, StoreError> {
        let mut by_stream: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, req) in reqs.iter().enumerate() {
            by_stream.entry(req.stream_id.as_str()).or_default().push(i);
        }
        let streams = by_stream.into_values().map(|indexes| async move {
            let mut done = Vec::with_capacity(indexes.len());
            for i in indexes {
                done.push((i, self.append_request(&reqs[i]).await));
            }
            done
        });
        let mut results: Vec<Option<Outcome>> = reqs.iter().map(|_| None).collect();
        for (i, result) in join_all(streams).await.into_iter().flatten() {
            results[i] = Some(result?);
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or(Err(AppendError::Store(StoreError::WriterStopped))))
            .collect())
    }

    async fn append_request(&self, req: &AppendRequest) -> Result<Outcome, StoreError> {
        let window = DEDUP_WINDOW.max(req.events.len() * 2);
        let mut version = 0;
        for _ in 0..RACE_RETRIES {
            let tail = self.tail(&req.stream_id, window).await?;
            version = tail.first().map_or(0, |e| e.version);
            let (streams, stored) = state(&req.stream_id, &tail);
            let (rows, planned) = plan(std::slice::from_ref(req), streams, stored)?;
            if rows.is_empty() || matches!(planned.first(), Some(Planned::Conflict { .. })) {
                return Ok(single(resolve(planned, &[])));
            }
            let events = rows
                .iter()
                .map(|row| event_data(req, &row.event_id))
                .collect::<Result<Vec<_>, _>>()?;
            let expected = match u64::try_from(version - 1) {
                Ok(revision) => StreamState::StreamRevision(revision),
                Err(_) => StreamState::NoStream,
            };
            let options = AppendToStreamOptions::default().stream_state(expected);
            match self
                .client
                .append_to_stream(self.name(&req.stream_id), &options, events)
                .await
            {
                Ok(written) => {
                    // The write reports its last event's position: the outcome's position.
                    let last = position(written.position.commit)?;
                    return Ok(single(resolve(planned, &vec![last; rows.len()])));
                }
                Err(kurrentdb::Error::WrongExpectedVersion { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Err(AppendError::Conflict {
            stream_id: req.stream_id.clone(),
            expected: req.expected,
            actual: version,
        }))
    }
}

/// The planner's view of a stream from its newest events (newest first).
fn state(
    stream_id: &str,
    tail: &[crate::store::RecordedEvent],
) -> (HashMap<String, Current>, HashMap<String, StoredEvent>) {
    let mut streams = HashMap::new();
    if let Some(newest) = tail.first() {
        let current = Current {
            version: newest.version,
            last: Some(Ref::Committed(newest.position)),
        };
        streams.insert(stream_id.to_owned(), current);
    }
    let stored = tail
        .iter()
        .map(|e| {
            let copy = StoredEvent {
                version: e.version,
                at: Ref::Committed(e.position),
            };
            (e.event_id.to_string(), copy)
        })
        .collect();
    (streams, stored)
}

/// The KurrentDB event of the request's event with this id (JSON payload and metadata).
fn event_data(req: &AppendRequest, id: &str) -> Result<EventData, StoreError> {
    let event = req
        .events
        .iter()
        .find(|e| e.event_id.to_string() == id)
        .ok_or(StoreError::WriterStopped)?;
    let data = EventData::json(&event.event_type, &event.payload)?
        .id(event.event_id)
        .metadata_as_json(&event.metadata)?;
    Ok(data)
}

fn single(mut results: Vec<Outcome>) -> Outcome {
    results
        .pop()
        .unwrap_or(Err(AppendError::Store(StoreError::WriterStopped)))
}
