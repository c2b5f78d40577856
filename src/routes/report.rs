//! `GET /api/sessions/{id}/report?format=html|pdf` and `GET /api/compare/{id}/report`: the
//! session and comparison reports, self-contained HTML (default) or a PDF download. The HTML
//! answer carries the report's own Content-Security-Policy (nothing loads, no script; the
//! inline stylesheet allowed by its hash), which the security middleware keeps.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, web};
use projections::queries;
use serde::Deserialize;

use super::envelope::{ApiError, parse_id};
use super::query::ApiQuery;
use super::state::AppState;
use crate::report::{
    ComparisonReport, ReportFormat, SessionReport, content_security_policy, render_comparison_html,
    render_comparison_pdf, render_html, render_pdf,
};
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `html` (default) or `pdf`.
    format: Option<String>,
}

impl ReportQuery {
    /// The format, or a 400 naming `format`.
    fn format(&self) -> Result<ReportFormat, ApiError> {
        match self.format.as_deref() {
            None => Ok(ReportFormat::Html),
            Some(f) => f
                .parse()
                .map_err(|rule: String| ApiError::field("format", rule)),
        }
    }
}

/// A rendered report as the response: the page with its CSP, or the PDF as an attachment.
async fn respond<R: Send + 'static>(
    format: ReportFormat,
    report: R,
    html: fn(&R) -> Result<String, sailfish::RenderError>,
    pdf: fn(&R) -> Vec<u8>,
    filename: String,
) -> Result<HttpResponse, ApiError> {
    match format {
        ReportFormat::Html => {
            let page = html(&report).map_err(|e| ApiError::Unexpected(e.into()))?;
            Ok(HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CONTENT_SECURITY_POLICY, content_security_policy()))
                .body(page))
        }
        ReportFormat::Pdf => {
            let bytes = web::block(move || pdf(&report))
                .await
                .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("pdf: {e}")))?;
            Ok(HttpResponse::Ok()
                .content_type("application/pdf")
                .insert_header(ContentDisposition {
                    disposition: DispositionType::Attachment,
                    parameters: vec![DispositionParam::Filename(filename)],
                })
                .body(bytes))
        }
    }
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
    let format = q.format()?;
    let id = parse_id(&path, "session")?.to_string();
    let session = queries::get_session(&state.read, &id)
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    let report = SessionReport::load(&state.read, session).await?;
    let filename = format!("krawall-report-{id}.pdf");
    respond(format, report, render_html, render_pdf, filename).await
}

/// A comparison's report: both sessions' figures side by side, the statistics and the
/// overlaid latency distributions.
#[utoipa::path(
    get,
    path = "/api/compare/{id}/report",
    tag = "exports",
    params(("id" = uuid::Uuid, Path, description = "Comparison id"), ReportQuery),
    responses(
        (status = 200, description = "The comparison report as HTML or PDF", content((String = "text/html"), (Vec<u8> = "application/pdf"))),
        (status = 400, response = crate::openapi::Invalid),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn comparison_report(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: ApiQuery<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = q.format()?;
    let id = parse_id(&path, "comparison")?.to_string();
    let comparison = queries::get_comparison(&state.read, &id)
        .await?
        .ok_or(ApiError::NotFound("comparison"))?;
    let report = ComparisonReport::load(&state.read, comparison).await?;
    let filename = format!("krawall-comparison-{id}.pdf");
    respond(
        format,
        report,
        render_comparison_html,
        render_comparison_pdf,
        filename,
    )
    .await
}
