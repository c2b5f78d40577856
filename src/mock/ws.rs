//! WebSocket endpoint of the mock chatbot (being written).

use actix_web::web;

/// Registers the WebSocket routes.
pub(super) fn configure(_cfg: &mut web::ServiceConfig) {}
