//! `/settings/pricing`: the model price table (dated defaults plus the user's prices) with a
//! form that sets one model's price through `PUT /api/pricing`.

use actix_web::{HttpResponse, web};
use actors::domain::pricing::{DEFAULTS_AS_OF, ModelPrice};
use sailfish::TemplateSimple;

use super::render::{Layout, PageError, html};
use crate::routes::AppState;

#[derive(TemplateSimple)]
#[template(path = "settings/pricing.stpl")]
struct PricingPage {
    page: Layout,
    models: Vec<ModelPrice>,
    defaults_as_of: &'static str,
}

pub async fn show_pricing(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let models = projections::queries::prices(&state.read).await?;
    html(PricingPage {
        page: Layout::new("Pricing", "pricing"),
        models,
        defaults_as_of: DEFAULTS_AS_OF,
    })
}
