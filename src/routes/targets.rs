//! `/api/targets`: list, create, show, replace, delete. Credentials are write-only.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::domain::presets;
use actors::domain::target::TargetSpec;
use projections::queries;
use projections::queries::TargetView;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::envelope::{ApiError, Deleted, Envelope, ok, parse_body, parse_id, parse_value};
use super::query::ApiQuery;
use super::references::{DeleteQuery, Referrer, clear_references};
use super::state::AppState;

/// Splits a create/replace body into the spec and the plaintext `authConfig` (never stored in clear).
fn parse_target(mut raw: Value) -> Result<(TargetSpec, Option<Value>), ApiError> {
    let auth = raw
        .as_object_mut()
        .ok_or_else(|| ApiError::field("$", "must be a JSON object"))?
        .remove("authConfig");
    if auth
        .as_ref()
        .is_some_and(|a| !a.is_object() && !a.is_null())
    {
        return Err(ApiError::field("authConfig", "must be an object"));
    }
    Ok((parse_value(raw)?, auth.filter(|a| !a.is_null())))
}

/// Lays the body over its `presetId`'s defaults (so only the secret is needed).
fn with_preset(raw: Value) -> Result<(Value, Option<String>), ApiError> {
    let Some(id) = raw.get("presetId").cloned() else {
        return Ok((raw, None));
    };
    let id = id
        .as_str()
        .ok_or_else(|| ApiError::field("presetId", "must be a string"))?;
    let preset = presets::preset(id).ok_or_else(|| {
        ApiError::field(
            "presetId",
            format!("unknown preset {id:?}; see GET /api/presets"),
        )
    })?;
    let mut body = presets::apply_preset(&preset, &raw);
    let auth = presets::preset_auth(&preset, raw.get("authConfig"));
    if let Some(obj) = body.as_object_mut() {
        obj.insert("authConfig".into(), auth);
    }
    Ok((body, Some(preset.id.to_string())))
}

/// Body of create and replace: the target, its credentials (`authConfig`, write-only: answers
/// show it masked) and optionally a `presetId` whose defaults fill in the missing fields.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // documents the body; `parse_target` and `with_preset` read it field by field
struct TargetInput {
    #[serde(flatten)]
    spec: TargetSpec,
    /// Credentials by `authType` (e.g. `{"token": "…"}`); a value of `********` keeps the
    /// stored one.
    #[schema(value_type = Option<Object>)]
    auth_config: Option<Value>,
    /// A preset from `GET /api/presets`.
    preset_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    connector_type: Option<String>,
}

/// List targets.
#[utoipa::path(
    get,
    path = "/api/targets",
    tag = "targets",
    params(ListQuery),
    responses(
        (status = 200, description = "Every target, credentials masked", body = Envelope<Vec<TargetView>>),
        (status = 400, response = crate::openapi::Invalid),
    )
)]
pub async fn list_targets(
    state: web::Data<AppState>,
    q: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let targets = queries::list_targets(&state.read, q.connector_type.as_deref()).await?;
    Ok(ok(StatusCode::OK, targets))
}

async fn show(state: &AppState, id: &str) -> Result<HttpResponse, ApiError> {
    let target = queries::get_target(&state.read, id)
        .await?
        .ok_or(ApiError::NotFound("target"))?;
    Ok(ok(StatusCode::OK, target))
}

/// Create a target.
#[utoipa::path(
    post,
    path = "/api/targets",
    tag = "targets",
    request_body(content = TargetInput, content_type = "application/json", description = "The target; `presetId` fills in the rest from a preset, `authConfig` holds the credentials (write-only)"),
    responses(
        (status = 201, description = "Created; credentials are sealed and shown masked", body = Envelope<TargetView>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn create_target(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let raw: Value = parse_body(&body)?;
    let (raw, preset_id) = with_preset(raw)?;
    let (spec, auth) = parse_target(raw)?;
    let auth = auth.unwrap_or_else(|| Value::Object(Default::default()));
    let (id, position) = state
        .commands
        .create_target_from(spec, auth, preset_id)
        .await?;
    state.caught_up(position).await?;
    let target = queries::get_target(&state.read, &id.to_string())
        .await?
        .ok_or(ApiError::NotFound("target"))?;
    Ok(ok(StatusCode::CREATED, target))
}

/// Show a target.
#[utoipa::path(
    get,
    path = "/api/targets/{id}",
    tag = "targets",
    params(("id" = uuid::Uuid, Path, description = "Target id")),
    responses(
        (status = 200, description = "The target, credentials masked", body = Envelope<TargetView>),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn get_target(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    show(&state, &parse_id(&path, "target")?.to_string()).await
}

/// Replace a target.
#[utoipa::path(
    put,
    path = "/api/targets/{id}",
    tag = "targets",
    params(("id" = uuid::Uuid, Path, description = "Target id")),
    request_body(content = TargetInput, content_type = "application/json", description = "The whole target (replace)"),
    responses(
        (status = 200, description = "Replaced; an `authConfig` of masks keeps the stored secret", body = Envelope<TargetView>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn update_target(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "target")?;
    let (spec, auth) = parse_target(parse_body(&body)?)?;
    let position = state.commands.update_target(id, spec, auth).await?;
    state.caught_up(position).await?;
    show(&state, &id.to_string()).await
}

/// Delete a target.
#[utoipa::path(
    delete,
    path = "/api/targets/{id}",
    tag = "targets",
    params(("id" = uuid::Uuid, Path, description = "Target id"), DeleteQuery),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn delete_target(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: ApiQuery<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    clear_references(&state, Referrer::Target, &path, &q).await?;
    let id = parse_id(&path, "target")?;
    let position = state.commands.delete_target(id).await?;
    state.caught_up(position).await?;
    Ok(ok(StatusCode::OK, Deleted::new(id)))
}
