//! Group commit: one writer task drains queued appends from many callers into one transaction.
//!
//! Callers send `(request, reply)` over a bounded channel; the task takes whatever is queued
//! (up to `max_batch`), commits it with one `append_batch` and answers each caller. While a
//! batch commits, the next one queues up, so throughput grows with the number of writers.

use tokio::sync::{mpsc, oneshot};

use super::{AppendError, AppendOutcome, AppendRequest, EventStore, StoreError};

type Reply = oneshot::Sender<Result<AppendOutcome, AppendError>>;

/// A handle to the group-commit writer task. Cheap to clone; the task stops when the last
/// handle is dropped.
#[derive(Debug, Clone)]
pub struct BatchedAppender {
    jobs: mpsc::Sender<(AppendRequest, Reply)>,
}

impl BatchedAppender {
    pub(super) fn spawn(store: EventStore, max_batch: usize) -> Self {
        let max_batch = max_batch.max(1);
        let (jobs, queue) = mpsc::channel(max_batch.saturating_mul(2));
        tokio::spawn(run(store, queue, max_batch));
        Self { jobs }
    }

    /// Appends through the shared writer; same semantics as [`EventStore::append`].
    pub async fn append(&self, req: AppendRequest) -> Result<AppendOutcome, AppendError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send((req, reply))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn run(
    store: EventStore,
    mut queue: mpsc::Receiver<(AppendRequest, Reply)>,
    max_batch: usize,
) {
    let mut jobs = Vec::with_capacity(max_batch);
    while queue.recv_many(&mut jobs, max_batch).await > 0 {
        let (reqs, replies): (Vec<_>, Vec<_>) = jobs.drain(..).unzip();
        let results = match store.append_batch_slice(&reqs).await {
            Ok(results) => results,
            Err(e) => {
                // The group commit failed as a whole (or its outcome is unknown): retry each
                // request alone, so every caller gets its own answer. Event ids make a retry
                // of an already committed request a no-op.
                tracing::warn!(error = %e, batch = reqs.len(), "group commit failed; retrying one by one");
                one_by_one(&store, reqs).await
            }
        };
        for (reply, result) in replies.into_iter().zip(results) {
            // The caller may have given up waiting; its append still happened.
            let _ = reply.send(result);
        }
    }
}

async fn one_by_one(
    store: &EventStore,
    reqs: Vec<AppendRequest>,
) -> Vec<Result<AppendOutcome, AppendError>> {
    let mut results = Vec::with_capacity(reqs.len());
    for req in reqs {
        results.push(store.append(req).await);
    }
    results
}
