//! Epoch-millisecond columns rendered as RFC 3339 strings.

/// Formats epoch milliseconds as RFC 3339 (UTC, millisecond precision).
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// Same for nullable columns.
pub fn iso_opt(ms: Option<i64>) -> Option<String> {
    ms.map(iso)
}
