//! Planning an append batch in memory: expected-version checks and idempotent event ids.
//!
//! Given the touched streams' current state and the already-stored event ids, every request
//! is decided in order; the result is the rows to insert plus, per request, a conflict or the
//! events whose positions make up its outcome once the rows are inserted.

use std::collections::HashMap;

use super::append::Results;
use super::{AppendError, AppendOutcome, AppendRequest, ExpectedVersion, StoreError};

/// Where an event is: committed at a position, or a row of this batch (index into the rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ref {
    Committed(i64),
    Pending(usize),
}

/// A stream's version and its newest event.
#[derive(Debug, Clone, Copy)]
pub(super) struct StreamState {
    pub(super) version: i64,
    pub(super) last: Option<Ref>,
}

/// An event whose id is already taken (by the log or by an earlier request of the batch).
#[derive(Debug, Clone, Copy)]
pub(super) struct StoredEvent {
    pub(super) version: i64,
    pub(super) at: Ref,
}

/// A row to insert, with uuids and JSON already encoded as TEXT.
#[derive(Debug)]
pub(super) struct NewRow {
    pub(super) stream_id: String,
    pub(super) version: i64,
    pub(super) event_id: String,
    pub(super) event_type: String,
    pub(super) payload: String,
    pub(super) metadata: String,
}

/// The decision for one request.
#[derive(Debug)]
pub(super) enum Planned {
    Conflict {
        stream_id: String,
        expected: ExpectedVersion,
        actual: i64,
    },
    Done {
        stream_version: i64,
        refs: Vec<Ref>,
    },
}

struct Planner {
    streams: HashMap<String, StreamState>,
    stored: HashMap<String, StoredEvent>,
    rows: Vec<NewRow>,
}

/// Decides every request in order against the loaded state; returns the rows to insert.
pub(super) fn plan(
    reqs: &[AppendRequest],
    streams: HashMap<String, StreamState>,
    stored: HashMap<String, StoredEvent>,
) -> Result<(Vec<NewRow>, Vec<Planned>), StoreError> {
    let mut planner = Planner {
        streams,
        stored,
        rows: Vec::new(),
    };
    let planned = reqs
        .iter()
        .map(|req| planner.request(req))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((planner.rows, planned))
}

impl Planner {
    fn request(&mut self, req: &AppendRequest) -> Result<Planned, StoreError> {
        let ids: Vec<String> = req.events.iter().map(|e| e.event_id.to_string()).collect();
        if let Some(retried) = self.already_stored(&ids) {
            // A retried append: everything is stored already, whatever the expected version.
            return Ok(retried);
        }
        let state = self.stream(&req.stream_id);
        if !satisfies(req.expected, state.version) {
            return Ok(Planned::Conflict {
                stream_id: req.stream_id.clone(),
                expected: req.expected,
                actual: state.version,
            });
        }
        let mut refs = Vec::with_capacity(ids.len());
        for (event, id) in req.events.iter().zip(ids) {
            if let Some(copy) = self.stored.get(&id) {
                refs.push(copy.at);
                continue;
            }
            let row = NewRow {
                stream_id: req.stream_id.clone(),
                version: 0,
                event_id: id,
                event_type: event.event_type.clone(),
                payload: serde_json::to_string(&event.payload)?,
                metadata: serde_json::to_string(&event.metadata)?,
            };
            refs.push(self.push(row));
        }
        let state = self.stream(&req.stream_id);
        if refs.is_empty() {
            refs.extend(state.last);
        }
        Ok(Planned::Done {
            stream_version: state.version,
            refs,
        })
    }

    /// `Some(outcome)` when every event of a non-empty request is stored already.
    fn already_stored(&self, ids: &[String]) -> Option<Planned> {
        let copies: Option<Vec<StoredEvent>> =
            ids.iter().map(|id| self.stored.get(id).copied()).collect();
        let copies = copies.filter(|c| !c.is_empty())?;
        Some(Planned::Done {
            stream_version: copies.iter().map(|c| c.version).max().unwrap_or(0),
            refs: copies.iter().map(|c| c.at).collect(),
        })
    }

