//! Rendering helpers shared by every page: the layout data, HTML responses and the page error.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use sailfish::TemplateSimple;

/// What the shared head/foot partials need: the page title and the active navigation entry.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    /// One of `home`, `targets`, `scenarios`, `sessions`, `metrics`, `health`.
    pub active: &'static str,
}

impl Layout {
    pub fn new(title: impl Into<String>, active: &'static str) -> Self {
        Self {
            title: title.into(),
            active,
        }
    }

    /// `aria-current` and class for a navigation link.
    pub fn nav(&self, entry: &str) -> &'static str {
        if self.active == entry {
            "class=\"active\" aria-current=\"page\""
        } else {
            ""
        }
    }
}

/// A page failed: not found, or an internal error whose cause is logged, never shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("something went wrong")]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for PageError {
    fn from(e: sqlx::Error) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<sailfish::RenderError> for PageError {
    fn from(e: sailfish::RenderError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Unexpected(e) = self {
            tracing::error!(error = ?e, "page failed");
        }
        let message = html_escape(&self.to_string());
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .body(format!("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Krawall</title><link rel=\"stylesheet\" href=\"/assets/css/app.css\"></head><body><main class=\"error-page\"><h1>{message}</h1><p><a href=\"/\">Back to the command center</a></p></main></body></html>"))
    }
}

/// Renders a template into a `200 text/html` response.
pub fn html<T: TemplateSimple>(template: T) -> Result<HttpResponse, PageError> {
    let body = template.render_once()?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
