//! What a comparison report shows, read once and shared by the HTML and the PDF: both sessions'
//! key figures side by side with B − A, the statistics of the comparison (Mann–Whitney U test,
//! bootstrap interval of the median difference, cost and error-rate differences) and the two
//! latency distributions overlaid.

use actors::domain::summary::SessionSummary;
use projections::queries::{self, ComparisonResults, ComparisonView, Distribution, SessionView};
use sqlx::AnyPool;

use super::chart::{Chart, distribution_chart};

/// One compared session as read for the report (gone when it was deleted since).
#[derive(Debug, Clone, Default)]
pub struct Compared {
    pub view: Option<SessionView>,
    pub summary: Option<SessionSummary>,
}

impl Compared {
    async fn load(pool: &AnyPool, id: &str) -> Result<Self, sqlx::Error> {
        let view = queries::get_session(pool, id).await?;
        let summary = view
            .as_ref()
            .and_then(|v| v.summary_metrics.clone())
            .and_then(|v| serde_json::from_value::<SessionSummary>(v).ok());
        Ok(Self { view, summary })
    }

    fn summary_figure(&self, f: fn(&SessionSummary) -> Option<f64>) -> Option<f64> {
        self.summary.as_ref().and_then(f)
    }
}

/// One row of the side-by-side table, values printed.
#[derive(Debug, Clone, PartialEq)]
pub struct SideRow {
    pub label: &'static str,
    pub a: String,
    pub b: String,
    /// B − A, signed; `–` when a side has no value.
    pub diff: String,
}

/// How a figure prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Count,
    Ms,
    MsTenths,
    /// A percentage; its difference is in percentage points.
    Percent,
    Score,
}

impl Unit {
    fn value(self, v: f64) -> String {
        match self {
            Unit::Count => format!("{v:.0}"),
            Unit::Ms => format!("{v:.0} ms"),
            Unit::MsTenths => format!("{v:.1} ms"),
            Unit::Percent => format!("{v:.2} %"),
            Unit::Score => format!("{v:.3}"),
        }
    }

    fn diff(self, d: f64) -> String {
        match self {
            Unit::Count => format!("{d:+.0}"),
            Unit::Ms => format!("{d:+.0} ms"),
            Unit::MsTenths => format!("{d:+.1} ms"),
            Unit::Percent => format!("{d:+.2} pp"),
            Unit::Score => format!("{d:+.3}"),
        }
    }
}

const MISSING: &str = "–";

