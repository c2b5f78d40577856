//! `/api/scheduled-jobs` (upstream-compatible): list, create, update `?id=`, delete `?id=`, and
//! one schedule with its next five runs (UTC and local) and its latest runs with their sessions.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::commands::ScheduleInput;
use actors::domain::schedule::{
    MissedRunPolicy, ScheduleSpec, next_runs, parse_cron, parse_timezone,
};
use projections::queries::{self, RunView, ScheduleView};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::envelope::{ApiError, Deleted, Envelope, ok, parse_body, parse_id};
use super::query::ApiQuery;
use super::state::AppState;

/// Body of POST and PUT.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct JobBody {
    name: String,
    scenario_id: Uuid,
    target_ids: Vec<Uuid>,
    cron_expression: String,
    #[serde(default = "utc")]
    timezone: String,
    /// Per-run overrides for every session (see `POST /api/execute`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    execution_config: Option<Value>,
    #[serde(default)]
    missed_run_policy: MissedRunPolicy,
    #[serde(default = "enabled")]
    is_enabled: bool,
}

/// A schedule with its next five slots and its latest runs (`GET /api/scheduled-jobs/{id}`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleDetail {
    #[serde(flatten)]
    schedule: ScheduleView,
    next_runs: Vec<NextRun>,
    runs: Vec<RunView>,
}

/// One coming slot, in UTC and in the schedule's time zone (RFC 3339).
#[derive(Debug, Serialize, ToSchema)]
pub struct NextRun {
    utc: String,
    local: String,
}

fn utc() -> String {
    "UTC".into()
}

fn enabled() -> bool {
    true
}

fn input(body: &[u8]) -> Result<ScheduleInput, ApiError> {
    let b: JobBody = parse_body(body)?;
    Ok(ScheduleInput {
        spec: ScheduleSpec {
            name: b.name,
            scenario_id: b.scenario_id,
            target_ids: b.target_ids,
            cron_expression: b.cron_expression,
            timezone: b.timezone,
            execution_config: b.execution_config,
            missed_run_policy: b.missed_run_policy,
        },
        is_enabled: b.is_enabled,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdQuery {
    id: Option<String>,
}

fn query_id(q: &IdQuery) -> Result<Uuid, ApiError> {
    let raw =
        q.id.as_deref()
            .ok_or_else(|| ApiError::field("id", "is required"))?;
    parse_id(raw, "schedule")
}

async fn view(state: &AppState, id: Uuid) -> Result<queries::ScheduleView, ApiError> {
    queries::get_schedule(&state.read, &id.to_string())
        .await?
        .ok_or(ApiError::NotFound("schedule"))
}

/// List schedules.
#[utoipa::path(
    get,
    path = "/api/scheduled-jobs",
    tag = "schedules",
    responses(
        (status = 200, description = "Every schedule", body = Envelope<Vec<ScheduleView>>),
    )
)]
pub async fn list_jobs(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        queries::list_schedules(&state.read).await?,
    ))
}

/// Create a schedule.
#[utoipa::path(
    post,
    path = "/api/scheduled-jobs",
    tag = "schedules",
    request_body(content = JobBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = Envelope<ScheduleView>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn create_job(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (id, position) = state.commands.create_schedule(input(&body)?).await?;
    state.caught_up(position).await?;
    Ok(ok(StatusCode::CREATED, view(&state, id).await?))
}

/// Replace a schedule.
#[utoipa::path(
    put,
    path = "/api/scheduled-jobs",
    tag = "schedules",
    params(IdQuery),
    request_body(content = JobBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Replaced", body = Envelope<ScheduleView>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn update_job(
    state: web::Data<AppState>,
    q: ApiQuery<IdQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = query_id(&q)?;
    let position = state.commands.update_schedule(id, input(&body)?).await?;
    state.caught_up(position).await?;
    Ok(ok(StatusCode::OK, view(&state, id).await?))
}

/// Delete a schedule.
#[utoipa::path(
    delete,
    path = "/api/scheduled-jobs",
    tag = "schedules",
    params(IdQuery),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn delete_job(
    state: web::Data<AppState>,
    q: ApiQuery<IdQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = query_id(&q)?;
    let position = state.commands.delete_schedule(id).await?;
    state.caught_up(position).await?;
    Ok(ok(StatusCode::OK, Deleted::new(id)))
}

/// The next five slots after now, each in UTC and in the schedule's zone.
fn upcoming(cron_expression: &str, timezone: &str) -> Vec<NextRun> {
    let (Ok(cron), Ok(tz)) = (parse_cron(cron_expression), parse_timezone(timezone)) else {
        return Vec::new();
    };
    next_runs(&cron, tz, chrono::Utc::now(), 5)
        .into_iter()
        .map(|t| NextRun {
            utc: t
                .with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            local: t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        })
        .collect()
}

/// Show a schedule.
#[utoipa::path(
    get,
    path = "/api/scheduled-jobs/{id}",
    tag = "schedules",
    params(("id" = uuid::Uuid, Path, description = "Schedule id")),
    responses(
        (status = 200, description = "The schedule with its next five runs and its latest runs", body = Envelope<ScheduleDetail>),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn get_job(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "schedule")?;
    let schedule = view(&state, id).await?;
    let runs = queries::list_runs(&state.read, &id.to_string(), 20).await?;
    let next_runs = upcoming(&schedule.cron_expression, &schedule.timezone);
    Ok(ok(
        StatusCode::OK,
        ScheduleDetail {
            schedule,
            next_runs,
            runs,
        },
    ))
}
