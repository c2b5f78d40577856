//! `GET /api/presets`: provider presets for creating targets (`POST /api/targets {presetId, authConfig}`).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;

use super::envelope::ok;

pub async fn list_presets() -> HttpResponse {
    ok(StatusCode::OK, actors::domain::presets::presets())
}
