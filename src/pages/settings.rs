//! `/settings`: the node defaults (message timeout, target rate limit, retention, webhook retry)
//! with a form that saves them through `PUT /api/settings`; links to `/settings/pricing`.

use actix_web::{HttpResponse, web};
use actors::domain::settings::{BUILTIN_MESSAGE_TIMEOUT_MS, NodeSettings};
use actors::domain::webhook::RetryPolicy;
use sailfish::TemplateSimple;

use super::render::{Layout, PageError, html};
use crate::routes::AppState;

#[derive(TemplateSimple)]
#[template(path = "settings/show.stpl")]
struct SettingsPage {
    page: Layout,
    settings: NodeSettings,
    retry: RetryPolicy,
    builtin_timeout_ms: u64,
    /// The rate limit's fields as form values (empty when unset).
    rps: String,
    tpm: String,
}

/// An optional number as a form field value (empty when unset).
fn field<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

pub async fn show_settings(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let view = projections::queries::node_settings(&state.read).await?;
    let limit = view.settings.rate_limit;
    html(SettingsPage {
        page: Layout::new("Settings", "settings"),
        rps: field(limit.and_then(|l| l.requests_per_second)),
        tpm: field(limit.and_then(|l| l.tokens_per_minute)),
        retry: view.settings.webhook_retry_or_builtin(),
        settings: view.settings,
        builtin_timeout_ms: BUILTIN_MESSAGE_TIMEOUT_MS,
    })
}
