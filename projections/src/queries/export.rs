//! Pages for exports and reports: sessions and their exchange rows by keyset (so a long export
//! neither skips nor repeats rows while sessions are added), and the report's aggregates
//! (exchanges per time bucket, the most repeated replies).

use serde::Serialize;
use sqlx::{AnyPool, Row};

use super::dashboard::decode_row;
use super::sessions::{MessageView, SessionFilter, SessionView, filter_clause, message, session};

/// Where the next page of sessions starts (newest first: `(queued_at_ms, id)` descending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCursor {
    pub queued_at_ms: i64,
    pub id: String,
}

/// Up to `limit` sessions matching the filters (`limit`/`offset` of the filter are ignored),
/// newest first, after `cursor`; with the cursor of the last one.
pub async fn sessions_after(
    pool: &AnyPool,
    filter: &SessionFilter,
    cursor: Option<&SessionCursor>,
    limit: i64,
) -> Result<(Vec<SessionView>, Option<SessionCursor>), sqlx::Error> {
    let (clause, binds) = filter_clause(filter);
    let mut conditions: Vec<String> = clause
        .strip_prefix("WHERE ")
        .map(|c| vec![c.to_string()])
        .unwrap_or_default();
    let n = binds.len();
    if cursor.is_some() {
        conditions.push(format!(
            "(queued_at_ms < ${a} OR (queued_at_ms = ${a} AND id < ${b}))",
            a = n + 1,
            b = n + 2
        ));
    }
    let clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT * FROM sessions {clause} ORDER BY queued_at_ms DESC, id DESC LIMIT ${}",
        n + 1 + if cursor.is_some() { 2 } else { 0 }
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in binds {
        query = query.bind(b);
    }
    if let Some(c) = cursor {
        query = query.bind(c.queued_at_ms).bind(c.id.clone());
    }
    let rows = query.bind(limit).fetch_all(pool).await?;
    let next = match rows.last() {
        Some(last) => {
            let r = decode_row(last)?;
            Some(SessionCursor {
                queued_at_ms: r.queued_at_ms,
                id: r.id,
            })
        }
        None => None,
    };
    let sessions = rows
        .iter()
        .map(|r| session(r, false))
        .collect::<Result<_, _>>()?;
    Ok((sessions, next))
}

/// Up to `limit` exchange rows of a session after `(message_index, attempt)`, in order.
pub async fn messages_after(
    pool: &AnyPool,
    session_id: &str,
    after: Option<(i64, i64)>,
    limit: i64,
) -> Result<Vec<MessageView>, sqlx::Error> {
    let (index, attempt) = after.unwrap_or((i64::MIN, i64::MIN));
    let rows = sqlx::query(
        "SELECT * FROM session_messages WHERE session_id = $1
           AND (message_index > $2 OR (message_index = $2 AND attempt > $3))
         ORDER BY message_index, attempt LIMIT $4",
    )
    .bind(session_id.to_string())
    .bind(index)
    .bind(attempt)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(message).collect()
}

/// Exchanges answered or failed in one time bucket of a session.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThroughputBucket {
    /// Start of the bucket, in ms since the session's first request.
    pub offset_ms: i64,
    pub exchanges: i64,
    pub errors: i64,
}

/// Span of a session's exchanges: first request sent and last reply received (epoch ms).
pub async fn exchange_span(
    pool: &AnyPool,
    session_id: &str,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT MIN(sent_at_ms) AS first_ms, MAX(received_at_ms) AS last_ms
         FROM session_messages WHERE session_id = $1",
    )
    .bind(session_id.to_string())
    .fetch_one(pool)
    .await?;
    let first: Option<i64> = row.try_get("first_ms")?;
    let last: Option<i64> = row.try_get("last_ms")?;
    Ok(first.map(|f| (f, last.unwrap_or(f).max(f))))
}

/// Exchanges per `bucket_ms` bucket, counted when they ended, from `start_ms` on.
pub async fn throughput(
    pool: &AnyPool,
    session_id: &str,
    start_ms: i64,
    bucket_ms: i64,
) -> Result<Vec<ThroughputBucket>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT CAST((received_at_ms - $2) / $3 AS BIGINT) AS bucket,
                CAST(COUNT(*) AS BIGINT) AS exchanges,
                CAST(SUM(CASE WHEN outcome = 'ok' THEN 0 ELSE 1 END) AS BIGINT) AS errors
         FROM session_messages WHERE session_id = $1 AND received_at_ms IS NOT NULL
         GROUP BY bucket ORDER BY bucket",
    )
    .bind(session_id.to_string())
    .bind(start_ms)
    .bind(bucket_ms.max(1))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ThroughputBucket {
                offset_ms: r.try_get::<i64, _>("bucket")? * bucket_ms,
                exchanges: r.try_get("exchanges")?,
                errors: r.try_get("errors")?,
            })
        })
        .collect()
}

/// A reply text and how often the session gave it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepeatedReply {
    pub reply: String,
    pub count: i64,
    pub max_repetition_score: Option<f64>,
}

/// The `limit` replies given most often (ties: the highest repetition score first).
pub async fn top_replies(
    pool: &AnyPool,
    session_id: &str,
    limit: i64,
) -> Result<Vec<RepeatedReply>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT response, CAST(COUNT(*) AS BIGINT) AS n, MAX(repetition_score) AS score
         FROM session_messages WHERE session_id = $1 AND response IS NOT NULL
         GROUP BY response ORDER BY n DESC, COALESCE(MAX(repetition_score), 0) DESC, response LIMIT $2",
    )
    .bind(session_id.to_string())
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RepeatedReply {
                reply: r.try_get("response")?,
                count: r.try_get("n")?,
                max_repetition_score: r.try_get("score")?,
            })
        })
        .collect()
}
