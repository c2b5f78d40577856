//! SSE streaming endpoints of the mock chatbot (being written).

use actix_web::web;

/// Registers the streaming routes.
pub(super) fn configure(_cfg: &mut web::ServiceConfig) {}
