//! `/api/webhooks`: create (the secret is shown once, in the create response), list, read,
//! update, delete, send a test delivery, the delivery log, and redeliver.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::commands::WebhookInput;
use actors::domain::webhook::{RetryPolicy, WebhookEvent};
use projections::queries::{self, DeliveryView, WebhookView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::envelope::{ApiError, Deleted, Envelope, ok, parse_body, parse_id};
use super::query::ApiQuery;
use super::state::AppState;

/// Body of POST and PUT.
#[derive(Debug, Deserialize, ToSchema)]
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

/// A created webhook with its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    webhook: WebhookView,
    /// HMAC-SHA256 key of the `X-Krawall-Signature` header.
    secret: String,
}

/// A queued delivery (`event` for a test, `redeliveryOf` for a redelivery).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryQueued {
    delivery_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redelivery_of: Option<Uuid>,
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

/// Create a webhook.
#[utoipa::path(
    post,
    path = "/api/webhooks",
    tag = "webhooks",
    request_body(content = WebhookBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `secret` is shown this once", body = Envelope<CreatedWebhook>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn create_webhook(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (id, secret, position) = state.commands.create_webhook(input(&body)?).await?;
    state.caught_up(position).await?;
    let webhook = view(&state, id).await?;
    Ok(ok(StatusCode::CREATED, CreatedWebhook { webhook, secret }))
}

/// List webhooks.
#[utoipa::path(
    get,
    path = "/api/webhooks",
    tag = "webhooks",
    responses(
        (status = 200, description = "Every webhook (never its secret)", body = Envelope<Vec<WebhookView>>),
    )
)]
pub async fn list_webhooks(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        queries::list_webhooks(&state.read).await?,
    ))
}

/// Show a webhook.
#[utoipa::path(
    get,
    path = "/api/webhooks/{id}",
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The webhook", body = Envelope<WebhookView>),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn get_webhook(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "webhook")?;
    Ok(ok(StatusCode::OK, view(&state, id).await?))
}

/// Replace a webhook.
#[utoipa::path(
    put,
    path = "/api/webhooks/{id}",
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook id")),
    request_body(content = WebhookBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Replaced", body = Envelope<WebhookView>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
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

/// Delete a webhook.
#[utoipa::path(
    delete,
    path = "/api/webhooks/{id}",
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "webhook")?;
    let position = state.commands.delete_webhook(id).await?;
    state.caught_up(position).await?;
    Ok(ok(StatusCode::OK, Deleted::new(id)))
}

/// Send a test delivery.
#[utoipa::path(
    post,
    path = "/api/webhooks/{id}/test",
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook id")),
    responses(
        (status = 202, description = "A `webhook.test` delivery is queued", body = Envelope<DeliveryQueued>),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn test_webhook(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "webhook")?;
    let (delivery, position) = state.commands.test_webhook(id).await?;
    state.caught_up(position).await?;
    Ok(ok(
        StatusCode::ACCEPTED,
        DeliveryQueued {
            delivery_id: delivery,
            event: Some("webhook.test"),
            redelivery_of: None,
        },
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    limit: Option<i64>,
}

/// List a webhook's deliveries.
#[utoipa::path(
    get,
    path = "/api/webhooks/{id}/deliveries",
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook id"), DeliveriesQuery),
    responses(
        (status = 200, description = "Deliveries, newest first, with every attempt", body = Envelope<Vec<DeliveryView>>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: ApiQuery<DeliveriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "webhook")?;
    view(&state, id).await?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let deliveries = queries::list_deliveries(&state.read, &id.to_string(), limit).await?;
    Ok(ok(StatusCode::OK, deliveries))
}

/// Send a delivery again.
#[utoipa::path(
    post,
    path = "/api/webhooks/{id}/deliveries/{delivery}/redeliver",
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook id"), ("delivery" = uuid::Uuid, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "A new delivery of the same payload is queued", body = Envelope<DeliveryQueued>),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
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
        DeliveryQueued {
            delivery_id: delivery,
            event: None,
            redelivery_of: Some(original),
        },
    ))
}
