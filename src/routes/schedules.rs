//! `/api/scheduled-jobs` (upstream-compatible): list, create, update `?id=`, delete `?id=`, and
//! one schedule with its next five runs (UTC and local) and its latest runs with their sessions.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::commands::ScheduleInput;
use actors::domain::schedule::{
    MissedRunPolicy, ScheduleSpec, next_runs, parse_cron, parse_timezone,
};
use projections::queries;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::envelope::{ApiError, ok, parse_body, parse_id};
use super::state::AppState;

/// Body of POST and PUT.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobBody {
    name: String,
    scenario_id: Uuid,
    target_ids: Vec<Uuid>,
    cron_expression: String,
    #[serde(default = "utc")]
    timezone: String,
    #[serde(default)]
    execution_config: Option<Value>,
    #[serde(default)]
    missed_run_policy: MissedRunPolicy,
    #[serde(default = "enabled")]
    is_enabled: bool,
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

#[derive(Debug, Deserialize)]
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

pub async fn list_jobs(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        queries::list_schedules(&state.read).await?,
    ))
}

pub async fn create_job(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (id, position) = state.commands.create_schedule(input(&body)?).await?;
    state.caught_up(position).await?;
    Ok(ok(StatusCode::CREATED, view(&state, id).await?))
}

pub async fn update_job(
    state: web::Data<AppState>,
    q: web::Query<IdQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = query_id(&q)?;
    let position = state.commands.update_schedule(id, input(&body)?).await?;
    state.caught_up(position).await?;
    Ok(ok(StatusCode::OK, view(&state, id).await?))
}

pub async fn delete_job(
    state: web::Data<AppState>,
    q: web::Query<IdQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = query_id(&q)?;
    let position = state.commands.delete_schedule(id).await?;
    state.caught_up(position).await?;
    Ok(ok(StatusCode::OK, json!({ "id": id, "deleted": true })))
}

/// The next five slots after now, each in UTC and in the schedule's zone.
fn upcoming(cron_expression: &str, timezone: &str) -> Vec<Value> {
    let (Ok(cron), Ok(tz)) = (parse_cron(cron_expression), parse_timezone(timezone)) else {
        return Vec::new();
    };
    next_runs(&cron, tz, chrono::Utc::now(), 5)
        .into_iter()
        .map(|t| {
            json!({
                "utc": t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "local": t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            })
        })
        .collect()
}

pub async fn get_job(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "schedule")?;
    let schedule = view(&state, id).await?;
    let runs = queries::list_runs(&state.read, &id.to_string(), 20).await?;
    let next = upcoming(&schedule.cron_expression, &schedule.timezone);
    let mut data = serde_json::to_value(schedule).map_err(|e| ApiError::Unexpected(e.into()))?;
    data["nextRuns"] = json!(next);
    data["runs"] = json!(runs);
    Ok(ok(StatusCode::OK, data))
}
