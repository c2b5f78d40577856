//! `GET/PUT /api/pricing`: the model price table (dated defaults plus the user's prices). A PUT
//! replaces or adds the given models; sessions freeze their model's price when queued.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::domain::pricing::{DEFAULTS_AS_OF, ModelPrice};
use serde::Deserialize;
use serde_json::json;

use super::envelope::{ApiError, ok, parse_body};
use super::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PricingInput {
    models: Vec<ModelPrice>,
}

async fn table(state: &AppState) -> Result<HttpResponse, ApiError> {
    let models = projections::queries::prices(&state.read).await?;
    Ok(ok(
        StatusCode::OK,
        json!({ "models": models, "defaultsAsOf": DEFAULTS_AS_OF }),
    ))
}

pub async fn get_pricing(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    table(&state).await
}

pub async fn put_pricing(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let input: PricingInput = parse_body(&body)?;
    let position = state.commands.update_prices(input.models).await?;
    state.caught_up(position).await?;
    table(&state).await
}
