//! Typed errors of the event-store port.

use super::ExpectedVersion;

/// An append failed.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The stream is not at the expected version (detected by the unique `(stream_id, version)` index).
    #[error("stream {stream_id} is at version {actual}, expected {expected:?}")]
    Conflict {
        stream_id: String,
        expected: ExpectedVersion,
        actual: i64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The backend failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("migration failed")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored event is not valid JSON")]
    Json(#[from] serde_json::Error),
    #[error("event writer stopped")]
    WriterStopped,
    #[error("unsupported database URL {0:?}: use sqlite:// or postgres://")]
    UnsupportedUrl(String),
    #[error("stored event id is not a UUID")]
    EventId(#[from] uuid::Error),
    #[error("sealed texts need the node key, which this store was not given")]
    NoNodeKey,
    #[error("a session data key could not be sealed or opened")]
    Secret(#[from] crate::secrets::SecretError),
    /// The KurrentDB event log failed (`kurrent/`).
    #[cfg(feature = "kurrentdb")]
    #[error("KurrentDB error")]
    Kurrent(#[from] kurrentdb::Error),
    /// The KurrentDB URL does not parse, or the client could not be built (never shows the URL).
    #[cfg(feature = "kurrentdb")]
    #[error("cannot use the KurrentDB connection string {0}")]
    KurrentSetup(String),
    /// An event came back without a usable `$all` position (EventStoreDB older than 22.6
    /// leaves it out of stream reads).
    #[cfg(feature = "kurrentdb")]
    #[error("KurrentDB returned an event without a $all position (server older than 22.6?)")]
    KurrentPosition,
}
