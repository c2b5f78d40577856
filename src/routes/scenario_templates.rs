//! `GET /api/scenarios/templates`: the 15 built-in scenario templates in the canonical schema.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;

use super::envelope::{Envelope, JsonObject, ok};

/// List scenario templates.
#[utoipa::path(
    get,
    path = "/api/scenarios/templates",
    tag = "catalog",
    responses(
        (status = 200, description = "The built-in scenario templates in the canonical schema", body = Envelope<Vec<JsonObject>>),
    )
)]
pub async fn list_templates() -> HttpResponse {
    ok(
        StatusCode::OK,
        actors::domain::templates::scenario_templates(),
    )
}
