//! The `Projection` trait: apply one event to read-model tables inside the runner's transaction.

use actors::domain::events::DomainEvent;
use actors::store::{RecordedEvent, StoreError};
use sqlx::AnyConnection;

/// A projection failed; the transaction (read-model change + checkpoint) is rolled back.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("json encoding failed")]
    Json(#[from] serde_json::Error),
    /// A checkpoint is behind the events this runner already applied: the read models were
    /// emptied (a rebuild) since; the runner must restart from the checkpoints.
    #[error(
        "checkpoint of {projection} went back to {checkpoint}, before {applied} (read models rebuilt)"
    )]
    Rewound {
        projection: String,
        checkpoint: i64,
        applied: i64,
    },
}

/// Largest value a count, size or duration in a read model holds: 2^53, the largest integer a
/// browser's JSON parser keeps exact. Values a bot reports are clamped to it and running sums stop
/// there, so a hostile reply can neither overflow a `BIGINT` (which would stall the projection on
/// every retry) nor show a rounded number in the dashboard.
pub const COUNTER_CAP: i64 = 1 << 53;

/// A value reported by the bot (tokens, sizes, latencies) as stored in a read model: at most
/// [`COUNTER_CAP`].
pub fn bounded(value: u64) -> i64 {
    i64::try_from(value).map_or(COUNTER_CAP, |v| v.min(COUNTER_CAP))
}

/// SQL for `column + addend`, saturating at [`COUNTER_CAP`]; portable (SQLite has no `LEAST`,
/// PostgreSQL no two-argument `MIN`). Cannot overflow while both operands are at most the cap.
pub fn saturating_sum(column: &str, addend: &str) -> String {
    format!(
        "CASE WHEN {column} + {addend} > {COUNTER_CAP} THEN {COUNTER_CAP} ELSE {column} + {addend} END"
    )
}

/// An event of a batch with its decoded form (decoded once for every projection).
pub type Decoded<'a> = (&'a RecordedEvent, &'a DomainEvent);

/// One read model. `apply` must be idempotent per event: applying an event the table has already
/// seen (again, or after later ones) changes nothing. Upserts replace only with a later stream
/// version; running counters are guarded by the position of the last event applied to the row.
/// The runner calls it only for events after the projection's checkpoint, in position order.
#[async_trait::async_trait]
pub trait Projection: Send + Sync {
    /// Checkpoint name.
    fn name(&self) -> &'static str;
    /// Tables this projection (alone) writes; emptied on rebuild.
    fn tables(&self) -> &'static [&'static str];
    /// Applies one event.
    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError>;

    /// Applies a run of events (position order, all after the checkpoint); must leave the
    /// table exactly as `apply` on each event in turn would. The default does that; the
    /// session projections override it with set-based statements.
    async fn apply_all(
        &self,
        conn: &mut AnyConnection,
        events: &[Decoded<'_>],
    ) -> Result<(), ProjectionError> {
        for (meta, event) in events {
            self.apply(conn, meta, event).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{COUNTER_CAP, bounded, saturating_sum};

    #[test]
    fn bot_values_are_clamped_to_the_cap() {
        assert_eq!(bounded(0), 0);
        assert_eq!(bounded(42), 42);
        assert_eq!(bounded(COUNTER_CAP as u64 + 1), COUNTER_CAP);
        assert_eq!(bounded(i64::MAX as u64), COUNTER_CAP);
        assert_eq!(bounded(u64::MAX), COUNTER_CAP);
    }

    #[test]
    fn the_sum_expression_names_both_operands_and_the_cap() {
        let sql = saturating_sum("tokens_in", "$2");
        assert_eq!(
            sql,
            format!(
                "CASE WHEN tokens_in + $2 > {COUNTER_CAP} THEN {COUNTER_CAP} ELSE tokens_in + $2 END"
            )
        );
    }
}
