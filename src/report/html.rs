//! The report as one self-contained HTML page (`views/sessions/report.stpl`): inline CSS,
//! charts as inline SVG, no script and no request to anything else.

use sailfish::TemplateSimple;

use super::model::{SessionReport, Verdict};
use super::svg::render_svg;

#[derive(TemplateSimple)]
#[template(path = "sessions/report.stpl")]
struct ReportPage {
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
        title: report.title(),
        session_id: report.session.id.clone(),
        figures: report.figures(),
        verdicts: report.verdicts(),
        cost: report.cost(),
        charts: report
            .charts()
            .iter()
            .map(|c| (c.title.clone(), render_svg(c)))
            .collect(),
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
