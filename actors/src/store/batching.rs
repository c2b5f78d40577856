//! Group commit: one writer task drains queued appends from many callers into one transaction.
//!
//! Callers queue `(request, reply)` on an unbounded channel; the task takes whatever is queued
//! (up to `max_batch`), commits it with one `append_batch` and answers each caller. While a
//! batch commits, the next one queues up, so throughput grows with the number of writers.
//! [`BatchedAppender::submit`] queues without waiting, in call order: requests a caller submits
//! one after another are committed in that order (in one batch or in consecutive ones), which
//! lets a session pipeline its appends with locally assigned expected versions.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::{AppendError, AppendOutcome, AppendRequest, EventStore, StoreError};

/// Shortest interval between the starts of two group commits while appends keep arriving: the
/// next commit then takes everything queued in the interval. A commit after a quiet spell
/// starts at once; under load an append waits up to this much longer for its commit, and
/// every commit (and the WAL pages it rewrites) carries several times more events.
const COMMIT_INTERVAL: Duration = Duration::from_millis(5);

type Reply = oneshot::Sender<Result<AppendOutcome, AppendError>>;

/// A handle to the group-commit writer task. Cheap to clone; the task stops when the last
/// handle is dropped.
#[derive(Debug, Clone)]
pub struct BatchedAppender {
    jobs: mpsc::UnboundedSender<(AppendRequest, Reply)>,
}

/// The answer to a submitted append; resolves once its batch has committed (or failed).
#[derive(Debug)]
pub struct AppendTicket(oneshot::Receiver<Result<AppendOutcome, AppendError>>);

impl AppendTicket {
    /// Waits for the commit.
    pub async fn wait(self) -> Result<AppendOutcome, AppendError> {
        self.0.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// The outcome if the batch has already committed, else the ticket back.
    pub fn try_take(mut self) -> Result<Result<AppendOutcome, AppendError>, Self> {
        match self.0.try_recv() {
            Ok(result) => Ok(result),
            Err(oneshot::error::TryRecvError::Empty) => Err(self),
            Err(oneshot::error::TryRecvError::Closed) => {
                Ok(Err(AppendError::Store(StoreError::WriterStopped)))
            }
        }
    }
}

impl BatchedAppender {
    pub(super) fn spawn(store: EventStore, max_batch: usize) -> Self {
        let max_batch = max_batch.max(1);
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run(store, queue, max_batch));
        Self { jobs }
    }

    /// Queues an append without waiting; same semantics as [`EventStore::append`] once
    /// committed. Requests submitted one after another commit in that order.
    pub fn submit(&self, req: AppendRequest) -> Result<AppendTicket, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send((req, reply))
            .map_err(|_| StoreError::WriterStopped)?;
        Ok(AppendTicket(answer))
    }

    /// Appends through the shared writer and waits for the commit.
    pub async fn append(&self, req: AppendRequest) -> Result<AppendOutcome, AppendError> {
        self.submit(req)?.wait().await
    }
}

async fn run(
    store: EventStore,
    mut queue: mpsc::UnboundedReceiver<(AppendRequest, Reply)>,
    max_batch: usize,
) {
    let mut jobs = Vec::with_capacity(max_batch);
    let mut last_commit: Option<Instant> = None;
    while queue.recv_many(&mut jobs, max_batch).await > 0 {
        if let Some(due) = last_commit.map(|t| t + COMMIT_INTERVAL)
            && jobs.len() < max_batch
            && Instant::now() < due
        {
            tokio::time::sleep_until(due).await;
            while jobs.len() < max_batch
                && let Ok(job) = queue.try_recv()
            {
                jobs.push(job);
            }
        }
        last_commit = Some(Instant::now());
        let (reqs, replies): (Vec<_>, Vec<_>) = jobs.drain(..).unzip();
        let results = match store.append_group(&reqs).await {
            Ok(results) => results,
            Err(e) => {
                // The group commit failed as a whole (or its outcome is unknown): retry each
                // request alone, in order, so every caller gets its own answer. Event ids make
                // a retry of an already committed request a no-op.
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
