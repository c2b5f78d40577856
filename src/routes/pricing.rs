//! `GET/PUT /api/pricing`: the model price table (dated defaults plus the user's prices). A PUT
//! replaces or adds the given models; sessions freeze their model's price when queued.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::domain::pricing::{DEFAULTS_AS_OF, ModelPrice};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::envelope::{ApiError, Envelope, ok, parse_body};
use super::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PricingInput {
    models: Vec<ModelPrice>,
}

/// The price table the API shows.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceTable {
    models: Vec<ModelPrice>,
    /// The date the shipped default prices were checked.
    defaults_as_of: &'static str,
}

async fn table(state: &AppState) -> Result<HttpResponse, ApiError> {
    let models = projections::queries::prices(&state.read).await?;
    Ok(ok(
        StatusCode::OK,
        PriceTable {
            models,
            defaults_as_of: DEFAULTS_AS_OF,
        },
    ))
}

/// Show model prices.
#[utoipa::path(
    get,
    path = "/api/pricing",
    tag = "catalog",
    responses(
        (status = 200, description = "The price table: dated defaults with the user's prices laid over them", body = Envelope<PriceTable>),
    )
)]
pub async fn get_pricing(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    table(&state).await
}

/// Set model prices.
#[utoipa::path(
    put,
    path = "/api/pricing",
    tag = "catalog",
    request_body(content = PricingInput, content_type = "application/json", description = "Models to replace or add"),
    responses(
        (status = 200, description = "The updated price table", body = Envelope<PriceTable>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn put_pricing(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let input: PricingInput = parse_body(&body)?;
    let position = state.commands.update_prices(input.models).await?;
    state.caught_up(position).await?;
    table(&state).await
}
