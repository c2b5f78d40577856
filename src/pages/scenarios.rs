//! Scenario list: `/scenarios` (search, execute on a target, edit, YAML export and import,
//! delete); `/scenarios/{id}` redirects to the editor.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use actors::domain::scenario::{ScenarioSpec, max_messages_per_repetition};
use projections::queries::{self, ScenarioView};
use sailfish::TemplateSimple;
use serde::Deserialize;
use uuid::Uuid;

use super::render::{Layout, PageError, html};
use crate::routes::AppState;

/// One row of the scenario list.
pub(super) struct ScenarioRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub steps: usize,
    pub messages: u64,
    pub repetitions: u32,
    pub concurrency: u32,
    pub updated_at: String,
}

impl ScenarioRow {
    fn of(view: &ScenarioView) -> Self {
        let spec: Option<ScenarioSpec> = serde_json::from_value(view.spec.clone()).ok();
        let text = |key: &str| {
            view.spec
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        Self {
            id: view.id.clone(),
            name: text("name"),
            description: text("description"),
            category: text("category"),
            steps: spec.as_ref().map_or(0, |s| s.flow_config.len()),
            messages: spec
                .as_ref()
                .map_or(0, |s| max_messages_per_repetition(&s.flow_config)),
            repetitions: spec.as_ref().map_or(0, |s| s.repetitions),
            concurrency: spec.as_ref().map_or(0, |s| s.concurrency),
            updated_at: view.updated_at.clone(),
        }
    }
}

/// A target the execute dialog offers.
pub(super) struct TargetOption {
    pub id: String,
    pub name: String,
    pub connector_type: String,
}

#[derive(TemplateSimple)]
#[template(path = "scenarios/index.stpl")]
struct ScenariosIndex {
    page: Layout,
    search: String,
    scenarios: Vec<ScenarioRow>,
    targets: Vec<TargetOption>,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    search: Option<String>,
}

pub async fn index(
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let search = q.search.clone().unwrap_or_default();
    let filter = Some(search.trim()).filter(|s| !s.is_empty());
    let scenarios = queries::list_scenarios(&state.read, filter).await?;
    let targets = queries::list_targets(&state.read, None).await?;
    html(ScenariosIndex {
        page: Layout::new("Scenarios", "scenarios"),
        search,
        scenarios: scenarios.iter().map(ScenarioRow::of).collect(),
        targets: targets
            .into_iter()
            .map(|t| TargetOption {
                id: t.id,
                name: t.name,
                connector_type: t.connector_type,
            })
            .collect(),
    })
}

/// Loads a scenario by its path id; malformed and unknown ids are both "not found".
pub(super) async fn load(state: &AppState, raw: &str) -> Result<ScenarioView, PageError> {
    let id = Uuid::parse_str(raw).map_err(|_| PageError::NotFound("scenario"))?;
    queries::get_scenario(&state.read, &id.to_string())
        .await?
        .ok_or(PageError::NotFound("scenario"))
}

/// `/scenarios/{id}`: the editor is the scenario's page.
pub async fn show(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let view = load(&state, &path).await?;
    Ok(HttpResponse::Found()
        .insert_header((LOCATION, format!("/scenarios/{}/edit", view.id)))
        .finish())
}
