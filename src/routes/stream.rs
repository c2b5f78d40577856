//! `GET /api/sessions/{id}/stream`: the session's events as Server-Sent Events, fed by the event
//! store's live subscription (no polling of tables). Each event's `id:` is its global position,
//! so a reconnecting browser resumes with `Last-Event-ID` without gaps or duplicates.

use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use actors::domain::event_type::names;
use actors::domain::events::{EventType, session_stream};
use actors::store::{EventStore, RecordedEvent};
use futures_util::{Stream, StreamExt, stream};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::envelope::{ApiError, parse_id};
use super::query::ApiQuery;
use super::state::AppState;

/// Comment line sent when nothing happened for this long, so proxies keep the stream open.
const HEARTBEAT: Duration = Duration::from_secs(15);
const TERMINAL: &[&str] = &names([
    EventType::SessionCompleted,
    EventType::SessionFailed,
    EventType::SessionCancelled,
    EventType::SessionDeleted,
]);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
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
    let first = store
        .read_stream_page(&stream_id, 0, 1)
        .await
        .map_err(|e| ApiError::Unexpected(e.into()))?;
    if first.is_empty() {
        return Err(ApiError::NotFound("session"));
    }
    let past = history_pages(store.clone(), stream_id.clone(), after, head);
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
    Ok(past.chain(live))
}

/// Events of history loaded per page.
const HISTORY_PAGE: i64 = 500;

/// The stream's events with `after < position <= head`, read page by page as the client
/// consumes them (a long session is never loaded whole), sealed texts opened per page.
fn history_pages(
    store: EventStore,
    stream_id: String,
    after: i64,
    head: i64,
) -> impl Stream<Item = Result<RecordedEvent, String>> {
    stream::unfold(Some(0_i64), move |cursor| {
        let (store, stream_id) = (store.clone(), stream_id.clone());
        async move {
            let version = cursor?;
            match store
                .read_stream_page(&stream_id, version, HISTORY_PAGE)
                .await
            {
                Err(e) => Some((vec![Err(e.to_string())], None)),
                Ok(mut page) => {
                    if let Err(e) = open_history(&store, &mut page).await {
                        return Some((vec![Err(e.to_string())], None));
                    }
                    let next = page.last().map(|e| e.version);
                    let done = page.len() < HISTORY_PAGE as usize
                        || page.last().is_some_and(|e| e.position > head);
                    let items: Vec<_> = page
                        .into_iter()
                        .filter(|e| e.position > after && e.position <= head)
                        .map(Ok)
                        .collect();
                    Some((items, if done { None } else { next }))
                }
            }
        }
    })
    .flat_map(stream::iter)
}

/// Follow a session live (SSE).
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/stream",
    tag = "sessions",
    params(("id" = uuid::Uuid, Path, description = "Session id"), StreamQuery),
    responses(
        (status = 200, description = "Server-sent events of one session: its stored events, then live until it ends", content_type = "text/event-stream", body = String),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn stream_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: ApiQuery<StreamQuery>,
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
