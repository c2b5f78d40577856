//! The session and comparison reports (`GET /api/sessions/{id}/report`,
//! `GET /api/compare/{id}/report`, `?format=html|pdf`): one model of the figures and charts
//! each, rendered as a self-contained HTML page (inline CSS and SVG) or as a PDF.

mod chart;
mod compare;
mod html;
mod model;
mod pdf;
mod style;
mod svg;

pub use chart::{Chart, Shape};
pub use compare::{ComparisonReport, SideRow, p_value};
pub use html::{render_comparison_html, render_html};
pub use model::{ReportFormat, SessionReport};
pub use pdf::{render_comparison_pdf, render_pdf};
pub use style::{CSS, content_security_policy};
pub use svg::render_svg;