/// A row's label and how to read its value.
type Labelled<F> = (&'static str, F);
type OfLatency = fn(&Distribution) -> u64;
type OfSummary = fn(&SessionSummary) -> u64;
type OfScore = fn(&SessionSummary) -> Option<f64>;

fn row(label: &'static str, a: Option<f64>, b: Option<f64>, unit: Unit) -> SideRow {
    let print = |v: Option<f64>| v.map_or(MISSING.to_string(), |v| unit.value(v));
    SideRow {
        label,
        a: print(a),
        b: print(b),
        diff: a
            .zip(b)
            .map_or(MISSING.to_string(), |(a, b)| unit.diff(b - a)),
    }
}

/// A percentile of a latency distribution.
fn pct(d: &Option<Distribution>, f: fn(&Distribution) -> u64) -> Option<f64> {
    d.as_ref().map(|d| f(d) as f64)
}

/// A TTFT percentile; absent when the session's replies did not stream.
fn ttft(s: &Compared, f: fn(&SessionSummary) -> u64) -> Option<f64> {
    s.summary
        .as_ref()
        .filter(|x| x.p99_ttft_ms > 0)
        .map(|x| f(x) as f64)
}

/// p-values as printed: four decimals, scientific below 0.0001.
pub fn p_value(p: f64) -> String {
    if p >= 1e-4 || p == 0.0 {
        format!("{p:.4}")
    } else {
        format!("{p:.2e}")
    }
}

/// Everything a comparison report shows.
#[derive(Debug, Clone)]
pub struct ComparisonReport {
    pub comparison: ComparisonView,
    pub a: Compared,
    pub b: Compared,
}

impl ComparisonReport {
    /// Reads both sessions of `comparison` (the statistics are in its `results`).
    pub async fn load(pool: &AnyPool, comparison: ComparisonView) -> Result<Self, sqlx::Error> {
        let a = Compared::load(pool, &comparison.session_a_id).await?;
        let b = Compared::load(pool, &comparison.session_b_id).await?;
        Ok(Self { comparison, a, b })
    }

    /// `Krawall comparison: <name>`.
    pub fn title(&self) -> String {
        format!("Krawall comparison: {}", self.comparison.name)
    }

    /// `(A|B, name, id)` of both sessions.
    pub fn sessions(&self) -> [(&'static str, String, String); 2] {
        let c = &self.comparison;
        [
            ("A", c.session_a_name.clone(), c.session_a_id.clone()),
            ("B", c.session_b_name.clone(), c.session_b_id.clone()),
        ]
    }

    /// Both sessions' key figures side by side (empty when a session is gone).
    pub fn figures(&self) -> Vec<SideRow> {
        let Some(r) = &self.comparison.results else {
            return Vec::new();
        };
        let mut rows = self.count_rows(r);
        rows.extend(self.latency_rows(r));
        rows.push(self.cost_row(r));
        rows.extend(self.score_rows());
        rows
    }

    fn count_rows(&self, r: &ComparisonResults) -> Vec<SideRow> {
        let (a, b) = (self.a.view.as_ref(), self.b.view.as_ref());
        let view = |f: fn(&SessionView) -> i64| (a.map(|v| f(v) as f64), b.map(|v| f(v) as f64));
        let (errors_a, errors_b) = view(|v| v.error_count);
        let (in_a, in_b) = view(|v| v.tokens_in);
        let (out_a, out_b) = view(|v| v.tokens_out);
        let (rate_a, rate_b) = (r.error_rate.a * 100.0, r.error_rate.b * 100.0);
        let (messages, tokens) = (&r.message_count, &r.token_usage);
        vec![
            row("Messages", Some(messages.a), Some(messages.b), Unit::Count),
            row("Errors", errors_a, errors_b, Unit::Count),
            row("Error rate", Some(rate_a), Some(rate_b), Unit::Percent),
            row("Tokens in", in_a, in_b, Unit::Count),
            row("Tokens out", out_a, out_b, Unit::Count),
            row("Tokens total", Some(tokens.a), Some(tokens.b), Unit::Count),
        ]
    }

    fn latency_rows(&self, r: &ComparisonResults) -> Vec<SideRow> {
        let (la, lb) = (&r.statistics.latency_a, &r.statistics.latency_b);
        let avg = (r.response_time.a, r.response_time.b);
        let mut rows = vec![row("Latency avg", Some(avg.0), Some(avg.1), Unit::MsTenths)];
        let latency: [Labelled<OfLatency>; 4] = [
            ("Latency p50", |d| d.p50),
            ("Latency p95", |d| d.p95),
            ("Latency p99", |d| d.p99),
            ("Latency max", |d| d.max),
        ];
        rows.extend(latency.map(|(label, f)| row(label, pct(la, f), pct(lb, f), Unit::Ms)));
        let first_token: [Labelled<OfSummary>; 3] = [
            ("TTFT p50", |x| x.p50_ttft_ms),
            ("TTFT p95", |x| x.p95_ttft_ms),
            ("TTFT p99", |x| x.p99_ttft_ms),
        ];
        let (a, b) = (&self.a, &self.b);
        rows.extend(first_token.map(|(label, f)| row(label, ttft(a, f), ttft(b, f), Unit::Ms)));
        rows
    }

    fn score_rows(&self) -> Vec<SideRow> {
        let scores: [Labelled<OfScore>; 3] = [
            ("Repetition mean", |x| x.repetition_mean),
            ("Repetition max", |x| x.repetition_max),
            ("Quality mean", |x| x.quality_mean),
        ];
        let (a, b) = (&self.a, &self.b);
        scores
            .map(|(label, f)| row(label, a.summary_figure(f), b.summary_figure(f), Unit::Score))
            .into()
    }

    fn currency(&self) -> String {
        let of = |s: &Compared| s.summary.as_ref().and_then(|x| x.currency.clone());
        of(&self.a).or_else(|| of(&self.b)).unwrap_or_default()
    }

    /// Cost with the currency; no difference across currencies.
    fn cost_row(&self, r: &ComparisonResults) -> SideRow {
        let st = &r.statistics;
        let currency = self.currency();
        let print =
            |v: Option<f64>| v.map_or(MISSING.to_string(), |v| format!("{v:.6} {currency}"));
        let of = |s: &Compared| s.summary.as_ref().and_then(|x| x.currency.clone());
        let same_currency = of(&self.a) == of(&self.b);
        SideRow {
            label: "Cost",
            a: print(st.cost_a),
            b: print(st.cost_b),
            diff: match st.cost_diff {
                Some(d) if same_currency => format!("{d:+.6} {currency}"),
                _ => MISSING.into(),
            },
        }
    }

    /// The statistics as `(label, value)`, in display order.
    pub fn statistics(&self) -> Vec<(&'static str, String)> {
        let Some(r) = &self.comparison.results else {
            return Vec::new();
        };
        let st = &r.statistics;
        let winner = match r.winner {
            queries::Winner::A => "A",
            queries::Winner::B => "B",
            queries::Winner::Tie => "tie",
        };
        let mut out = vec![("Winner (latency, tokens, error rate)", winner.to_string())];
        match &st.mann_whitney {
            Some(mw) => {
                out.push(("Mann–Whitney U", format!("{:.1} (z = {:.3})", mw.u, mw.z)));
                out.push(("p-value (two-sided)", p_value(mw.p_value)));
            }
            None => out.push(("Mann–Whitney U", "not enough replies".into())),
        }
        if let Some(md) = &st.median_difference {
            out.push(("Median latency B - A", format!("{:+.1} ms", md.estimate)));
            out.push((
                "95 % bootstrap interval",
                format!(
                    "{:.1} to {:.1} ms ({} resamples)",
                    md.ci_low, md.ci_high, md.resamples
                ),
            ));
        }
        let cost = self.cost_row(r).diff;
        out.push(("Cost difference B - A", cost));
        let rate = st.error_rate_diff * 100.0;
        out.push(("Error-rate difference B - A", format!("{rate:+.2} pp")));
        out
    }

    /// The overlay of both latency distributions (none without replies).
    pub fn charts(&self) -> Vec<Chart> {
        let Some(r) = &self.comparison.results else {
            return Vec::new();
        };
        let bins = &r.statistics.distribution;
        if bins.edges.is_empty() {
            return Vec::new();
        }
        vec![distribution_chart(
            "Latency distributions (share of replies per bin; A blue, B red)",
            &bins.edges,
            &bins.a,
            &bins.b,
        )]
    }
}
