//! `/api/execute/batch`: run one scenario against up to 50 targets (one session each), list
//! batches, and read one batch with its counts, progress, status and per-target sessions.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::commands::{BatchRequest, ExecutionOverrides};
use projections::queries::{self, BatchDetail, BatchView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::envelope::{ApiError, Envelope, ok, parse_body, parse_id};
use super::query::ApiQuery;
use super::state::AppState;

/// Body of `POST /api/execute/batch`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct BatchInput {
    #[serde(default)]
    scenario_id: Option<Uuid>,
    #[serde(default)]
    target_ids: Option<Vec<Uuid>>,
    /// Per-run overrides for every session of the batch (see `POST /api/execute`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    execution_config: Option<ExecutionOverrides>,
}

/// A queued batch: one session per target, in the order of `targetIds`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchQueued {
    batch_id: Uuid,
    session_ids: Vec<Uuid>,
    total: usize,
    /// `QUEUED`.
    status: &'static str,
}

/// A page of batches.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchPage {
    batches: Vec<BatchView>,
    limit: i64,
    offset: i64,
}

/// Run a scenario against many targets.
#[utoipa::path(
    post,
    path = "/api/execute/batch",
    tag = "batches",
    request_body(content = BatchInput, content_type = "application/json"),
    responses(
        (status = 202, description = "Queued: one session per target", body = Envelope<BatchQueued>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn execute_batch(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let input: BatchInput = parse_body(&body)?;
    let scenario_id = input
        .scenario_id
        .ok_or_else(|| ApiError::field("scenarioId", "is required"))?;
    let target_ids = input
        .target_ids
        .ok_or_else(|| ApiError::field("targetIds", "is required"))?;
    let req = BatchRequest {
        scenario_id,
        target_ids,
        overrides: input.execution_config.unwrap_or_default(),
        batch_id: None,
    };
    let queued = state.commands.execute_batch(req).await?;
    state.caught_up(queued.position).await?;
    Ok(ok(
        StatusCode::ACCEPTED,
        BatchQueued {
            batch_id: queued.batch_id,
            total: queued.session_ids.len(),
            session_ids: queued.session_ids,
            status: "QUEUED",
        },
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchListQuery {
    limit: Option<i64>,
    offset: Option<i64>,
}

/// List batches.
#[utoipa::path(
    get,
    path = "/api/execute/batch",
    tag = "batches",
    params(BatchListQuery),
    responses(
        (status = 200, description = "A page of batches, newest first", body = Envelope<BatchPage>),
        (status = 400, response = crate::openapi::Invalid),
    )
)]
pub async fn list_batches(
    state: web::Data<AppState>,
    q: ApiQuery<BatchListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 500"));
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let batches = queries::list_batches(&state.read, limit, offset).await?;
    Ok(ok(
        StatusCode::OK,
        BatchPage {
            batches,
            limit,
            offset,
        },
    ))
}

/// Show a batch.
#[utoipa::path(
    get,
    path = "/api/execute/batch/{id}",
    tag = "batches",
    params(("id" = uuid::Uuid, Path, description = "Batch id")),
    responses(
        (status = 200, description = "The batch with its sessions", body = Envelope<BatchDetail>),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn get_batch(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "batch")?;
    let batch = queries::get_batch(&state.read, &id.to_string())
        .await?
        .ok_or(ApiError::NotFound("batch"))?;
    Ok(ok(StatusCode::OK, batch))
}
