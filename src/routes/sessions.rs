//! `/api/execute` and `/api/sessions`: queue runs, list and inspect sessions, cancel, restart,
//! delete, per-message rows and the raw event stream (audit and replay).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use actors::commands::{ExecuteRequest, ExecutionOverrides};
use actors::domain::events::session_stream;
use actors::domain::idempotency::IdempotencyKey;
use actors::runtime::CancelOutcome;
use projections::queries::{self, SessionFilter};
use projections::queries::{MessageView, SessionPage, SessionView};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::envelope::{ApiError, Deleted, Envelope, ok, parse_body, parse_id};
use super::query::ApiQuery;
use super::state::AppState;

/// Body of `POST /api/execute`; overrides may sit at the top level or in `executionConfig`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ExecuteInput {
    target_id: Uuid,
    #[serde(default)]
    scenario_id: Option<Uuid>,
    /// Per-run overrides (`repetitions`, `concurrency`, `load`, `faults`, `budget`,
    /// `thresholds`…); they may also sit at the top level. See docs/load.md.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    execution_config: Option<ExecutionOverrides>,
    #[serde(flatten)]
    #[schema(ignore)]
    top_level: ExecutionOverrides,
}

/// A queued session.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Queued {
    session_id: Uuid,
    /// `QUEUED`, or for a replayed `Idempotency-Key` the first session's current status.
    status: String,
    /// `true` when an `Idempotency-Key` retry answered with the first request's session.
    replayed: bool,
}

/// What a PATCH did: `CANCELLED`, `CANCELLING` (a running session is stopping) or `QUEUED`
/// (restarted as `sessionId`, from `restartedFrom`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionAction {
    session_id: Uuid,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    restarted_from: Option<Uuid>,
}

/// Exchanges of a session after a message index, with the session's status.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    messages: Vec<MessageView>,
    status: String,
    completed_at: Option<String>,
}

/// One stored event of a session's stream.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordedEventView {
    position: i64,
    version: i64,
    event_id: Uuid,
    #[serde(rename = "type")]
    event_type: String,
    data: Value,
    recorded_at: Option<String>,
}

/// Queues a session; with an `Idempotency-Key` header, a retry (same key, same body, 24 h)
/// answers with the first request's session and its current status instead of a second run.
#[utoipa::path(
    post,
    path = "/api/execute",
    tag = "sessions",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body within 24 h answer with the first session instead of a second run")),
    request_body(content = ExecuteInput, content_type = "application/json", description = "Target, scenario and per-run overrides (at the top level or in `executionConfig`)"),
    responses(
        (status = 202, description = "Queued; the session runs in the background", body = Envelope<Queued>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn execute(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let key = match req.headers().get("idempotency-key") {
        Some(value) => {
            let value = value.to_str().unwrap_or("\u{0}");
            Some(IdempotencyKey::parse(value, &body).map_err(|e| ApiError::Invalid(vec![e]))?)
        }
        None => None,
    };
    let input: ExecuteInput = parse_body(&body)?;
    let overrides = input.execution_config.unwrap_or(input.top_level);
    let request = ExecuteRequest {
        target_id: input.target_id,
        scenario_id: input.scenario_id,
        overrides,
    };
    let (session_id, position, replayed) = match key {
        // Detached: a client that gives up mid-request must not leave the key recorded without
        // its session (the task runs to the end even when this handler is dropped).
        Some(key) => {
            let commands = state.commands.clone();
            actix_web::rt::spawn(async move { commands.execute_once(request, key).await })
                .await
                .map_err(|e| ApiError::Unexpected(e.into()))??
        }
        None => {
            let (id, position) = state.commands.execute(request).await?;
            (id, position, false)
        }
    };
    state.caught_up(position).await?;
    let status = match replayed {
        false => "QUEUED".to_string(),
        true => queries::get_session(&state.read, &session_id.to_string())
            .await?
            .map_or_else(|| "QUEUED".to_string(), |s| s.status),
    };
    Ok(ok(
        StatusCode::ACCEPTED,
        Queued {
            session_id,
            status,
            replayed,
        },
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    status: Option<String>,
    target_id: Option<String>,
    scenario_id: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

const STATUSES: &[&str] = &["QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"];

/// `status` upper-cased and checked against the statuses; 400 naming `status` otherwise.
pub fn status_filter(status: Option<String>) -> Result<Option<String>, ApiError> {
    let status = status.map(|s| s.to_uppercase());
    if let Some(s) = status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return Err(ApiError::field(
            "status",
            format!("must be one of {STATUSES:?}, got {s:?}"),
        ));
    }
    Ok(status)
}

/// The session list's filters, validated (`status` one of the statuses, `limit` 1–500,
/// `offset` ≥ 0); shared with the list export.
pub fn session_filter(q: ListQuery) -> Result<SessionFilter, ApiError> {
    let status = status_filter(q.status)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 500"));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::field("offset", "must not be negative"));
    }
    Ok(SessionFilter {
        status,
        target_id: q.target_id,
        scenario_id: q.scenario_id,
        limit,
        offset,
    })
}

/// List sessions.
#[utoipa::path(
    get,
    path = "/api/sessions",
    tag = "sessions",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of sessions, newest first, with the total", body = Envelope<SessionPage>),
        (status = 400, response = crate::openapi::Invalid),
    )
)]
pub async fn list_sessions(
    state: web::Data<AppState>,
    q: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = session_filter(q.into_inner())?;
    Ok(ok(
        StatusCode::OK,
        queries::list_sessions(&state.read, &filter).await?,
    ))
}

