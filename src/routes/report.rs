//! `GET /api/sessions/{id}/report?format=html|pdf`: the session report, self-contained HTML
//! (default) or a PDF download.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, web};
use projections::queries;
use serde::Deserialize;

use super::envelope::{ApiError, parse_id};
use super::query::ApiQuery;
use super::state::AppState;
use crate::report::{ReportFormat, SessionReport, render_html, render_pdf};
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    format: Option<String>,
}

/// A session's report.
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/report",
    tag = "exports",
    params(("id" = uuid::Uuid, Path, description = "Session id"), ReportQuery),
    responses(
        (status = 200, description = "The report as HTML or PDF", content((String = "text/html"), (Vec<u8> = "application/pdf"))),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn session_report(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: ApiQuery<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = match q.format.as_deref() {
        None => ReportFormat::Html,
        Some(f) => f
            .parse()
            .map_err(|rule: String| ApiError::field("format", rule))?,
    };
    let id = parse_id(&path, "session")?.to_string();
    let session = queries::get_session(&state.read, &id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    let report = SessionReport::load(&state.read, session).await?;
    match format {
        ReportFormat::Html => {
            let html = render_html(&report).map_err(|e| ApiError::Unexpected(e.into()))?;
            Ok(HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(html))
        }
        ReportFormat::Pdf => {
            let pdf = web::block(move || render_pdf(&report))
                .await
                .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("pdf: {e}")))?;
            Ok(HttpResponse::Ok()
                .content_type("application/pdf")
                .insert_header(ContentDisposition {
                    disposition: DispositionType::Attachment,
                    parameters: vec![DispositionParam::Filename(format!(
                        "krawall-report-{id}.pdf"
                    ))],
                })
                .body(pdf))
        }
    }
}
