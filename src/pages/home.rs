//! `/`: the command center. Running sessions (elapsed time ticking, counts and status pushed by
//! `GET /api/stream`), totals, quick execute and recent activity; a fresh install gets an empty
//! state leading to `/targets/new`. `assets/js/home.js` does the live part.

use actix_web::{HttpResponse, web};
use projections::queries::{self, DashboardTotals, NamedRef};
use sailfish::TemplateSimple;

use super::render::{Layout, PageError, html};
use super::sessions::{RowView, fmt_int, now_ms};
use crate::routes::AppState;

const RUNNING_LIMIT: i64 = 50;
const ACTIVITY_LIMIT: i64 = 10;
const PICKER_LIMIT: i64 = 500;

/// The totals cards, preformatted; raw numbers ride along for the live updates.
struct Totals {
    raw: DashboardTotals,
    error_rate: String,
}

impl Totals {
    fn fmt(&self, n: i64) -> String {
        fmt_int(n)
    }
}

#[derive(TemplateSimple)]
#[template(path = "home/index.stpl")]
struct HomePage {
    page: Layout,
    totals: Totals,
    running: Vec<RowView>,
    recent: Vec<RowView>,
    targets: Vec<NamedRef>,
    scenarios: Vec<NamedRef>,
    /// The live feed resumes from here: the read models included at least this position
    /// when the page was read, so no event between the page and the feed is lost.
    stream_from: i64,
}

pub async fn show_home(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let stream_from = state.projections.position();
    let now = now_ms();
    let pool = &state.read;
    let raw = queries::dashboard_totals(pool, now).await?;
    let running = queries::active_sessions(pool, RUNNING_LIMIT).await?;
    let recent = queries::recent_activity(pool, ACTIVITY_LIMIT).await?;
    html(HomePage {
        page: Layout::new("Command center", "home"),
        totals: Totals {
            error_rate: format!("{:.1} %", raw.error_rate()),
            raw,
        },
        running: running.iter().map(|r| RowView::of(r, now)).collect(),
        recent: recent.iter().map(|r| RowView::of(r, now)).collect(),
        targets: queries::target_names(pool, PICKER_LIMIT).await?,
        scenarios: queries::scenario_names(pool, PICKER_LIMIT).await?,
        stream_from,
    })
}
