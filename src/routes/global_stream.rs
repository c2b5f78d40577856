//! `GET /api/stream`: every event of the log as Server-Sent Events, from the current head (or
//! after `Last-Event-ID`), fed by the event store's live subscription; the command center uses
//! it to keep running sessions' counts and status current without polling. Frames look like the
//! session stream's (`id:` = global position, JSON `{position, version, streamId, type, data,
//! recordedAt}`); the event name is the stream's kind (`session`, `target`, `scenario`); no `end`.

use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use actors::domain::events::EventType;
use actors::store::{EventStore, RecordedEvent};
use futures_util::{StreamExt, stream};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::envelope::ApiError;
use super::query::ApiQuery;
use super::state::AppState;

/// Comment line sent when nothing happened for this long, so proxies keep the stream open.
const HEARTBEAT: Duration = Duration::from_secs(15);
const KINDS: &[&str] = &["session", "target", "scenario"];

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct GlobalStreamQuery {
    /// Same as the `Last-Event-ID` header (the header wins), for clients that cannot set it.
    last_event_id: Option<i64>,
    /// Only streams of this kind: `session`, `target` or `scenario`.
    kind: Option<String>,
    /// Leave out message texts and snapshots (`content`, `partialContent`, the frozen target
    /// and scenario); keeps ids, counters, timings, tokens, errors and the names.
    #[serde(default)]
    compact: bool,
}

/// Streams never sent on the feed: accounts (`user-…`, `api-token-…`: password and token
/// hashes) and the audit log (admins read it through `/api/audit`).
const PRIVATE_KINDS: &[&str] = &["user", "api", "audit"];

fn kind_of(stream_id: &str) -> &str {
    stream_id
        .split_once('-')
        .map_or(stream_id, |(kind, _)| kind)
}

/// The payload without texts and snapshots; `SessionQueued` keeps the target and scenario names.
fn compact(event_type: &str, payload: &Value) -> Value {
    let mut data = payload.clone();
    if let Some(map) = data.as_object_mut() {
        for key in [
            "content",
            "partialContent",
            "sealed",
            "requestTemplate",
            "responseTemplate",
            "auth",
            "flowConfig",
        ] {
            map.remove(key);
        }
        if event_type == EventType::SessionQueued.as_str() {
            let name = |key: &str| {
                payload
                    .get(key)
                    .map(|s| json!({"name": s.get("name"), "id": s.get(format!("{key}Id"))}))
            };
            for key in ["target", "scenario"] {
                if let Some(short) = name(key) {
                    map.insert(key.into(), short);
                }
            }
        }
    }
    data
}

fn frame(e: &RecordedEvent, compact_payload: bool) -> Bytes {
    let recorded_at = chrono::DateTime::from_timestamp_millis(e.recorded_at_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    let payload = if compact_payload {
        compact(&e.event_type, &e.payload)
    } else {
        e.payload.clone()
    };
    let data = json!({"position": e.position, "version": e.version, "streamId": e.stream_id, "type": e.event_type, "data": payload, "recordedAt": recorded_at});
    Bytes::from(format!(
        "id: {}\nevent: {}\ndata: {data}\n\n",
        e.position,
        kind_of(&e.stream_id)
    ))
}

/// The frame of an event with its sealed texts opened (compact frames carry no texts). Should
/// the key be unreadable, the frame keeps the ciphertext, never guesses.
async fn opened_frame(store: &EventStore, mut e: RecordedEvent, compact_payload: bool) -> Bytes {
    if !compact_payload && let Err(error) = store.open_recorded(std::slice::from_mut(&mut e)).await
    {
        tracing::warn!(%error, position = e.position, "cannot open an event's texts");
    }
    frame(&e, compact_payload)
}

fn last_event_id(req: &HttpRequest, query: &GlobalStreamQuery) -> Option<i64> {
    let header = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    header.or(query.last_event_id).map(|p: i64| p.max(0))
}

/// Follow every event live (SSE).
#[utoipa::path(
    get,
    path = "/api/stream",
    tag = "node",
    params(GlobalStreamQuery),
    responses(
        (status = 200, description = "Server-sent events: every event appended to the log from `after` (or `Last-Event-ID`), then live; `id:` is the global position", content_type = "text/event-stream", body = String),
        (status = 400, response = crate::openapi::Invalid),
    )
)]
pub async fn stream_all(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: ApiQuery<GlobalStreamQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    if let Some(kind) = query.kind.as_deref().filter(|k| !KINDS.contains(k)) {
        return Err(ApiError::field(
            "kind",
            format!("must be one of {KINDS:?}, got {kind:?}"),
        ));
    }
    let head = state
        .store
        .head_position()
        .await
        .map_err(|e| ApiError::Unexpected(e.into()))?;
    // An id beyond the head (another database, a reset node) would wait for positions that
    // may never come: start from the head instead.
    let after = last_event_id(&req, &query).map_or(head, |after| after.min(head));
    let (kind, compact_payload) = (query.kind, query.compact);
    let events = state.store.subscribe(after).filter(move |e| {
        let keep = match (e, &kind) {
            (Ok(e), _) if PRIVATE_KINDS.contains(&kind_of(&e.stream_id)) => false,
            (Ok(e), Some(kind)) => kind_of(&e.stream_id) == kind,
            _ => true,
        };
        std::future::ready(keep)
    });
    let start = (Box::pin(events), state.store.clone());
    let body = stream::unfold(start, move |(mut events, store)| async move {
        let bytes = match tokio::time::timeout(HEARTBEAT, events.next()).await {
            Err(_) => Bytes::from_static(b": heartbeat\n\n"),
            Ok(None) => return None,
            // The subscription retries by itself after a read error; tell the client and go on.
            Ok(Some(Err(error))) => Bytes::from(format!(
                "event: error\ndata: {}\n\n",
                json!({"error": error.to_string()})
            )),
            Ok(Some(Ok(e))) => opened_frame(&store, e, compact_payload).await,
        };
        Some((Ok::<_, actix_web::Error>(bytes), (events, store)))
    });
    // The head position up front, so a client knows where it started even before any event.
    let prelude = Bytes::from(format!("retry: 1000\n\n: head {after}\n\n"));
    let prelude = stream::once(async move { Ok::<_, actix_web::Error>(prelude) });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache, no-transform"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(prelude.chain(body)))
}
