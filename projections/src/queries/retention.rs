//! Sessions due for retention: finished before a cutoff, texts not yet shredded.

use sqlx::{AnyPool, Row};

/// Up to `limit` finished sessions that ended before `ended_before_ms` and still have texts,
/// oldest first.
pub async fn sessions_to_shred(
    pool: &AnyPool,
    ended_before_ms: i64,
    limit: i64,
) -> Result<Vec<uuid::Uuid>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id FROM sessions
         WHERE completed_at_ms IS NOT NULL AND completed_at_ms < $1 AND texts_shredded_at_ms IS NULL
         ORDER BY completed_at_ms, id LIMIT $2",
    )
    .bind(ended_before_ms)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            uuid::Uuid::parse_str(&id).map_err(|e| sqlx::Error::Decode(e.into()))
        })
        .collect()
}
