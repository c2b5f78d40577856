//! Test connection: `POST /api/targets/{id}/test` (JSON result) and
//! `GET /api/targets/{id}/test/stream` (SSE events `step`, `raw_response`, `error`, `result`).

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use actors::runtime::ProbeEvent;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use utoipa::{IntoParams, ToSchema};

use super::envelope::{ApiError, Envelope, JsonObject, ok, parse_body, parse_id};
use super::query::ApiQuery;
use super::state::AppState;

const DEFAULT_MESSAGE: &str = "Hello! This is a connection test from Krawall.";

#[derive(Debug, Default, Deserialize, IntoParams, ToSchema)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TestInput {
    test_message: Option<String>,
    timeout_ms: Option<u64>,
}

fn settings(input: TestInput) -> Result<(String, Duration), ApiError> {
    let timeout = input.timeout_ms.unwrap_or(10_000);
    if !(1_000..=60_000).contains(&timeout) {
        return Err(ApiError::field(
            "timeoutMs",
            "must be between 1000 and 60000",
        ));
    }
    let message = input
        .test_message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_MESSAGE.into());
    Ok((message, Duration::from_millis(timeout)))
}

/// Test a target's connection.
#[utoipa::path(
    post,
    path = "/api/targets/{id}/test",
    tag = "targets",
    params(("id" = uuid::Uuid, Path, description = "Target id")),
    request_body(content = Option<TestInput>, content_type = "application/json", description = "Optional: the test message and timeout"),
    responses(
        (status = 200, description = "The probe result: connect, health, one message, disconnect", body = Envelope<JsonObject>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn test_target(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "target")?;
    let input: TestInput = if body.is_empty() {
        TestInput::default()
    } else {
        parse_body(&body)?
    };
    let (message, timeout) = settings(input)?;
    let (tx, _rx) = mpsc::channel(64);
    let (result, position) = state.commands.test_target(id, message, timeout, tx).await?;
    state.caught_up(position).await?;
    Ok(ok(StatusCode::OK, result))
}

fn sse_frame(event: &ProbeEvent) -> Bytes {
    let value = serde_json::to_value(event).unwrap_or_default();
    let name = value["event"].as_str().unwrap_or("step").to_string();
    Bytes::from(format!("event: {name}\ndata: {}\n\n", value["data"]))
}

/// Test a target's connection, step by step (SSE).
#[utoipa::path(
    get,
    path = "/api/targets/{id}/test/stream",
    tag = "targets",
    params(("id" = uuid::Uuid, Path, description = "Target id"), TestInput),
    responses(
        (status = 200, description = "Server-sent events `step`, `raw_response`, `error`, `result` of one connection test", content_type = "text/event-stream", body = String),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn test_target_stream(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: ApiQuery<TestInput>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "target")?;
    let (message, timeout) = settings(query.into_inner())?;
    state.commands.connection(id).await?;
    let (tx, rx) = mpsc::channel(64);
    let commands = state.commands.clone();
    actix_web::rt::spawn(async move {
        if let Err(e) = commands.test_target(id, message, timeout, tx.clone()).await {
            let _ = tx
                .send(ProbeEvent::Error {
                    message: e.to_string(),
                })
                .await;
        }
    });
    let body = ReceiverStream::new(rx).map(|e| Ok::<_, actix_web::Error>(sse_frame(&e)));
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache, no-transform"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}
