//! Transactions for read models that live in the event store's database.
//!
//! On SQLite there is one writer at a time. Group commits run back to back under load, and a
//! second writer waiting in SQLite's busy handler (which sleeps and retries) rarely finds the
//! lock free: the projections fell minutes behind. A read-model transaction therefore queues
//! on the same in-process gate as the appends (a fair FIFO lock) and takes the write lock up
//! front, so projections and appends alternate. On PostgreSQL it is a plain transaction.
//! Single statements outside a transaction take the same turn (`EventStore::write_turn`).

use std::ops::{Deref, DerefMut};

use sqlx::{Any, AnyConnection, Transaction};
use tokio::sync::OwnedMutexGuard;

use super::StoreError;
use super::sql::{Backend, EventStore};

/// A read-model transaction; commit it, or drop it to roll back.
pub struct ReadModelTx {
    /// `Some` until committed or dropped.
    tx: Option<Transaction<'static, Any>>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl ReadModelTx {
    pub async fn commit(mut self) -> Result<(), StoreError> {
        if let Some(tx) = self.tx.take() {
            tx.commit().await?;
        }
        Ok(())
    }
}

impl Drop for ReadModelTx {
    /// An uncommitted transaction rolls back when its connection returns to the pool, which
    /// sqlx does on a spawned task. When the runtime is already gone (an actix System torn down
    /// with a projection batch in flight) that spawn would panic inside a destructor and abort
    /// the process; the connection is leaked instead (the process is exiting, and the database
    /// rolls the transaction back when the connection closes).
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                drop(tx);
            } else {
                std::mem::forget(tx);
            }
        }
    }
}

impl Deref for ReadModelTx {
    type Target = AnyConnection;

    fn deref(&self) -> &Self::Target {
        match &self.tx {
            Some(tx) => tx,
            None => unreachable!("a read-model transaction is used after commit"),
        }
    }
}

impl DerefMut for ReadModelTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match &mut self.tx {
            Some(tx) => tx,
            None => unreachable!("a read-model transaction is used after commit"),
        }
    }
}

impl EventStore {
    /// A turn at the in-process write gate for one statement outside a transaction (session
    /// keys, leases, node heartbeats, worker checkpoints): hold it while the statement runs.
    /// On SQLite the statement then finds the write lock free; without it, it slept in the busy
    /// handler behind back-to-back group commits (60–120 ms per statement measured under load).
    /// `None` on PostgreSQL, where such writers do not exclude each other.
    pub async fn write_turn(&self) -> Option<OwnedMutexGuard<()>> {
        let inner = &self.inner;
        if inner.backend == Backend::Postgres {
            return None;
        }
        Some(inner.write_gate.clone().lock_owned().await)
    }

    /// Begins a read-model transaction (see the module docs for SQLite's turn-taking).
    pub async fn begin_read_model_write(&self) -> Result<ReadModelTx, StoreError> {
        let inner = &self.inner;
        if inner.backend == Backend::Postgres {
            let tx = inner.pool.begin().await?;
            return Ok(ReadModelTx {
                tx: Some(tx),
                _turn: None,
            });
        }
        let turn = inner.write_gate.clone().lock_owned().await;
        let tx = inner.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(ReadModelTx {
            tx: Some(tx),
            _turn: Some(turn),
        })
    }
}
