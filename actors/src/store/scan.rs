//! Reads for background workers: events of given types (through the `event_type` index, or a
//! filtered `$all` read on KurrentDB), whole or a stretch at a time, and
//! the workers' own checkpoints (`worker_checkpoints`, write-side state, not a read model).

use super::sql::decode_event;
use super::{EventStore, RecordedEvent, StoreError, TypedPage};

impl EventStore {
    /// Every event whose `event_type` is one of `types`, in position order. `types` are static
    /// event names from the code, never input.
    pub async fn read_types(&self, types: &[&str]) -> Result<Vec<RecordedEvent>, StoreError> {
        #[cfg(feature = "kurrentdb")]
        if let Some(log) = &self.inner.kurrent {
            return log.read_types(types).await;
        }
        let sql = format!(
            "SELECT position, stream_id, version, event_id, event_type, payload, metadata, \
             recorded_at_ms FROM events WHERE event_type IN ({}) ORDER BY position",
            type_list(types)
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(decode_event).collect()
    }

    /// Events of `types` in `(after, upto]`, at most `limit` of them, and how far the log was
    /// read. On KurrentDB a filtered page of `$all` stands in for the index.
    pub async fn read_types_between(
        &self,
        types: &[&str],
        after: i64,
        upto: i64,
        limit: i64,
    ) -> Result<TypedPage, StoreError> {
        #[cfg(feature = "kurrentdb")]
        if self.inner.kurrent.is_some() {
            let mut page = self.read_all(after, limit).await?;
            page.retain(|e| e.position <= upto);
            let reached = match page.last() {
                Some(last) if page.len() as i64 == limit => last.position,
                _ => upto,
            };
            page.retain(|e| types.contains(&e.event_type.as_str()));
            return Ok(TypedPage {
                events: page,
                reached,
            });
        }
        let sql = format!(
            "SELECT position, stream_id, version, event_id, event_type, payload, metadata, \
             recorded_at_ms FROM events WHERE event_type IN ({}) AND position > $1 \
             AND position <= $2 ORDER BY position LIMIT $3",
            type_list(types)
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(upto)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        let events = rows
            .iter()
            .map(decode_event)
            .collect::<Result<Vec<_>, _>>()?;
        let reached = match events.last() {
            Some(last) if events.len() as i64 == limit => last.position,
            _ => upto,
        };
        Ok(TypedPage { events, reached })
    }

    /// The first (`newest = false`) or last event of a stream, without reading the rest.
    pub async fn stream_end(
        &self,
        stream_id: &str,
        newest: bool,
    ) -> Result<Option<RecordedEvent>, StoreError> {
        #[cfg(feature = "kurrentdb")]
        if let Some(log) = &self.inner.kurrent {
            return log.stream_end(stream_id, newest).await;
        }
        let order = if newest { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT position, stream_id, version, event_id, event_type, payload, metadata, \
             recorded_at_ms FROM events WHERE stream_id = $1 ORDER BY version {order} LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(stream_id.to_owned())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(decode_event).transpose()
    }

    /// A worker's checkpoint (the last position it handled), 0 when it never ran.
    pub async fn worker_checkpoint(&self, name: &str) -> Result<i64, StoreError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM worker_checkpoints WHERE name = $1")
                .bind(name.to_owned())
                .fetch_optional(self.pool())
                .await?;
        Ok(position.unwrap_or(0))
    }

    /// Moves a worker's checkpoint forward (never back).
    pub async fn save_worker_checkpoint(
        &self,
        name: &str,
        position: i64,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO worker_checkpoints (name, position) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET position = excluded.position
             WHERE excluded.position > worker_checkpoints.position",
        )
        .bind(name.to_owned())
        .bind(position)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

/// `types` as an SQL list of string literals (they are static names from the code, never input).
fn type_list(types: &[&str]) -> String {
    types
        .iter()
        .map(|t| format!("'{}'", t.replace('\'', "")))
        .collect::<Vec<_>>()
        .join(", ")
}
