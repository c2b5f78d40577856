//! `/api/targets`: list, create, show, replace, delete. Credentials are write-only.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::domain::presets;
use actors::domain::target::TargetSpec;
use projections::queries;
use serde::Deserialize;
use serde_json::Value;

use super::envelope::{ApiError, ok, parse_body, parse_id, parse_value};
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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    connector_type: Option<String>,
}

pub async fn list_targets(
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
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

pub async fn get_target(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    show(&state, &parse_id(&path, "target")?.to_string()).await
}

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

pub async fn delete_target(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    clear_references(&state, Referrer::Target, &path, &q).await?;
    let id = parse_id(&path, "target")?;
    let position = state.commands.delete_target(id).await?;
    state.caught_up(position).await?;
    Ok(ok(
        StatusCode::OK,
        serde_json::json!({ "id": id, "deleted": true }),
    ))
}
