//! `/api/compare`: A/B comparisons of two completed sessions (upstream's fields plus real
//! statistics; see `docs/report.md`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::commands::ComparisonInput;
use projections::queries;
use serde::Deserialize;
use uuid::Uuid;

use super::envelope::{ApiError, Envelope, JsonAny, ok, parse_body, parse_id};
use super::query::ApiQuery;
use super::state::AppState;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CompareBody {
    name: String,
    #[serde(default)]
    description: Option<String>,
    session_a_id: Uuid,
    session_b_id: Uuid,
}

/// `POST /api/compare {name, description?, sessionAId, sessionBId}` → 201 with the comparison.
#[utoipa::path(
    post,
    path = "/api/compare",
    tag = "metrics",
    request_body(content = CompareBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The comparison", body = Envelope<JsonAny>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn create_comparison(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: CompareBody = parse_body(&body)?;
    let input = ComparisonInput {
        name: body.name,
        description: body.description,
        session_a_id: body.session_a_id,
        session_b_id: body.session_b_id,
    };
    let (id, position) = state.commands.create_comparison(input).await?;
    state.caught_up(position).await?;
    let view = queries::get_comparison(&state.read, &id.to_string())
        .await?
        .ok_or(ApiError::NotFound("comparison"))?;
    Ok(ok(StatusCode::CREATED, view))
}

/// `GET /api/compare/{id}`.
#[utoipa::path(
    get,
    path = "/api/compare/{id}",
    tag = "metrics",
    params(("id" = uuid::Uuid, Path, description = "Comparison id")),
    responses(
        (status = 200, description = "The comparison", body = Envelope<JsonAny>),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn get_comparison(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "comparison")?.to_string();
    let view = queries::get_comparison(&state.read, &id)
        .await?
        .ok_or(ApiError::NotFound("comparison"))?;
    Ok(ok(StatusCode::OK, view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /api/compare?limit&offset` (limit at most 50, like upstream).
#[utoipa::path(
    get,
    path = "/api/compare",
    tag = "metrics",
    params(ListQuery),
    responses(
        (status = 200, description = "Comparisons, newest first", body = Envelope<JsonAny>),
        (status = 400, response = crate::openapi::Invalid),
    )
)]
pub async fn list_comparisons(
    state: web::Data<AppState>,
    q: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = q.limit.unwrap_or(20);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 50"));
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let list = queries::list_comparisons(&state.read, limit, offset).await?;
    Ok(ok(StatusCode::OK, list))
}
