//! Scenario editor: `/scenarios/new` (with the template gallery) and `/scenarios/{id}/edit`.
//! The page embeds the canonical scenario, the real template variables and the templates; the
//! sidebar form and the flow builder (`assets/js/flow-builder.js`) edit them in the browser.

use actix_web::{HttpResponse, web};
use actors::domain::scenario::{ScenarioSpec, max_messages_per_repetition};
use actors::domain::template::BUILTIN_VARIABLES;
use actors::domain::templates::{ScenarioTemplate, scenario_templates};
use sailfish::TemplateSimple;
use serde_json::Value;

use super::render::{Layout, PageError, html};
use super::scenarios::load;
use super::targets::script_json;
use crate::routes::AppState;

/// A card of the template gallery.
pub(super) struct TemplateCard {
    pub id: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub messages: u64,
    pub repetitions: u32,
    pub concurrency: u32,
    pub delay_ms: u64,
    pub verbosity: String,
}

impl TemplateCard {
    fn of(t: &ScenarioTemplate) -> Self {
        let s = &t.scenario;
        Self {
            id: t.id.to_string(),
            name: s.name.clone(),
            description: s.description.clone().unwrap_or_default(),
            category: s.category.clone(),
            messages: max_messages_per_repetition(&s.flow_config),
            repetitions: s.repetitions,
            concurrency: s.concurrency,
            delay_ms: s.delay_between_ms,
            verbosity: serde_json::to_value(s.verbosity_level)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "scenarios/editor.stpl")]
struct EditorPage {
    page: Layout,
    /// Empty for a new scenario.
    scenario_id: String,
    heading: String,
    templates: Vec<TemplateCard>,
    scenario_json: String,
    builtins_json: String,
    templates_json: String,
}

fn editor(
    title: String,
    scenario_id: String,
    scenario: &Value,
    with_templates: bool,
) -> Result<HttpResponse, PageError> {
    let templates = if with_templates {
        scenario_templates()
    } else {
        Vec::new()
    };
    html(EditorPage {
        page: Layout::new(title.clone(), "scenarios"),
        scenario_id,
        heading: title,
        templates: templates.iter().map(TemplateCard::of).collect(),
        scenario_json: script_json(scenario),
        builtins_json: script_json(&BUILTIN_VARIABLES),
        templates_json: script_json(&templates),
    })
}

pub async fn new() -> Result<HttpResponse, PageError> {
    editor("New scenario".into(), String::new(), &Value::Null, true)
}

pub async fn edit(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let view = load(&state, &path).await?;
    // Re-serialise through the canonical type so every field is present for the form.
    let spec = serde_json::from_value::<ScenarioSpec>(view.spec.clone())
        .ok()
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or(view.spec);
    let name = spec
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("scenario");
    editor(format!("Edit {name}"), view.id, &spec, false)
}
