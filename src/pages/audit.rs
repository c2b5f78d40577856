//! `/audit` (admins): the audit log, newest first, with filters and paging in the query string.

use actix_web::{HttpResponse, web};
use projections::queries::AuditEntryView;
use sailfish::TemplateSimple;

use super::render::{Layout, PageError, html};
use crate::routes::{AppState, AuditQuery};

#[derive(TemplateSimple)]
#[template(path = "audit/index.stpl")]
struct AuditPage {
    page: Layout,
    entries: Vec<AuditEntryView>,
    actor: String,
    action: String,
    next_before: Option<i64>,
}

fn time_of(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(String::new, |t| {
        t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    })
}

pub async fn show_audit(
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, PageError> {
    let filter = query
        .filter()
        .map_err(|e| PageError::Unexpected(anyhow::anyhow!("{e}")))?;
    let entries = projections::queries::list_audit(&state.read, &filter).await?;
    let next_before = (entries.len() as i64 == filter.limit)
        .then(|| entries.last().map(|e| e.position))
        .flatten();
    html(AuditPage {
        page: Layout::new("Audit log", "audit"),
        entries,
        actor: filter.actor.unwrap_or_default(),
        action: filter.action.unwrap_or_default(),
        next_before,
    })
}
