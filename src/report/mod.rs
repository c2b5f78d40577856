//! The session report (`GET /api/sessions/{id}/report?format=html|pdf`): one model of the
//! figures and charts, rendered as a self-contained HTML page (inline CSS and SVG) or as a PDF.

mod chart;
mod html;
mod model;
mod pdf;
mod svg;

pub use chart::{Chart, Shape};
pub use html::render_html;
pub use model::{ReportFormat, SessionReport};
pub use pdf::render_pdf;
pub use svg::render_svg;