/// Show a session.
#[utoipa::path(
    get,
    path = "/api/sessions/{id}",
    tag = "sessions",
    params(("id" = uuid::Uuid, Path, description = "Session id")),
    responses(
        (status = 200, description = "The session with its summary", body = Envelope<SessionView>),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn get_session(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "session")?;
    let session = queries::get_session(&state.read, &id.to_string())
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    Ok(ok(StatusCode::OK, session))
}

#[derive(Debug, Deserialize, ToSchema)]
struct PatchInput {
    action: String,
}

/// Cancel or restart a session.
#[utoipa::path(
    patch,
    path = "/api/sessions/{id}",
    tag = "sessions",
    params(("id" = uuid::Uuid, Path, description = "Session id")),
    request_body(content = PatchInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Cancelled (or stopping)", body = Envelope<SessionAction>),
        (status = 202, description = "Restarted as a new queued session", body = Envelope<SessionAction>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn patch_session(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "session")?;
    let input: PatchInput = parse_body(&body)?;
    match input.action.as_str() {
        "cancel" => {
            let status = match state.commands.cancel(id).await? {
                CancelOutcome::Cancelled => "CANCELLED",
                CancelOutcome::Stopping => "CANCELLING",
            };
            Ok(ok(
                StatusCode::OK,
                SessionAction {
                    session_id: id,
                    status,
                    restarted_from: None,
                },
            ))
        }
        "restart" => {
            let (new_id, position) = state.commands.restart(id).await?;
            state.caught_up(position).await?;
            Ok(ok(
                StatusCode::ACCEPTED,
                SessionAction {
                    session_id: new_id,
                    status: "QUEUED",
                    restarted_from: Some(id),
                },
            ))
        }
        other => Err(ApiError::field(
            "action",
            format!("must be \"cancel\" or \"restart\", got {other:?}"),
        )),
    }
}

/// Delete a session.
#[utoipa::path(
    delete,
    path = "/api/sessions/{id}",
    tag = "sessions",
    params(("id" = uuid::Uuid, Path, description = "Session id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn delete_session(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "session")?;
    let position = state.commands.delete_session(id).await?;
    state.caught_up(position).await?;
    Ok(ok(StatusCode::OK, Deleted::new(id)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

/// List a session's exchanges.
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/messages",
    tag = "sessions",
    params(("id" = uuid::Uuid, Path, description = "Session id"), MessagesQuery),
    responses(
        (status = 200, description = "Exchanges after `after`, with the session status", body = Envelope<MessagePage>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn list_messages(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: ApiQuery<MessagesQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "session")?.to_string();
    let session = queries::get_session(&state.read, &id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    let limit = q.limit.unwrap_or(1000).clamp(1, 10_000);
    let messages = queries::list_messages(&state.read, &id, q.after.unwrap_or(-1), limit).await?;
    Ok(ok(
        StatusCode::OK,
        MessagePage {
            messages,
            status: session.status,
            completed_at: session.completed_at,
        },
    ))
}

/// Paging of `GET /api/sessions/{id}/events`: events with `version > afterVersion`, at most
/// `limit` (default and maximum [`MAX_EVENTS_PAGE`]).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    after_version: Option<i64>,
    limit: Option<i64>,
}

/// Most events one `/events` page returns.
pub const MAX_EVENTS_PAGE: i64 = 5_000;

/// Read a session's events.
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/events",
    tag = "sessions",
    params(("id" = uuid::Uuid, Path, description = "Session id"), EventsQuery),
    responses(
        (status = 200, description = "The session's raw event stream (audit and replay)", body = Envelope<Vec<RecordedEventView>>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn list_events(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: ApiQuery<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "session")?;
    let limit = q.limit.unwrap_or(MAX_EVENTS_PAGE);
    if !(1..=MAX_EVENTS_PAGE).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            format!("must be between 1 and {MAX_EVENTS_PAGE}"),
        ));
    }
    let after = q.after_version.unwrap_or(0);
    let store = state.commands.store();
    let stream = session_stream(id);
    let mut events = store
        .read_stream_page(&stream, after, limit)
        .await
        .map_err(|e| ApiError::Unexpected(e.into()))?;
    super::stream::open_history(store, &mut events).await?;
    let exists = !events.is_empty()
        || !store
            .read_stream_page(&stream, 0, 1)
            .await
            .map_err(|e| ApiError::Unexpected(e.into()))?
            .is_empty();
    if !exists {
        return Err(ApiError::NotFound("session"));
    }
    let out: Vec<_> = events
        .into_iter()
        .map(|e| RecordedEventView {
            position: e.position,
            version: e.version,
            event_id: e.event_id,
            event_type: e.event_type,
            data: e.payload,
            recorded_at: chrono::DateTime::from_timestamp_millis(e.recorded_at_ms)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        })
        .collect();
    Ok(ok(StatusCode::OK, out))
}
