//! `GET /api/presets`: provider presets for creating targets (`POST /api/targets {presetId, authConfig}`).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;

use super::envelope::{Envelope, JsonObject, ok};

/// List provider presets.
#[utoipa::path(
    get,
    path = "/api/presets",
    tag = "catalog",
    responses(
        (status = 200, description = "Provider presets for `POST /api/targets {presetId, authConfig}`", body = Envelope<Vec<JsonObject>>),
    )
)]
pub async fn list_presets() -> HttpResponse {
    ok(StatusCode::OK, actors::domain::presets::presets())
}
