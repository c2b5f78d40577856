//! The reports as PDFs (pdf-writer: typst's small, maintained PDF writer; base-14 Helvetica, so
//! no font is embedded): the same sections as the HTML pages, text plus the charts as vector
//! shapes.
//! Text outside Windows-1252 (WinAnsi) is printed as `?`.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use super::chart::{Anchor, Chart, INK, Shape};
use super::compare::ComparisonReport;
use super::model::SessionReport;

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 50.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// Text in WinAnsi bytes: ASCII and Latin-1 as is, a few typographic marks mapped, rest `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '–' => 0x96,
            '—' => 0x97,
            '€' => 0x80,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

/// Pages being laid out top to bottom.
struct Layout {
    pages: Vec<Content>,
    page: Content,
    y: f32,
}

impl Layout {
    fn new() -> Self {
        Self {
            pages: Vec::new(),
            page: Content::new(),
            y: PAGE_H - MARGIN,
        }
    }

    /// Starts a new page unless `height` still fits on this one.
    fn ensure(&mut self, height: f32) {
        if self.y - height < MARGIN {
            let full = std::mem::replace(&mut self.page, Content::new());
            self.pages.push(full);
            self.y = PAGE_H - MARGIN;
        }
    }

    fn text_at(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        let c = &mut self.page;
        c.begin_text();
        c.set_fill_rgb(INK.0, INK.1, INK.2);
        c.set_font(if bold { BOLD } else { REGULAR }, size);
        c.next_line(x, y);
        c.show(Str(&win_ansi(text)));
        c.end_text();
    }

    fn line(&mut self, size: f32, bold: bool, text: &str) {
        self.ensure(size * 1.5);
        self.y -= size * 1.4;
        self.text_at(MARGIN, self.y, size, bold, text);
    }

    /// One row of a table: the cells at fixed offsets from the margin.
    fn columns(&mut self, size: f32, bold: bool, cells: [&str; 4]) {
        self.ensure(size * 1.5);
        self.y -= size * 1.4;
        for (x, text) in [0.0, 150.0, 265.0, 380.0].into_iter().zip(cells) {
            self.text_at(MARGIN + x, self.y, size, bold, text);
        }
    }

    fn heading(&mut self, text: &str) {
        self.ensure(40.0);
        self.y -= 8.0;
        self.line(13.0, true, text);
    }

    fn chart(&mut self, chart: &Chart) {
        let scale = (PAGE_W - 2.0 * MARGIN) / chart.width;
        self.ensure(chart.height * scale + 24.0);
        self.line(10.0, true, &chart.title);
        let top = self.y - 4.0;
        let at = |x: f32, y: f32| (MARGIN + x * scale, top - y * scale);
        for shape in &chart.shapes {
            match shape {
                Shape::Rect { x, y, w, h, fill } => {
                    let (px, py) = at(*x, *y + *h);
                    self.page.set_fill_rgb(fill.0, fill.1, fill.2);
                    self.page.rect(px, py, w * scale, h * scale).fill_nonzero();
                }
                Shape::Line {
                    points,
                    stroke,
                    width,
                } => {
                    let c = &mut self.page;
                    c.set_stroke_rgb(stroke.0, stroke.1, stroke.2)
                        .set_line_width(*width);
                    for (i, (x, y)) in points.iter().enumerate() {
                        let (px, py) = at(*x, *y);
                        if i == 0 {
                            c.move_to(px, py)
                        } else {
                            c.line_to(px, py)
                        };
                    }
                    c.stroke();
                }
                Shape::Text {
                    x,
                    y,
                    size,
                    anchor,
                    text,
                } => {
                    let size = size * scale;
                    let width = text.chars().count() as f32 * size * 0.52;
                    let shift = match anchor {
                        Anchor::Start => 0.0,
                        Anchor::Middle => width / 2.0,
                        Anchor::End => width,
                    };
                    let (px, py) = at(*x, *y);
                    self.text_at(px - shift, py, size, false, text);
                }
            }
        }
        self.y = top - chart.height * scale - 6.0;
    }

