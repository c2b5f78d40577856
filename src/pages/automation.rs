//! `/webhooks` (each webhook with its latest deliveries, every attempt, test and redeliver
//! buttons) and `/schedules`, `/schedules/{id}` (cron, zone, next runs in UTC and local time,
//! the runs and the sessions they started). Writes go through the JSON API.

use actix_web::{HttpResponse, web};
use actors::domain::schedule::{
    MissedRunPolicy, next_runs, parse_cron, parse_timezone, timezone_names,
};
use actors::domain::webhook::WebhookEvent;
use projections::queries::{self, DeliveryView, NamedRef, RunView, ScheduleView, WebhookView};
use sailfish::TemplateSimple;

use super::render::{Layout, PageError, html};
use crate::routes::AppState;

#[derive(TemplateSimple)]
#[template(path = "webhooks/index.stpl")]
struct WebhooksPage {
    page: Layout,
    hooks: Vec<(WebhookView, Vec<DeliveryView>)>,
    /// Wire names of the events the create form offers.
    events: Vec<&'static str>,
}

#[derive(TemplateSimple)]
#[template(path = "schedules/index.stpl")]
struct SchedulesPage {
    page: Layout,
    schedules: Vec<(ScheduleView, String)>,
    scenarios: Vec<NamedRef>,
    targets: Vec<NamedRef>,
    zones: Vec<&'static str>,
    policies: Vec<&'static str>,
}

#[derive(TemplateSimple)]
#[template(path = "schedules/show.stpl")]
struct SchedulePage {
    page: Layout,
    schedule: ScheduleView,
    /// (UTC, local) of the next five slots.
    next: Vec<(String, String)>,
    runs: Vec<RunView>,
}

pub async fn webhooks(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let mut hooks = Vec::new();
    for hook in queries::list_webhooks(&state.read).await? {
        let deliveries = queries::list_deliveries(&state.read, &hook.id, 20).await?;
        hooks.push((hook, deliveries));
    }
    html(WebhooksPage {
        page: Layout::new("Webhooks", "webhooks"),
        hooks,
        events: WebhookEvent::SUBSCRIBABLE
            .map(WebhookEvent::as_str)
            .to_vec(),
    })
}

fn upcoming(s: &ScheduleView, n: usize) -> Vec<(String, String)> {
    let (Ok(cron), Ok(tz)) = (parse_cron(&s.cron_expression), parse_timezone(&s.timezone)) else {
        return Vec::new();
    };
    next_runs(&cron, tz, chrono::Utc::now(), n)
        .into_iter()
        .map(|t| {
            let utc = t.with_timezone(&chrono::Utc);
            (
                utc.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                t.format("%Y-%m-%d %H:%M:%S %Z").to_string(),
            )
        })
        .collect()
}

pub async fn schedules(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let schedules = queries::list_schedules(&state.read)
        .await?
        .into_iter()
        .map(|s| {
            let next = upcoming(&s, 1)
                .into_iter()
                .next()
                .map_or("–".into(), |n| n.1);
            (s, next)
        })
        .collect();
    html(SchedulesPage {
        page: Layout::new("Schedules", "schedules"),
        schedules,
        scenarios: queries::scenario_names(&state.read, 500).await?,
        targets: queries::target_names(&state.read, 500).await?,
        zones: timezone_names(),
        policies: MissedRunPolicy::ALL.map(MissedRunPolicy::as_str).to_vec(),
    })
}

pub async fn schedule(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = uuid::Uuid::parse_str(&path).map_err(|_| PageError::NotFound("schedule"))?;
    let schedule = queries::get_schedule(&state.read, &id.to_string())
        .await?
        .ok_or(PageError::NotFound("schedule"))?;
    let runs = queries::list_runs(&state.read, &id.to_string(), 50).await?;
    html(SchedulePage {
        page: Layout::new(format!("Schedule {}", schedule.name), "schedules"),
        next: upcoming(&schedule, 5),
        schedule,
        runs,
    })
}
