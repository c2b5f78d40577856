//! `GET /api/sessions/{id}/stream`: the session's events as Server-Sent Events, fed by the event
//! store's live subscription (no polling of tables). Each event's `id:` is its global position,
//! so a reconnecting browser resumes with `Last-Event-ID` without gaps or duplicates.

use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use actors::domain::events::session_stream;
use actors::store::{EventStore, RecordedEvent};
use futures_util::{Stream, StreamExt, stream};
use serde::Deserialize;
use serde_json::json;

use super::envelope::{ApiError, parse_id};
use super::state::AppState;

/// Comment line sent when nothing happened for this long, so proxies keep the stream open.
const HEARTBEAT: Duration = Duration::from_secs(15);
const TERMINAL: &[&str] = &[
    "SessionCompleted",
    "SessionFailed",
    "SessionCancelled",
    "SessionDeleted",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamQuery {
    /// Same as the `Last-Event-ID` header, for clients that cannot set headers.
    last_event_id: Option<i64>,
}

fn frame(e: &RecordedEvent) -> Bytes {
    let recorded_at = chrono::DateTime::from_timestamp_millis(e.recorded_at_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    let data = json!({"position": e.position, "version": e.version, "type": e.event_type, "data": e.payload, "recordedAt": recorded_at});
    Bytes::from(format!(
        "id: {}\nevent: session\ndata: {data}\n\n",
        e.position
    ))
}

fn last_event_id(req: &HttpRequest, query: &StreamQuery) -> i64 {
    let header = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    header.or(query.last_event_id).unwrap_or(0)
}

/// A session's stored events as readers see them: sealed texts opened (blank once the data key
/// is destroyed), and texts of a shredded session's older, plaintext events blanked.
pub(super) async fn open_history(
    store: &EventStore,
    events: &mut [RecordedEvent],
) -> Result<(), ApiError> {
    store
        .open_recorded(events)
        .await
        .map_err(|e| ApiError::Unexpected(e.into()))?;
    super::redact::redact_shredded(events);
    Ok(())
}

async fn open_live(
    store: EventStore,
    e: Result<RecordedEvent, String>,
) -> Result<RecordedEvent, String> {
    let mut e = e?;
    store
        .open_recorded(std::slice::from_mut(&mut e))
        .await
        .map_err(|err| err.to_string())?;
    Ok(e)
}

/// History after `after` up to the head, then the live tail: no gap, no duplicate.
async fn session_events(
    store: EventStore,
    stream_id: String,
    after: i64,
) -> Result<impl Stream<Item = Result<RecordedEvent, String>>, ApiError> {
    let head = store
        .head_position()
        .await
        .map_err(|e| ApiError::Unexpected(e.into()))?;
    let mut history = store
        .read_stream(&stream_id)
        .await
        .map_err(|e| ApiError::Unexpected(e.into()))?;
    open_history(&store, &mut history).await?;
    if history.is_empty() {
        return Err(ApiError::NotFound("session"));
    }
    let past: Vec<_> = history
        .into_iter()
        .filter(|e| e.position > after && e.position <= head)
        .map(Ok)
        .collect();
    let opener = store.clone();
    let live = store
        .subscribe(head.max(after))
        .filter_map(move |e| {
            let keep = match e {
                Ok(e) if e.stream_id == stream_id => Some(Ok(e)),
                Ok(_) => None,
                Err(err) => Some(Err(err.to_string())),
            };
            std::future::ready(keep)
        })
        .then(move |e| open_live(opener.clone(), e));
    Ok(stream::iter(past).chain(live))
}

pub async fn stream_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "session")?;
    let after = last_event_id(&req, &query);
    let events = session_events(state.store.clone(), session_stream(id), after).await?;
    let body = stream::unfold((Box::pin(events), false), |(mut events, done)| async move {
        if done {
            return None;
        }
        match tokio::time::timeout(HEARTBEAT, events.next()).await {
            Err(_) => Some((
                Ok::<_, actix_web::Error>(Bytes::from_static(b": heartbeat\n\n")),
                (events, false),
            )),
            Ok(None) => None,
            Ok(Some(Err(error))) => Some((
                Ok(Bytes::from(format!(
                    "event: error\ndata: {}\n\n",
                    json!({"error": error})
                ))),
                (events, true),
            )),
            Ok(Some(Ok(e))) => {
                let end = TERMINAL.contains(&e.event_type.as_str());
                let mut bytes = frame(&e).to_vec();
                if end {
                    bytes.extend_from_slice(b"event: end\ndata: {}\n\n");
                }
                Some((Ok(Bytes::from(bytes)), (events, end)))
            }
        }
    });
    let prelude =
        stream::once(async { Ok::<_, actix_web::Error>(Bytes::from_static(b"retry: 1000\n\n")) });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache, no-transform"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(prelude.chain(body)))
}
