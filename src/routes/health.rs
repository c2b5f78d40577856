//! `GET /api/health`: database reachability, event-log and read-model positions, parked
//! (undecodable) events, this node's work, and every node sharing the database with its leases.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::runtime::{NodeRow, NodeStatus, QueryNodeStatus, QueryNodes};
use projections::queries::{LATEST_PARKED, ParkedEvents, parked_events};
use serde::Serialize;
use utoipa::ToSchema;

use super::envelope::Envelope;

use super::state::AppState;

/// Node health.
#[utoipa::path(
    get,
    path = "/api/health",
    tag = "node",
    responses(
        (status = 200, description = "Healthy: the database answers and the dispatcher runs", body = Envelope<Health>),
        (status = 503, description = "Unhealthy: the database or the dispatcher does not answer", body = Envelope<Health>),
    )
)]
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let head = state.store.head_position().await;
    let node = state.commands.dispatcher().send(QueryNodeStatus).await.ok();
    let nodes = match state.commands.dispatcher().send(QueryNodes).await {
        Ok(Ok(nodes)) => Some(nodes),
        _ => None,
    };
    let projected = state.projections.position();
    let parked = parked_events(state.store.pool(), LATEST_PARKED).await.ok();
    let (status, code) = match &head {
        Ok(_) if node.is_some() => ("healthy", StatusCode::OK),
        _ => ("unhealthy", StatusCode::SERVICE_UNAVAILABLE),
    };
    let head = head.ok();
    let health = Health {
        status,
        database: if head.is_some() { "ok" } else { "unreachable" },
        backend: format!("{:?}", state.store.backend()).to_lowercase(),
        event_log_head: head,
        read_model_position: projected,
        read_model_lag: head.map(|h| h - projected),
        parked_events: parked,
        node,
        nodes,
    };
    HttpResponse::build(code).json(Envelope {
        success: code == StatusCode::OK,
        data: health,
    })
}

/// What `GET /api/health` reports.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `healthy` or `unhealthy`.
    status: &'static str,
    /// `ok` or `unreachable`.
    database: &'static str,
    /// `sqlite` or `postgres`.
    backend: String,
    event_log_head: Option<i64>,
    read_model_position: i64,
    read_model_lag: Option<i64>,
    /// Events the projections could not decode: how many, and the latest.
    parked_events: Option<ParkedEvents>,
    /// The dispatcher's work: running and queued sessions, conversation budget.
    #[schema(value_type = Option<Object>)]
    node: Option<NodeStatus>,
    /// Every node sharing the database, with its role and leases.
    #[schema(value_type = Option<Vec<Object>>)]
    nodes: Option<Vec<NodeRow>>,
}
