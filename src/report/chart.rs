//! Charts as plain shapes in a box (y grows downwards, like SVG), so the HTML (SVG) and the PDF
//! draw the same picture: a bar chart of latency percentiles, a throughput line over time and
//! two latency distributions overlaid (the comparison report).

/// An RGB colour, components 0–1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgb(pub f32, pub f32, pub f32);

pub const INK: Rgb = Rgb(0.2, 0.24, 0.3);
pub const GRID: Rgb = Rgb(0.82, 0.85, 0.88);
pub const ACCENT: Rgb = Rgb(0.16, 0.47, 0.82);
pub const DANGER: Rgb = Rgb(0.85, 0.3, 0.25);

/// Where a text's x lies relative to the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// One drawing primitive.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Rgb,
    },
    Line {
        points: Vec<(f32, f32)>,
        stroke: Rgb,
        width: f32,
    },
    Text {
        x: f32,
        y: f32,
        size: f32,
        anchor: Anchor,
        text: String,
    },
}

/// A titled picture of `width` × `height` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    pub width: f32,
    pub height: f32,
    pub shapes: Vec<Shape>,
}

const W: f32 = 520.0;
const H: f32 = 200.0;
const LEFT: f32 = 56.0;
const BOTTOM: f32 = 28.0;
const TOP: f32 = 12.0;

/// A readable axis maximum: 1, 2 or 5 × 10ⁿ at or above `v`.
fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|m| *m >= v)
        .unwrap_or(10.0 * magnitude)
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Axes with four horizontal grid lines labelled 0…max.
fn frame(max: f64, unit: &str) -> Vec<Shape> {
    let plot_h = H - TOP - BOTTOM;
    let mut shapes = Vec::new();
    for i in 0..=4 {
        let y = TOP + plot_h * (1.0 - i as f32 / 4.0);
        shapes.push(Shape::Line {
            points: vec![(LEFT, y), (W, y)],
            stroke: GRID,
            width: 0.5,
        });
        shapes.push(Shape::Text {
            x: LEFT - 4.0,
            y: y + 3.0,
            size: 8.0,
            anchor: Anchor::End,
            text: format!("{} {unit}", number(max * i as f64 / 4.0)),
        });
    }
    shapes
}

/// One bar per `(label, value)`, value printed above the bar.
pub fn bar_chart(title: &str, unit: &str, bars: &[(String, f64)]) -> Chart {
    let max = nice_max(bars.iter().map(|b| b.1).fold(0.0, f64::max));
    let mut shapes = frame(max, unit);
    let plot_h = H - TOP - BOTTOM;
    let slot = (W - LEFT) / bars.len().max(1) as f32;
    for (i, (label, value)) in bars.iter().enumerate() {
        let h = (plot_h as f64 * (value / max)) as f32;
        let x = LEFT + slot * i as f32 + slot * 0.2;
        let y = TOP + plot_h - h;
        shapes.push(Shape::Rect {
            x,
            y,
            w: slot * 0.6,
            h,
            fill: ACCENT,
        });
        let middle = x + slot * 0.3;
        shapes.push(Shape::Text {
            x: middle,
            y: y - 3.0,
            size: 8.0,
            anchor: Anchor::Middle,
            text: number(*value),
        });
        shapes.push(Shape::Text {
            x: middle,
            y: H - 12.0,
            size: 9.0,
            anchor: Anchor::Middle,
            text: label.clone(),
        });
    }
    Chart {
        title: title.into(),
        width: W,
        height: H,
        shapes,
    }
}

/// Lines of `(x seconds, y)` points sharing one y axis (first series in accent, second in red).
pub fn line_chart(title: &str, unit: &str, series: &[Vec<(f64, f64)>]) -> Chart {
    let all = || series.iter().flatten();
    let max = nice_max(all().map(|p| p.1).fold(0.0, f64::max));
    let x_max = all().map(|p| p.0).fold(0.0, f64::max).max(1.0);
    let mut shapes = frame(max, unit);
    let plot_h = H - TOP - BOTTOM;
    let to_xy = |(x, y): (f64, f64)| {
        (
            LEFT + (W - LEFT) * (x / x_max) as f32,
            TOP + plot_h * (1.0 - (y / max) as f32),
        )
    };
    for (i, points) in series.iter().enumerate() {
        let stroke = if i == 0 { ACCENT } else { DANGER };
        let points = points.iter().copied().map(to_xy).collect();
        shapes.push(Shape::Line {
            points,
            stroke,
            width: 1.5,
        });
    }
    for (x, anchor) in [(0.0, Anchor::Start), (x_max, Anchor::End)] {
        let text = format!("{} s", number(x));
        let (px, _) = to_xy((x, 0.0));
        shapes.push(Shape::Text {
            x: px,
            y: H - 12.0,
            size: 9.0,
            anchor,
            text,
        });
    }
    Chart {
        title: title.into(),
        width: W,
        height: H,
        shapes,
    }
}

