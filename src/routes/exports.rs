//! `GET /api/sessions/{id}/export` and `GET /api/export/sessions`: exchange rows as CSV, NDJSON
//! or Parquet, streamed (read in pages, written in chunks on a blocking thread) with a
//! `Content-Disposition` attachment name.

use std::io;

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, web};
use export::ExportFormat;
use projections::queries::{self, SessionFilter};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::envelope::{ApiError, parse_id};
use super::query::ApiQuery;
use super::sessions::status_filter;
use super::state::AppState;
use crate::exports::{ChannelWriter, ExportScope, export_blocking, file_name, produce};
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    format: Option<String>,
}

/// `format` as an export format (default CSV); 400 naming the field otherwise.
fn export_format(raw: Option<&str>) -> Result<ExportFormat, ApiError> {
    match raw {
        None => Ok(ExportFormat::Csv),
        Some(s) => s
            .parse()
            .map_err(|e: export::ExportError| ApiError::field("format", e.to_string())),
    }
}

/// Export a session's exchanges.
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/export",
    tag = "exports",
    params(("id" = uuid::Uuid, Path, description = "Session id"), FormatQuery),
    responses(
        (status = 200, description = "One row per exchange as CSV, NDJSON or Parquet", content((String = "text/csv"), (String = "application/x-ndjson"), (Vec<u8> = "application/vnd.apache.parquet"))),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn export_session(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: ApiQuery<FormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = export_format(q.format.as_deref())?;
    let id = parse_id(&path, "session")?.to_string();
    let session = queries::get_session(&state.read, &id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    let name = file_name(&format!("session-{id}"), format);
    Ok(stream(
        &state,
        ExportScope::Session(Box::new(session)),
        format,
        name,
    ))
}

/// The session list's filters (`limit`/`offset` do not apply: every matching session) plus
/// `format`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListExportQuery {
    format: Option<String>,
    status: Option<String>,
    target_id: Option<String>,
    scenario_id: Option<String>,
}

/// Export many sessions.
#[utoipa::path(
    get,
    path = "/api/export/sessions",
    tag = "exports",
    params(ListExportQuery),
    responses(
        (status = 200, description = "One row per session as CSV, NDJSON or Parquet", content((String = "text/csv"), (String = "application/x-ndjson"), (Vec<u8> = "application/vnd.apache.parquet"))),
        (status = 400, response = crate::openapi::Invalid),
    )
)]
pub async fn export_sessions(
    state: web::Data<AppState>,
    q: ApiQuery<ListExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let format = export_format(q.format.as_deref())?;
    let filter = SessionFilter {
        status: status_filter(q.status)?,
        target_id: q.target_id,
        scenario_id: q.scenario_id,
        ..SessionFilter::default()
    };
    let name = file_name("sessions", format);
    Ok(stream(&state, ExportScope::Sessions(filter), format, name))
}

/// Starts the producer (async, reads pages) and the writer (blocking thread) and streams what
/// the writer writes. A failure after the headers aborts the body (the download is incomplete,
/// never a silently truncated valid file).
fn stream(
    state: &AppState,
    scope: ExportScope,
    format: ExportFormat,
    name: String,
) -> HttpResponse {
    let (chunks_tx, chunks_rx) = mpsc::channel(2);
    let (bytes_tx, bytes_rx) = mpsc::channel::<Result<web::Bytes, io::Error>>(8);
    actix_web::rt::spawn(produce(state.read.clone(), scope, chunks_tx));
    tokio::task::spawn_blocking(move || {
        let errors = bytes_tx.clone();
        if let Err(e) = export_blocking(format, ChannelWriter::new(bytes_tx), chunks_rx) {
            tracing::warn!(error = %e, "export aborted");
            let _ = errors.blocking_send(Err(io::Error::other(e.to_string())));
        }
    });
    HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(name)],
        })
        .streaming(ReceiverStream::new(bytes_rx))
}
