//! Parked (undecodable) events for the health endpoint and page: how many, and the latest ones.

use serde::Serialize;
use sqlx::{AnyPool, Row};

/// How many of the latest parked events the health endpoint and page list.
pub const LATEST_PARKED: i64 = 10;

/// One parked event with the projections that skipped it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParkedEvent {
    pub position: i64,
    pub stream_id: String,
    pub event_type: String,
    pub projections: Vec<String>,
    pub error: String,
    pub parked_at_ms: i64,
}

/// Number of parked events and the latest ones, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParkedEvents {
    pub count: i64,
    pub latest: Vec<ParkedEvent>,
}

/// Count of parked events (distinct positions) and the `limit` latest, newest first.
pub async fn parked_events(pool: &AnyPool, limit: i64) -> Result<ParkedEvents, sqlx::Error> {
    let count: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(DISTINCT position) AS BIGINT) FROM parked_events")
            .fetch_one(pool)
            .await?;
    let rows = sqlx::query(
        "SELECT position, projection, stream_id, event_type, error, parked_at_ms FROM parked_events
         WHERE position IN (SELECT DISTINCT position FROM parked_events ORDER BY position DESC LIMIT $1)
         ORDER BY position DESC, projection",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut latest: Vec<ParkedEvent> = Vec::new();
    for row in rows {
        let position: i64 = row.try_get("position")?;
        let projection: String = row.try_get("projection")?;
        match latest.last_mut() {
            Some(last) if last.position == position => last.projections.push(projection),
            _ => latest.push(ParkedEvent {
                position,
                stream_id: row.try_get("stream_id")?,
                event_type: row.try_get("event_type")?,
                projections: vec![projection],
                error: row.try_get("error")?,
                parked_at_ms: row.try_get("parked_at_ms")?,
            }),
        }
    }
    Ok(ParkedEvents { count, latest })
}
