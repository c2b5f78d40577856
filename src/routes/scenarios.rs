//! `/api/scenarios`: list, create, show, replace, delete (one canonical scenario schema).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::domain::scenario_input::parse_scenario;
use projections::queries;
use projections::queries::ScenarioView;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::envelope::{ApiError, Deleted, Envelope, ok, parse_body, parse_id};
use super::query::ApiQuery;
use super::references::{DeleteQuery, Referrer, clear_references};
use super::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    search: Option<String>,
}

/// List scenarios.
#[utoipa::path(
    get,
    path = "/api/scenarios",
    tag = "scenarios",
    params(ListQuery),
    responses(
        (status = 200, description = "Every scenario", body = Envelope<Vec<ScenarioView>>),
        (status = 400, response = crate::openapi::Invalid),
    )
)]
pub async fn list_scenarios(
    state: web::Data<AppState>,
    q: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        queries::list_scenarios(&state.read, q.search.as_deref()).await?,
    ))
}

async fn show(state: &AppState, id: &str) -> Result<HttpResponse, ApiError> {
    let scenario = queries::get_scenario(&state.read, id)
        .await?
        .ok_or(ApiError::NotFound("scenario"))?;
    Ok(ok(StatusCode::OK, scenario))
}

/// Create a scenario.
#[utoipa::path(
    post,
    path = "/api/scenarios",
    tag = "scenarios",
    request_body(content = Object, content_type = "application/json", description = "A scenario: `name`, `flowConfig` steps and settings (canonical schema; legacy shapes accepted). See docs/load.md and docs/report.md"),
    responses(
        (status = 201, description = "Created", body = Envelope<ScenarioView>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn create_scenario(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let raw: Value = parse_body(&body)?;
    let spec = parse_scenario(&raw).map_err(ApiError::Invalid)?;
    let (id, position) = state.commands.create_scenario(spec).await?;
    state.caught_up(position).await?;
    let scenario = queries::get_scenario(&state.read, &id.to_string())
        .await?
        .ok_or(ApiError::NotFound("scenario"))?;
    Ok(ok(StatusCode::CREATED, scenario))
}

/// Show a scenario.
#[utoipa::path(
    get,
    path = "/api/scenarios/{id}",
    tag = "scenarios",
    params(("id" = uuid::Uuid, Path, description = "Scenario id")),
    responses(
        (status = 200, description = "The scenario", body = Envelope<ScenarioView>),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn get_scenario(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    show(&state, &parse_id(&path, "scenario")?.to_string()).await
}

/// Replace a scenario.
#[utoipa::path(
    put,
    path = "/api/scenarios/{id}",
    tag = "scenarios",
    params(("id" = uuid::Uuid, Path, description = "Scenario id")),
    request_body(content = Object, content_type = "application/json", description = "The whole scenario (replace)"),
    responses(
        (status = 200, description = "Replaced", body = Envelope<ScenarioView>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn update_scenario(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "scenario")?;
    let raw: Value = parse_body(&body)?;
    let spec = parse_scenario(&raw).map_err(ApiError::Invalid)?;
    let position = state.commands.update_scenario(id, spec).await?;
    state.caught_up(position).await?;
    show(&state, &id.to_string()).await
}

/// Delete a scenario.
#[utoipa::path(
    delete,
    path = "/api/scenarios/{id}",
    tag = "scenarios",
    params(("id" = uuid::Uuid, Path, description = "Scenario id"), DeleteQuery),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn delete_scenario(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: ApiQuery<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    clear_references(&state, Referrer::Scenario, &path, &q).await?;
    let id = parse_id(&path, "scenario")?;
    let position = state.commands.delete_scenario(id).await?;
    state.caught_up(position).await?;
    Ok(ok(StatusCode::OK, Deleted::new(id)))
}
