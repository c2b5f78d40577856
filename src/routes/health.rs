//! `GET /api/health`: database reachability, event-log and read-model positions, parked
//! (undecodable) events, this node's work, and every node sharing the database with its leases.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::runtime::{QueryNodeStatus, QueryNodes};
use projections::queries::{LATEST_PARKED, parked_events};
use serde_json::json;

use super::state::AppState;

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
    HttpResponse::build(code).json(json!({
        "success": code == StatusCode::OK,
        "data": {
            "status": status,
            "database": if head.is_some() { "ok" } else { "unreachable" },
            "backend": format!("{:?}", state.store.backend()).to_lowercase(),
            "eventLogHead": head,
            "readModelPosition": projected,
            "readModelLag": head.map(|h| h - projected),
            "parkedEvents": parked,
            "node": node,
            "nodes": nodes,
        }
    }))
}