    fn stream(&mut self, stream_id: &str) -> StreamState {
        *self
            .streams
            .entry(stream_id.to_owned())
            .or_insert(StreamState {
                version: 0,
                last: None,
            })
    }

    /// Adds a row as the stream's next version; returns where it will be.
    fn push(&mut self, mut row: NewRow) -> Ref {
        let at = Ref::Pending(self.rows.len());
        let state = self
            .streams
            .entry(row.stream_id.clone())
            .or_insert(StreamState {
                version: 0,
                last: None,
            });
        state.version += 1;
        state.last = Some(at);
        row.version = state.version;
        let stored = StoredEvent {
            version: row.version,
            at,
        };
        self.stored.insert(row.event_id.clone(), stored);
        self.rows.push(row);
        at
    }
}

fn satisfies(expected: ExpectedVersion, current: i64) -> bool {
    match expected {
        ExpectedVersion::Any => true,
        ExpectedVersion::NoStream => current == 0,
        ExpectedVersion::Exact(version) => current == version,
    }
}

/// Turns the decisions into outcomes, given the positions the inserted rows received.
pub(super) fn resolve(planned: Vec<Planned>, positions: &[i64]) -> Results {
    let position_of = |r: &Ref| match *r {
        Ref::Committed(p) => p,
        Ref::Pending(i) => positions.get(i).copied().unwrap_or(0),
    };
    planned
        .into_iter()
        .map(|p| match p {
            Planned::Conflict {
                stream_id,
                expected,
                actual,
            } => Err(AppendError::Conflict {
                stream_id,
                expected,
                actual,
            }),
            Planned::Done {
                stream_version,
                refs,
            } => Ok(AppendOutcome {
                stream_version,
                last_position: refs.iter().map(position_of).max().unwrap_or(0),
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::HashMap;

    use serde_json::json;
    use uuid::Uuid;

    use super::{Ref, StreamState, plan, resolve};
    use crate::store::{AppendOutcome, AppendRequest, ExpectedVersion, NewEvent};

    fn req(stream: &str, expected: ExpectedVersion, n: usize) -> AppendRequest {
        let events = (0..n)
            .map(|_| NewEvent {
                event_id: Uuid::new_v4(),
                event_type: "T".into(),
                payload: json!({}),
                metadata: json!(null),
            })
            .collect();
        AppendRequest {
            stream_id: stream.into(),
            expected,
            events,
        }
    }

    #[test]
    fn an_empty_request_checks_the_version_and_reports_the_stream_head() {
        let existing = StreamState {
            version: 4,
            last: Some(Ref::Committed(17)),
        };
        let streams = HashMap::from([("s".to_owned(), existing)]);
        let reqs = [
            req("s", ExpectedVersion::Exact(4), 0),
            req("s", ExpectedVersion::NoStream, 0),
            req("new", ExpectedVersion::NoStream, 0),
        ];
        let (rows, planned) = plan(&reqs, streams, HashMap::new()).unwrap();
        assert!(rows.is_empty());
        let results = resolve(planned, &[]);
        let ok = AppendOutcome {
            stream_version: 4,
            last_position: 17,
        };
        assert_eq!(*results[0].as_ref().unwrap(), ok);
        assert!(results[1].is_err());
        assert_eq!(results[2].as_ref().unwrap().stream_version, 0);
    }

    #[test]
    fn rows_get_consecutive_versions_in_request_order() {
        let reqs = [
            req("s", ExpectedVersion::NoStream, 2),
            req("s", ExpectedVersion::Exact(2), 1),
        ];
        let (rows, planned) = plan(&reqs, HashMap::new(), HashMap::new()).unwrap();
        let versions: Vec<i64> = rows.iter().map(|r| r.version).collect();
        assert_eq!(versions, [1, 2, 3]);
        let results = resolve(planned, &[10, 11, 12]);
        assert_eq!(results[1].as_ref().unwrap().last_position, 12);
    }
}
