//! The event-store port: append with an expected version, read a stream, read all, subscribe.
//!
//! One concrete [`EventStore`] serves SQLite and PostgreSQL through `sqlx::AnyPool`, and with
//! the cargo feature `kurrentdb` keeps its event log on KurrentDB (`kurrent/`) while read
//! models stay in SQL; [`BatchedAppender`] group-commits appends from many concurrent writers.

mod append;
mod batching;
mod error;
#[cfg(feature = "kurrentdb")]
mod kurrent;
mod plan;
mod scan;
mod sql;
mod subscribe;
#[cfg(feature = "testing")]
pub mod testing;
mod text_keys;
mod timing;
mod types;
mod write_tx;

pub use batching::{AppendTicket, BatchedAppender};
pub use error::{AppendError, StoreError};
pub use sql::{Backend, EventStore};
pub use text_keys::{TextKey, open_texts, seal_texts};
pub use timing::{APPEND_BUCKETS, AppendLatency};
pub use types::{
    AppendOutcome, AppendRequest, ExpectedVersion, NewEvent, RecordedEvent, TypedPage,
};
pub use write_tx::ReadModelTx;
