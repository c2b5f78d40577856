//! `/compare/{id}`: an A/B comparison with upstream's figures, the statistics, and the two
//! latency distributions overlaid as an inline SVG rendered here (no script, no CDN).

use actix_web::{HttpResponse, web};
use projections::queries::{self, Bins, ComparisonView};
use sailfish::TemplateSimple;

use super::render::{Layout, PageError, html};
use crate::routes::AppState;

#[derive(TemplateSimple)]
#[template(path = "compare/show.stpl")]
struct ComparePage {
    page: Layout,
    c: ComparisonView,
    /// (label, A, B, diff) rows of the figures table.
    rows: Vec<(&'static str, String, String, String)>,
    /// The overlay chart (markup built from numbers only).
    chart: String,
    verdict: String,
}

const W: f64 = 640.0;
const H: f64 = 220.0;
const PAD: f64 = 30.0;

/// Step outline of one series' bin shares (each series normalised to its own total).
fn outline(counts: &[u64], peak: f64) -> String {
    let total = counts.iter().sum::<u64>().max(1) as f64;
    let step = (W - 2.0 * PAD) / counts.len().max(1) as f64;
    let y = |c: u64| H - PAD - (c as f64 / total) / peak * (H - 2.0 * PAD);
    let mut points = vec![format!("{PAD:.1},{:.1}", H - PAD)];
    for (i, c) in counts.iter().enumerate() {
        let x0 = PAD + step * i as f64;
        points.push(format!(
            "{x0:.1},{:.1} {:.1},{:.1}",
            y(*c),
            x0 + step,
            y(*c)
        ));
    }
    points.push(format!("{:.1},{:.1}", W - PAD, H - PAD));
    points.join(" ")
}

/// The overlay of both latency histograms over shared bins.
pub fn overlay(bins: &Bins) -> String {
    let share = |c: &[u64]| {
        let t = c.iter().sum::<u64>().max(1) as f64;
        c.iter().map(|v| *v as f64 / t).fold(0.0, f64::max)
    };
    let peak = share(&bins.a).max(share(&bins.b)).max(1e-9);
    let (lo, hi) = (
        bins.edges.first().copied().unwrap_or(0.0),
        bins.edges.last().copied().unwrap_or(0.0),
    );
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"Latency distributions of A and B\">\
         <polyline data-series=\"a\" class=\"series-a\" fill=\"none\" stroke=\"#4e79a7\" stroke-width=\"2\" points=\"{}\"/>\
         <polyline data-series=\"b\" class=\"series-b\" fill=\"none\" stroke=\"#e15759\" stroke-width=\"2\" points=\"{}\"/>\
         <line x1=\"{PAD}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"currentColor\"/>\
         <text x=\"{PAD}\" y=\"{ty}\" font-size=\"11\">{lo:.0} ms</text>\
         <text x=\"{x2}\" y=\"{ty}\" font-size=\"11\" text-anchor=\"end\">{hi:.0} ms</text></svg>",
        outline(&bins.a, peak),
        outline(&bins.b, peak),
        y = H - PAD,
        x2 = W - PAD,
        ty = H - 8.0,
    )
}

fn num(v: f64) -> String {
    format!("{v:.3}")
}

pub async fn show(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = uuid::Uuid::parse_str(&path).map_err(|_| PageError::NotFound("comparison"))?;
    let c = queries::get_comparison(&state.read, &id.to_string())
        .await?
        .ok_or(PageError::NotFound("comparison"))?;
    let (mut rows, mut chart, mut verdict) = (Vec::new(), String::new(), String::new());
    if let Some(r) = &c.results {
        for (label, s) in [
            ("Avg latency (ms)", &r.response_time),
            ("Tokens", &r.token_usage),
            ("Error rate", &r.error_rate),
            ("Messages", &r.message_count),
        ] {
            rows.push((label, num(s.a), num(s.b), num(s.diff)));
        }
        let st = &r.statistics;
        if let (Some(a), Some(b)) = (st.cost_a, st.cost_b) {
            rows.push(("Cost", num(a), num(b), num(b - a)));
        }
        chart = overlay(&st.distribution);
        verdict = match (&st.mann_whitney, &st.median_difference) {
            (Some(mw), Some(md)) => format!(
                "Mann–Whitney U = {:.1}, p = {:.4}; median latency B − A = {:.1} ms (95 % CI {:.1} to {:.1})",
                mw.u, mw.p_value, md.estimate, md.ci_low, md.ci_high
            ),
            _ => "Not enough replies for a test".into(),
        };
    }
    html(ComparePage {
        page: Layout::new(format!("Compare {}", c.name), "sessions"),
        c,
        rows,
        chart,
        verdict,
    })
}
