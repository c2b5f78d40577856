//! Target pages: `/targets` (filterable, sortable list), `/targets/new` (preset or blank),
//! `/targets/{id}` (details and streamed test connection) and `/targets/{id}/edit`.

use actix_web::{HttpResponse, web};
use actors::domain::presets::{Preset, presets};
use projections::queries::{self, TargetView};
use sailfish::TemplateSimple;
use serde::Serialize;
use uuid::Uuid;

use super::render::{Layout, PageError, html};
use super::target_form::TargetForm;
use crate::routes::AppState;

/// One row of the targets list.
pub(super) struct TargetRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub connector_type: String,
    pub endpoint: String,
    pub auth_type: String,
    pub last_test: LastTest,
}

/// The outcome of a target's most recent connection test, for display.
pub(super) struct LastTest {
    /// `passed`, `failed` or `never` (also the sort key of the list column).
    pub state: &'static str,
    pub at: String,
    /// `at` for people: `2026-11-26 04:53:26 UTC`.
    pub at_display: String,
    pub error: String,
}

impl LastTest {
    fn of(t: &TargetView) -> Self {
        let state = match t.last_test_success {
            Some(true) => "passed",
            Some(false) => "failed",
            None => "never",
        };
        let at = t.last_test_at.clone().unwrap_or_default();
        let at_display = match at.get(..19) {
            Some(prefix) => format!("{} UTC", prefix.replace('T', " ")),
            None => at.clone(),
        };
        Self {
            state,
            at,
            at_display,
            error: t.last_test_error.clone().unwrap_or_default(),
        }
    }
}

impl TargetRow {
    fn of(t: &TargetView) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            description: t.description.clone().unwrap_or_default(),
            connector_type: t.connector_type.clone(),
            endpoint: t.endpoint.clone(),
            auth_type: t.auth_type.clone(),
            last_test: LastTest::of(t),
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "targets/index.stpl")]
struct TargetsIndex {
    page: Layout,
    targets: Vec<TargetRow>,
}

#[derive(TemplateSimple)]
#[template(path = "targets/new.stpl")]
struct TargetNew {
    page: Layout,
    form: TargetForm,
    presets: Vec<Preset>,
    presets_json: String,
}

#[derive(TemplateSimple)]
#[template(path = "targets/edit.stpl")]
struct TargetEdit {
    page: Layout,
    form: TargetForm,
}

#[derive(TemplateSimple)]
#[template(path = "targets/show.stpl")]
struct TargetShow {
    page: Layout,
    target: TargetRow,
    preset_id: String,
    auth_json: String,
    request_json: String,
    response_json: String,
    protocol_json: String,
    created_at: String,
    updated_at: String,
}

/// JSON for a `<script type="application/json">` block: `<`, `>` and `&` are escaped so the
/// text can never close the script element.
pub(super) fn script_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "null".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Pretty JSON for display (`<%= %>` escapes it).
pub(super) fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Loads a target by its path id; malformed and unknown ids are both "not found".
async fn load(state: &AppState, raw: &str) -> Result<TargetView, PageError> {
    let id = Uuid::parse_str(raw).map_err(|_| PageError::NotFound("target"))?;
    queries::get_target(&state.read, &id.to_string())
        .await?
        .ok_or(PageError::NotFound("target"))
}

pub async fn index(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let targets = queries::list_targets(&state.read, None).await?;
    html(TargetsIndex {
        page: Layout::new("Targets", "targets"),
        targets: targets.iter().map(TargetRow::of).collect(),
    })
}

pub async fn new() -> Result<HttpResponse, PageError> {
    let presets = presets();
    html(TargetNew {
        page: Layout::new("New target", "targets"),
        form: TargetForm::blank(),
        presets_json: script_json(&presets),
        presets,
    })
}

pub async fn show(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let t = load(&state, &path).await?;
    html(TargetShow {
        page: Layout::new(t.name.clone(), "targets"),
        target: TargetRow::of(&t),
        preset_id: t.preset_id.clone().unwrap_or_default(),
        auth_json: pretty(&t.auth_config),
        request_json: pretty(&t.request_template),
        response_json: pretty(&t.response_template),
        protocol_json: t.protocol_config.as_ref().map(pretty).unwrap_or_default(),
        created_at: t.created_at.clone(),
        updated_at: t.updated_at.clone(),
    })
}

pub async fn edit(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let t = load(&state, &path).await?;
    html(TargetEdit {
        page: Layout::new(format!("Edit {}", t.name), "targets"),
        form: TargetForm::of(&t),
    })
}
