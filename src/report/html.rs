//! The reports as self-contained HTML pages (`views/sessions/report.stpl`,
//! `views/compare/report.stpl`): inline CSS (`style::CSS`), charts as inline SVG, no script and
//! no request to anything else.

use sailfish::TemplateSimple;

use super::chart::Chart;
use super::compare::{ComparisonReport, SideRow};
use super::model::{SessionReport, Verdict};
use super::style::CSS;
use super::svg::render_svg;

#[derive(TemplateSimple)]
#[template(path = "sessions/report.stpl")]
struct ReportPage {
    css: &'static str,
    title: String,
    session_id: String,
    figures: Vec<(&'static str, String)>,
    verdicts: Vec<Verdict>,
    cost: String,
    /// `(title, svg)`; the SVG is generated and escaped by `render_svg`.
    charts: Vec<(String, String)>,
    errors: Vec<(String, u64)>,
    replies: Vec<(i64, String, String)>,
}

/// The report page as HTML.
pub fn render_html(report: &SessionReport) -> Result<String, sailfish::RenderError> {
    let page = ReportPage {
        css: CSS,
        title: report.title(),
        session_id: report.session.id.clone(),
        figures: report.figures(),
        verdicts: report.verdicts(),
        cost: report.cost(),
        charts: svgs(report.charts()),
        errors: report.errors_by_kind(),
        replies: report
            .top_replies
            .iter()
            .map(|r| {
                let score = r
                    .max_repetition_score
                    .map_or("–".into(), |s| format!("{s:.3}"));
                (r.count, score, r.reply.chars().take(400).collect())
            })
            .collect(),
    };
    page.render_once()
}

/// `(title, svg)` of each chart.
fn svgs(charts: Vec<Chart>) -> Vec<(String, String)> {
    charts
        .iter()
        .map(|c| (c.title.clone(), render_svg(c)))
        .collect()
}

#[derive(TemplateSimple)]
#[template(path = "compare/report.stpl")]
struct ComparisonReportPage {
    css: &'static str,
    title: String,
    comparison_id: String,
    description: Option<String>,
    sessions: [(&'static str, String, String); 2],
    rows: Vec<SideRow>,
    statistics: Vec<(&'static str, String)>,
    /// `(title, svg)`; the SVG is generated and escaped by `render_svg`.
    charts: Vec<(String, String)>,
}

/// The comparison report page as HTML.
pub fn render_comparison_html(report: &ComparisonReport) -> Result<String, sailfish::RenderError> {
    ComparisonReportPage {
        css: CSS,
        title: report.title(),
        comparison_id: report.comparison.id.clone(),
        description: report.comparison.description.clone(),
        sessions: report.sessions(),
        rows: report.figures(),
        statistics: report.statistics(),
        charts: svgs(report.charts()),
    }
    .render_once()
}
