//! `/sessions`: every session, newest first, filtered by status (links), target and scenario,
//! paged 50 at a time with the total count; plus the formatting helpers the session, command
//! center and metrics pages share.

use actix_web::{HttpResponse, web};
use projections::queries::{self, NamedRef, SessionFilter, SessionRow};
use sailfish::TemplateSimple;
use serde::Deserialize;

use super::render::{Layout, PageError, html};
use crate::routes::AppState;

pub(super) const PAGE_SIZE: i64 = 50;
/// Status filter links: label and `?status=` value (empty = all).
const STATUSES: &[(&str, &str)] = &[
    ("All", ""),
    ("Queued", "QUEUED"),
    ("Running", "RUNNING"),
    ("Completed", "COMPLETED"),
    ("Failed", "FAILED"),
    ("Cancelled", "CANCELLED"),
];
/// Most targets/scenarios offered in the filter pickers.
const PICKER_LIMIT: i64 = 500;

/// Now as epoch milliseconds.
pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `2024-05-01 12:34:56 UTC`.
pub(super) fn fmt_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// `04:27:26` for today (UTC), `2024-05-01 12:34` otherwise: compact, for table cells.
pub(super) fn fmt_short_time(ms: i64, now: i64) -> String {
    let (Some(t), Some(today)) = (
        chrono::DateTime::from_timestamp_millis(ms),
        chrono::DateTime::from_timestamp_millis(now),
    ) else {
        return String::new();
    };
    if t.date_naive() == today.date_naive() {
        t.format("%H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// RFC 3339, for `<time datetime>`.
pub(super) fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// `850 ms`, `12.3 s`, `4 m 05 s`, `2 h 03 m`.
pub(super) fn fmt_duration(ms: i64) -> String {
    if ms < 1_000 {
        format!("{} ms", ms.max(0))
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{} m {:02} s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{} h {:02} m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

/// A latency like `krawall.fmtMs`: `123 ms`, `1.23 s`, `–` when unknown.
pub(super) fn fmt_latency(ms: Option<f64>) -> String {
    match ms {
        None => "–".into(),
        Some(ms) if ms >= 1000.0 => format!("{:.2} s", ms / 1000.0),
        Some(ms) => format!("{} ms", ms.round() as i64),
    }
}

/// `1,234,567`.
pub(super) fn fmt_int(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Percent-encodes a query-string value.
pub(super) fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A session as the list, the command center and the detail page show it.
pub(super) struct RowView {
    pub id: String,
    pub status: String,
    pub target_id: String,
    pub target_name: String,
    pub scenario_id: String,
    pub scenario_name: String,
    pub queued: String,
    pub queued_iso: String,
    pub queued_short: String,
    pub started: String,
    pub started_short: String,
    pub finished: String,
    /// Start of the running clock (epoch ms), 0 when not started.
    pub started_ms: i64,
    pub duration: String,
    pub activity: String,
    pub activity_iso: String,
    pub messages: i64,
    pub errors: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub avg_latency: String,
    pub active: bool,
}

impl RowView {
    pub fn of(r: &SessionRow, now: i64) -> Self {
        Self {
            id: r.id.clone(),
            status: r.status.clone(),
            target_id: r.target_id.clone(),
            target_name: r.target_name.clone(),
            scenario_id: r.scenario_id.clone().unwrap_or_default(),
            scenario_name: r.scenario_name.clone(),
            queued: fmt_time(r.queued_at_ms),
            queued_iso: iso(r.queued_at_ms),
            queued_short: fmt_short_time(r.queued_at_ms, now),
            started: r.started_at_ms.map(fmt_time).unwrap_or_else(|| "–".into()),
            started_short: r
                .started_at_ms
                .map(|t| fmt_short_time(t, now))
                .unwrap_or_else(|| "–".into()),
            finished: r
                .completed_at_ms
                .map(fmt_time)
                .unwrap_or_else(|| "–".into()),
            started_ms: r.started_at_ms.unwrap_or(0),
            duration: r
                .duration_ms(now)
                .map(fmt_duration)
                .unwrap_or_else(|| "–".into()),
            activity: fmt_time(r.activity_at_ms()),
            activity_iso: iso(r.activity_at_ms()),
            messages: r.message_count,
            errors: r.error_count,
            tokens_in: r.tokens_in,
            tokens_out: r.tokens_out,
            avg_latency: fmt_latency(r.avg_latency_ms()),
            active: r.is_active(),
        }
    }

    /// What happened last, for the activity feed.
    pub fn verb(&self) -> &'static str {
        match self.status.as_str() {
            "QUEUED" => "queued",
            "RUNNING" => "started",
            "COMPLETED" => "completed",
            "FAILED" => "failed",
            _ => "cancelled",
        }
    }
}

/// One pagination link; `None` pages are gaps (`…`).
pub(super) struct PageLink {
    pub number: Option<i64>,
    pub href: String,
    pub current: bool,
}

#[derive(TemplateSimple)]
#[template(path = "sessions/index.stpl")]
struct SessionsPage {
    page: Layout,
    rows: Vec<RowView>,
    total: i64,
    current: i64,
    pages: i64,
    first: i64,
    last: i64,
    status: String,
    target: String,
    scenario: String,
    status_links: Vec<(&'static str, String, bool)>,
    page_links: Vec<PageLink>,
    prev: Option<String>,
    next: Option<String>,
    targets: Vec<NamedRef>,
    scenarios: Vec<NamedRef>,
}

/// `?status=&target=&scenario=&page=`; lenient: unknown values fall back to "all" / page 1.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    target: Option<String>,
    scenario: Option<String>,
    page: Option<String>,
}

fn href(status: &str, target: &str, scenario: &str, page: i64) -> String {
    let mut parts = Vec::new();
    for (key, value) in [
        ("status", status),
        ("target", target),
        ("scenario", scenario),
    ] {
        if !value.is_empty() {
            parts.push(format!("{key}={}", encode(value)));
        }
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        "/sessions".into()
    } else {
        format!("/sessions?{}", parts.join("&"))
    }
}

/// 1, …, current-2 ..= current+2, …, last.
fn page_numbers(current: i64, pages: i64) -> Vec<Option<i64>> {
    let mut out = Vec::new();
    for n in 1..=pages {
        if n == 1 || n == pages || (n - current).abs() <= 2 {
            out.push(Some(n));
        } else if out.last().is_some_and(Option::is_some) {
            out.push(None);
        }
    }
    out
}

/// The list's filters after lenient parsing: unknown values mean "all" / page 1.
struct Filters {
    status: String,
    target: String,
    scenario: String,
    page: i64,
}

impl Filters {
    fn parse(q: ListQuery) -> Self {
        let status = q.status.map(|s| s.to_uppercase());
        Self {
            status: status
                .filter(|s| STATUSES.iter().any(|(_, v)| v == s))
                .unwrap_or_default(),
            target: q.target.unwrap_or_default(),
            scenario: q.scenario.unwrap_or_default(),
            page: q
                .page
                .and_then(|p| p.trim().parse::<i64>().ok())
                .unwrap_or(1)
                .clamp(1, i64::MAX / PAGE_SIZE),
        }
    }

    fn href(&self, page: i64) -> String {
        href(&self.status, &self.target, &self.scenario, page)
    }

    /// Page links, previous and next for `pages` pages.
    fn pagination(&self, pages: i64) -> (Vec<PageLink>, Option<String>, Option<String>) {
        let current = self.page;
        let links = page_numbers(current, pages)
            .into_iter()
            .map(|n| PageLink {
                number: n,
                href: n.map(|n| self.href(n)).unwrap_or_default(),
                current: n == Some(current),
            })
            .collect();
        let prev = (current > 1).then(|| self.href((current - 1).min(pages)));
        let next = (current < pages).then(|| self.href(current + 1));
        (links, prev, next)
    }
}

pub async fn list_sessions(
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let f = Filters::parse(q.into_inner());
    let filter = SessionFilter {
        status: Some(f.status.clone()),
        target_id: Some(f.target.clone()),
        scenario_id: Some(f.scenario.clone()),
        limit: PAGE_SIZE,
        offset: (f.page - 1) * PAGE_SIZE,
    };
    let result = queries::session_rows(&state.read, &filter).await?;
    let pages = ((result.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let (page_links, prev, next) = f.pagination(pages);
    let now = now_ms();
    html(SessionsPage {
        page: Layout::new("Sessions", "sessions"),
        first: if result.rows.is_empty() {
            0
        } else {
            filter.offset + 1
        },
        last: filter.offset + result.rows.len() as i64,
        rows: result.rows.iter().map(|r| RowView::of(r, now)).collect(),
        total: result.total,
        current: f.page,
        pages,
        status_links: STATUSES
            .iter()
            .map(|(label, v)| (*label, href(v, &f.target, &f.scenario, 1), *v == f.status))
            .collect(),
        page_links,
        prev,
        next,
        targets: queries::target_names(&state.read, PICKER_LIMIT).await?,
        scenarios: queries::scenario_names(&state.read, PICKER_LIMIT).await?,
        status: f.status,
        target: f.target,
        scenario: f.scenario,
    })
}
