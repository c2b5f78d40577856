//! `GET/PUT /api/settings`: the node defaults (message timeout, target rate limit, retention,
//! webhook retry policy). A PUT is a partial update: a field left out keeps its value, `null`
//! restores the built-in default. `POST /api/settings/retention/run` runs the retention sweep now.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::domain::settings::SettingsPatch;

use super::envelope::{ApiError, Envelope, JsonAny, ok, parse_body};
use super::state::AppState;

async fn current(state: &AppState) -> Result<HttpResponse, ApiError> {
    let view = projections::queries::node_settings(&state.read).await?;
    let data = serde_json::to_value(view).map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok(ok(StatusCode::OK, data))
}

/// Show the node settings.
#[utoipa::path(
    get,
    path = "/api/settings",
    tag = "settings",
    responses(
        (status = 200, description = "The node settings", body = Envelope<JsonAny>),
    )
)]
pub async fn get_settings(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    current(&state).await
}

/// Change node settings.
#[utoipa::path(
    put,
    path = "/api/settings",
    tag = "settings",
    request_body(content = Object, content_type = "application/json", description = "The settings to change (fields left out keep their value)"),
    responses(
        (status = 200, description = "The updated settings", body = Envelope<JsonAny>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn put_settings(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let patch: SettingsPatch = parse_body(&body)?;
    if let Some(position) = state.commands.update_settings(patch).await? {
        state.caught_up(position).await?;
    }
    current(&state).await
}

/// Runs the retention sweep now; answers what it did (`retentionDays: null` when retention is off).
#[utoipa::path(
    post,
    path = "/api/settings/retention/run",
    tag = "settings",
    responses(
        (status = 200, description = "What the sweep deleted", body = Envelope<JsonAny>),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn run_retention(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let now = chrono::Utc::now().timestamp_millis();
    let run = crate::retention::sweep(&state.commands, &state.read, &state.projections, now)
        .await
        .map_err(ApiError::Unexpected)?;
    let data = serde_json::to_value(run).map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok(ok(StatusCode::OK, data))
}
