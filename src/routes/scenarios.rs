//! `/api/scenarios`: list, create, show, replace, delete (one canonical scenario schema).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::domain::scenario_input::parse_scenario;
use projections::queries;
use serde::Deserialize;
use serde_json::Value;

use super::envelope::{ApiError, ok, parse_body, parse_id};
use super::references::{DeleteQuery, Referrer, clear_references};
use super::state::AppState;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    search: Option<String>,
}

pub async fn list_scenarios(
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
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

pub async fn get_scenario(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    show(&state, &parse_id(&path, "scenario")?.to_string()).await
}

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

pub async fn delete_scenario(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    clear_references(&state, Referrer::Scenario, &path, &q).await?;
    let id = parse_id(&path, "scenario")?;
    let position = state.commands.delete_scenario(id).await?;
    state.caught_up(position).await?;
    Ok(ok(
        StatusCode::OK,
        serde_json::json!({ "id": id, "deleted": true }),
    ))
}