/// Step outline of one series' share of its total per bin, as points in the plot area.
fn share_outline(counts: &[u64], peak: f64) -> Vec<(f32, f32)> {
    let plot_h = H - TOP - BOTTOM;
    let total = counts.iter().sum::<u64>().max(1) as f64;
    let step = (W - LEFT) / counts.len().max(1) as f32;
    let y = |c: u64| TOP + plot_h * (1.0 - (c as f64 / total / peak) as f32);
    let mut points = vec![(LEFT, TOP + plot_h)];
    for (i, c) in counts.iter().enumerate() {
        let x0 = LEFT + step * i as f32;
        points.push((x0, y(*c)));
        points.push((x0 + step, y(*c)));
    }
    points.push((W, TOP + plot_h));
    points
}

/// Two histograms over shared bins (`edges` in ms, one more than the counts) overlaid as step
/// outlines of each series' share of its total (A in accent, B in red), with a legend.
pub fn distribution_chart(title: &str, edges: &[f64], a: &[u64], b: &[u64]) -> Chart {
    let share = |c: &[u64]| {
        let total = c.iter().sum::<u64>().max(1) as f64;
        c.iter().map(|v| *v as f64 / total).fold(0.0, f64::max)
    };
    let peak = nice_max(share(a).max(share(b)) * 100.0) / 100.0;
    let mut shapes = frame(peak * 100.0, "%");
    for (i, (counts, colour, name)) in [(a, ACCENT, "A"), (b, DANGER, "B")].iter().enumerate() {
        shapes.push(Shape::Line {
            points: share_outline(counts, peak),
            stroke: *colour,
            width: 1.5,
        });
        let x = W - 60.0 + 30.0 * i as f32;
        shapes.push(Shape::Rect {
            x,
            y: TOP,
            w: 8.0,
            h: 8.0,
            fill: *colour,
        });
        shapes.push(Shape::Text {
            x: x + 11.0,
            y: TOP + 8.0,
            size: 9.0,
            anchor: Anchor::Start,
            text: (*name).into(),
        });
    }
    let (lo, hi) = (
        edges.first().copied().unwrap_or(0.0),
        edges.last().copied().unwrap_or(0.0),
    );
    for (x, value, anchor) in [(LEFT, lo, Anchor::Start), (W, hi, Anchor::End)] {
        shapes.push(Shape::Text {
            x,
            y: H - 12.0,
            size: 9.0,
            anchor,
            text: format!("{} ms", number(value)),
        });
    }
    Chart {
        title: title.into(),
        width: W,
        height: H,
        shapes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_maxima_are_round() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(120.0), 200.0);
        assert_eq!(nice_max(2000.0), 2000.0);
    }

    #[test]
    fn a_bar_per_value_scaled_to_the_axis() {
        let chart = bar_chart(
            "Latency",
            "ms",
            &[("p50".into(), 50.0), ("p99".into(), 100.0)],
        );
        let heights: Vec<f32> = chart
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Rect { h, .. } => Some(*h),
                _ => None,
            })
            .collect();
        assert_eq!(heights.len(), 2);
        assert!((heights[1] - 2.0 * heights[0]).abs() < 0.01);
        assert!(
            (heights[1] - (H - TOP - BOTTOM)).abs() < 0.01,
            "100 fills the 100 axis"
        );
    }

    #[test]
    fn overlaid_shares_peak_at_the_axis() {
        let chart = distribution_chart("Latency", &[0.0, 10.0, 20.0], &[1, 3], &[2, 2]);
        let lines: Vec<&Vec<(f32, f32)>> = chart
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Line { points, width, .. } if *width > 1.0 => Some(points),
                _ => None,
            })
            .collect();
        assert_eq!(lines.len(), 2, "one outline per series");
        let bottom = H - BOTTOM;
        let top_of = |p: &Vec<(f32, f32)>| p.iter().map(|q| q.1).fold(f32::MAX, f32::min);
        // A's peak share is 75 % on a 100 % axis, B's 50 %.
        assert!((bottom - top_of(lines[0]) - 0.75 * (H - TOP - BOTTOM)).abs() < 0.01);
        assert!((bottom - top_of(lines[1]) - 0.5 * (H - TOP - BOTTOM)).abs() < 0.01);
    }
}