    fn finish(mut self) -> Vec<Content> {
        self.pages.push(self.page);
        self.pages
    }
}

fn sections(report: &SessionReport, l: &mut Layout) {
    l.line(18.0, true, &report.title());
    l.line(9.0, false, &format!("Session {}", report.session.id));
    l.heading("Summary");
    for (label, value) in report.figures() {
        l.line(10.0, false, &format!("{label}: {value}"));
    }
    let verdicts = report.verdicts();
    if !verdicts.is_empty() {
        l.heading("Thresholds");
        for v in verdicts {
            let mark = if v.passed { "passed" } else { "FAILED" };
            l.line(
                10.0,
                false,
                &format!("{} {}: actual {} ({mark})", v.metric, v.condition, v.actual),
            );
        }
    }
    l.heading("Cost");
    l.line(10.0, false, &report.cost());
    l.heading("Charts");
    for chart in report.charts() {
        l.chart(&chart);
    }
    l.heading("Errors by kind");
    let errors = report.errors_by_kind();
    if errors.is_empty() {
        l.line(10.0, false, "No errors.");
    }
    for (kind, n) in errors {
        l.line(10.0, false, &format!("{kind}: {n}"));
    }
    l.heading("Top repeated replies");
    for r in &report.top_replies {
        let text: String = r
            .reply
            .chars()
            .take(90)
            .collect::<String>()
            .replace(['\n', '\r'], " ");
        l.line(9.0, false, &format!("{}x  {text}", r.count));
    }
}

fn comparison_sections(report: &ComparisonReport, l: &mut Layout) {
    l.line(18.0, true, &report.title());
    l.line(9.0, false, &format!("Comparison {}", report.comparison.id));
    for (side, name, id) in report.sessions() {
        l.line(10.0, false, &format!("{side}: {name} ({id})"));
    }
    l.heading("Key figures");
    let rows = report.figures();
    if rows.is_empty() {
        l.line(10.0, false, "One of the sessions is gone; no figures.");
    } else {
        l.columns(10.0, true, ["Figure", "A", "B", "B - A"]);
    }
    for r in &rows {
        l.columns(10.0, false, [r.label, &r.a, &r.b, &r.diff]);
    }
    l.heading("Statistics (reply latency)");
    for (label, value) in report.statistics() {
        l.line(10.0, false, &format!("{label}: {value}"));
    }
    l.heading("Latency distributions");
    for chart in report.charts() {
        l.chart(&chart);
    }
}

/// The session report as PDF bytes.
pub fn render_pdf(report: &SessionReport) -> Vec<u8> {
    let mut layout = Layout::new();
    sections(report, &mut layout);
    document(layout.finish())
}

/// The comparison report as PDF bytes.
pub fn render_comparison_pdf(report: &ComparisonReport) -> Vec<u8> {
    let mut layout = Layout::new();
    comparison_sections(report, &mut layout);
    document(layout.finish())
}

/// Laid-out pages as a PDF file.
fn document(pages: Vec<Content>) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let (catalog, tree, regular, bold) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4));
    pdf.catalog(catalog).pages(tree);
    let ids: Vec<(Ref, Ref)> = (0..pages.len() as i32)
        .map(|i| (Ref::new(5 + 2 * i), Ref::new(6 + 2 * i)))
        .collect();
    pdf.pages(tree)
        .kids(ids.iter().map(|p| p.0))
        .count(pages.len() as i32);
    for ((page_id, content_id), content) in ids.into_iter().zip(pages) {
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_id);
        let mut resources = page.resources();
        resources.fonts().pair(REGULAR, regular).pair(BOLD, bold);
        resources.finish();
        page.finish();
        pdf.stream(content_id, &content.finish());
    }
    for (id, name) in [(regular, &b"Helvetica"[..]), (bold, &b"Helvetica-Bold"[..])] {
        pdf.type1_font(id)
            .base_font(Name(name))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.finish()
}
