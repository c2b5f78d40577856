//! `/health`: database and read-model status, and the queued/running work of this node.

use actix_web::{HttpResponse, web};
use actors::runtime::{NodeStatus, QueryNodeStatus};
use projections::queries::{LATEST_PARKED, ParkedEvents, parked_events};
use sailfish::TemplateSimple;

use super::render::{Layout, PageError, html};
use crate::routes::AppState;

#[derive(TemplateSimple)]
#[template(path = "health/show.stpl")]
struct HealthPage {
    page: Layout,
    database_ok: bool,
    backend: String,
    head: i64,
    projected: i64,
    node: Option<NodeStatus>,
    parked: Option<ParkedEvents>,
}

pub async fn show_health(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let head = state.store.head_position().await;
    let node = state.commands.dispatcher().send(QueryNodeStatus).await.ok();
    let parked = parked_events(state.store.pool(), LATEST_PARKED).await.ok();
    html(HealthPage {
        page: Layout::new("Health", "health"),
        database_ok: head.is_ok(),
        backend: format!("{:?}", state.store.backend()),
        head: head.unwrap_or(0),
        projected: state.projections.position(),
        node,
        parked,
    })
}
