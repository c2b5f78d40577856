//! A [`Chart`] as an inline SVG element (no external resources, text escaped).

use std::fmt::Write;

use super::chart::{Anchor, Chart, Rgb, Shape};

fn color(c: Rgb) -> String {
    let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    format!("#{:02x}{:02x}{:02x}", byte(c.0), byte(c.1), byte(c.2))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart as `<svg …>…</svg>`, labelled by its title for screen readers.
pub fn render_svg(chart: &Chart) -> String {
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{t}" font-family="Helvetica, Arial, sans-serif">"#,
        w = chart.width,
        h = chart.height,
        t = escape(&chart.title)
    );
    for shape in &chart.shapes {
        let _ = match shape {
            Shape::Rect { x, y, w, h, fill } => write!(
                out,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{}"/>"#,
                color(*fill)
            ),
            Shape::Line {
                points,
                stroke,
                width,
            } => {
                let pts: Vec<String> = points
                    .iter()
                    .map(|(x, y)| format!("{x:.1},{y:.1}"))
                    .collect();
                write!(
                    out,
                    r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="{width}"/>"#,
                    pts.join(" "),
                    color(*stroke)
                )
            }
            Shape::Text {
                x,
                y,
                size,
                anchor,
                text,
            } => {
                let anchor = match anchor {
                    Anchor::Start => "start",
                    Anchor::Middle => "middle",
                    Anchor::End => "end",
                };
                write!(
                    out,
                    r##"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="{anchor}" fill="#333d4d">{}</text>"##,
                    escape(text)
                )
            }
        };
    }
    out.push_str("</svg>");
    out
}
