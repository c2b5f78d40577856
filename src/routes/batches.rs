//! `/api/execute/batch`: run one scenario against up to 50 targets (one session each), list
//! batches, and read one batch with its counts, progress, status and per-target sessions.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::commands::{BatchRequest, ExecutionOverrides};
use projections::queries;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::envelope::{ApiError, ok, parse_body, parse_id};
use super::state::AppState;

/// Body of `POST /api/execute/batch`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchInput {
    #[serde(default)]
    scenario_id: Option<Uuid>,
    #[serde(default)]
    target_ids: Option<Vec<Uuid>>,
    #[serde(default)]
    execution_config: Option<ExecutionOverrides>,
}

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
        json!({
            "batchId": queued.batch_id, "sessionIds": queued.session_ids,
            "total": queued.session_ids.len(), "status": "QUEUED"
        }),
    ))
}

#[derive(Debug, Deserialize)]
pub struct BatchListQuery {
    limit: Option<i64>,
    offset: Option<i64>,
}

pub async fn list_batches(
    state: web::Data<AppState>,
    q: web::Query<BatchListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 500"));
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let batches = queries::list_batches(&state.read, limit, offset).await?;
    Ok(ok(
        StatusCode::OK,
        json!({ "batches": batches, "limit": limit, "offset": offset }),
    ))
}

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
