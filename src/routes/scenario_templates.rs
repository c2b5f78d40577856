//! `GET /api/scenarios/templates`: the 15 built-in scenario templates in the canonical schema.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;

use super::envelope::ok;

pub async fn list_templates() -> HttpResponse {
    ok(
        StatusCode::OK,
        actors::domain::templates::scenario_templates(),
    )
}
