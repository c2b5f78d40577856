//! `/api/webhooks`: create (the secret is shown once, in the create response), list, read,
//! update, delete, send a test delivery, the delivery log, and redeliver.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::commands::WebhookInput;
use actors::domain::webhook::{RetryPolicy, WebhookEvent};
use projections::queries;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::envelope::{ApiError, ok, parse_body, parse_id};
use super::state::AppState;

/// Body of POST and PUT.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WebhookBody {
    #[serde(default)]
    name: Option<String>,
    url: String,
    events: Vec<WebhookEvent>,
    #[serde(default = "enabled_default")]
    enabled: bool,
    #[serde(default)]
    retry: Option<RetryPolicy>,
    #[serde(default)]
    secret: Option<String>,
}

fn enabled_default() -> bool {
    true
}

fn input(body: &[u8]) -> Result<WebhookInput, ApiError> {
    let b: WebhookBody = parse_body(body)?;
    Ok(WebhookInput {
        name: b.name.unwrap_or_else(|| "webhook".into()),
        url: b.url,
        events: b.events,
        enabled: b.enabled,
        retry: b.retry,
        secret: b.secret,
    })
}

async fn view(state: &AppState, id: Uuid) -> Result<queries::WebhookView, ApiError> {
    queries::get_webhook(&state.read, &id.to_string())
        .await?
        .ok_or(ApiError::NotFound("webhook"))
}

pub async fn create_webhook(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (id, secret, position) = state.commands.create_webhook(input(&body)?).await?;
    state.caught_up(position).await?;
    let mut data = serde_json::to_value(view(&state, id).await?)
        .map_err(|e| ApiError::Unexpected(e.into()))?;
    data["secret"] = json!(secret);
    Ok(ok(StatusCode::CREATED, data))
}

pub async fn list_webhooks(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        queries::list_webhooks(&state.read).await?,
    ))
}

pub async fn get_webhook(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "webhook")?;
    Ok(ok(StatusCode::OK, view(&state, id).await?))
}

pub async fn update_webhook(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "webhook")?;
    let position = state.commands.update_webhook(id, input(&body)?).await?;
    state.caught_up(position).await?;
    Ok(ok(StatusCode::OK, view(&state, id).await?))
}

pub async fn delete_webhook(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "webhook")?;
    let position = state.commands.delete_webhook(id).await?;
    state.caught_up(position).await?;
    Ok(ok(StatusCode::OK, json!({ "id": id, "deleted": true })))
}

pub async fn test_webhook(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "webhook")?;
    let (delivery, position) = state.commands.test_webhook(id).await?;
    state.caught_up(position).await?;
    Ok(ok(
        StatusCode::ACCEPTED,
        json!({ "deliveryId": delivery, "event": "webhook.test" }),
    ))
}

#[derive(Debug, Deserialize)]
pub struct DeliveriesQuery {
    limit: Option<i64>,
}

pub async fn list_deliveries(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<DeliveriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "webhook")?;
    view(&state, id).await?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let deliveries = queries::list_deliveries(&state.read, &id.to_string(), limit).await?;
    Ok(ok(StatusCode::OK, deliveries))
}

pub async fn redeliver(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path.0, "webhook")?;
    let original = parse_id(&path.1, "delivery")?;
    let (delivery, position) = state.commands.redeliver(id, original).await?;
    state.caught_up(position).await?;
    Ok(ok(
        StatusCode::ACCEPTED,
        json!({ "deliveryId": delivery, "redeliveryOf": original }),
    ))
}
