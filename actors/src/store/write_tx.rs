//! Transactions for read models that live in the event store's database.
//!
//! On SQLite there is one writer at a time. Group commits run back to back under load, and a
//! second writer waiting in SQLite's busy handler (which sleeps and retries) rarely finds the
//! lock free: the projections fell minutes behind. A read-model transaction therefore queues
//! on the same in-process gate as the appends (a fair FIFO lock) and takes the write lock up
//! front, so projections and appends alternate. On PostgreSQL it is a plain transaction.

use std::ops::{Deref, DerefMut};

use sqlx::{Any, AnyConnection, Transaction};
use tokio::sync::OwnedMutexGuard;

use super::StoreError;
use super::sql::{Backend, EventStore};

/// A read-model transaction; commit it, or drop it to roll back.
pub struct ReadModelTx {
    tx: Transaction<'static, Any>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl ReadModelTx {
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl Deref for ReadModelTx {
    type Target = AnyConnection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl DerefMut for ReadModelTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl EventStore {
    /// Begins a read-model transaction (see the module docs for SQLite's turn-taking).
    pub async fn begin_read_model_write(&self) -> Result<ReadModelTx, StoreError> {
        let inner = &self.inner;
        if inner.backend == Backend::Postgres {
            let tx = inner.pool.begin().await?;
            return Ok(ReadModelTx { tx, _turn: None });
        }
        let turn = inner.write_gate.clone().lock_owned().await;
        let tx = inner.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(ReadModelTx {
            tx,
            _turn: Some(turn),
        })
    }
}
