//! Round trips through every format, with nulls, quotes, commas, newlines and non-ASCII text,
//! over several chunks (several Parquet row groups).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::{COLUMNS, ExchangeRow, ExportFormat, ExportWriter, read_rows};

fn row(i: i64) -> ExchangeRow {
    let failed = i % 3 == 0;
    ExchangeRow {
        session_id: "s-1".into(),
        target_id: "t-1".into(),
        target_name: "Bot, \"quoted\"".into(),
        scenario_id: (i % 2 == 0).then(|| "sc-1".into()),
        scenario_name: "Scénario ✓".into(),
        message_index: i,
        attempt: 1 + i % 2,
        repetition_index: i / 4,
        request: format!("line one\nline two {i}"),
        response: (!failed).then(|| format!("reply, {i}")),
        outcome: if failed { "error" } else { "ok" }.into(),
        http_status: Some(if failed { 500 } else { 200 }),
        latency_ms: (!failed).then_some(100 + i),
        ttft_ms: None,
        chunk_count: Some(i),
        inter_chunk_mean_ms: None,
        inter_chunk_max_ms: None,
        tokens_in: Some(10 * i),
        tokens_out: (!failed).then_some(20 * i),
        tokens_estimated: Some(i % 2 == 0),
        raw_size: Some(1234),
        cost: (!failed).then_some(0.000_123_456_789 * i as f64),
        repetition_score: (!failed).then_some(1.0 / (i + 1) as f64),
        quality_score: (!failed).then_some(0.5 + 0.01 * i as f64),
        error_kind: failed.then(|| "http_5xx".into()),
        error: failed.then(|| "HTTP 500: \"boom\"".into()),
        action: None,
        injected: None,
        partial: Some(String::new()),
        context_messages: Some(3),
        context_tokens: Some(42),
        wait_ms: Some(0),
        sent_at: "2026-11-30T01:00:00.000Z".into(),
        received_at: (!failed).then(|| "2026-11-30T01:00:00.250Z".into()),
    }
}

fn export(format: ExportFormat, rows: &[ExchangeRow], chunk: usize) -> Vec<u8> {
    let mut writer = ExportWriter::new(format, Vec::new()).unwrap();
    for part in rows.chunks(chunk) {
        writer.write_chunk(part).unwrap();
    }
    let (bytes, n) = writer.finish().unwrap();
    assert_eq!(n, rows.len() as u64);
    bytes
}

/// Floats to 13 significant digits: serde_json's default parser (no `float_roundtrip`) may
/// miss the last bit of what it wrote; CSV and Parquet are compared exactly.
fn rounded(rows: &[ExchangeRow]) -> Vec<ExchangeRow> {
    let round = |v: Option<f64>| v.map(|v| format!("{v:.12e}").parse::<f64>().unwrap());
    rows.iter()
        .map(|r| ExchangeRow {
            cost: round(r.cost),
            repetition_score: round(r.repetition_score),
            quality_score: round(r.quality_score),
            ..r.clone()
        })
        .collect()
}

#[test]
fn every_format_reads_back_the_same_rows() {
    let rows: Vec<ExchangeRow> = (0..25).map(row).collect();
    for format in [ExportFormat::Csv, ExportFormat::Parquet] {
        let bytes = export(format, &rows, 7);
        assert_eq!(read_rows(format, &bytes).unwrap(), rows, "{format}");
    }
    let bytes = export(ExportFormat::Ndjson, &rows, 7);
    let back = read_rows(ExportFormat::Ndjson, &bytes).unwrap();
    assert_eq!(rounded(&back), rounded(&rows));
}

#[test]
fn csv_has_a_header_of_every_column_even_without_rows() {
    let bytes = export(ExportFormat::Csv, &[], 10);
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text.trim_end(), COLUMNS.join(","));
    assert_eq!(COLUMNS.len(), 34);
}

#[test]
fn parquet_writes_a_row_group_per_chunk_and_an_empty_file_is_valid() {
    let rows: Vec<ExchangeRow> = (0..10).map(row).collect();
    let bytes = export(ExportFormat::Parquet, &rows, 4);
    assert_eq!(&bytes[..4], b"PAR1");
    assert_eq!(read_rows(ExportFormat::Parquet, &bytes).unwrap().len(), 10);
    let empty = export(ExportFormat::Parquet, &[], 4);
    assert!(read_rows(ExportFormat::Parquet, &empty).unwrap().is_empty());
}

#[test]
fn ndjson_is_one_object_per_line_with_the_column_names() {
    let bytes = export(ExportFormat::Ndjson, &[row(1), row(3)], 1);
    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let keys: Vec<&str> = lines[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = COLUMNS.to_vec();
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(lines[1]["errorKind"], "http_5xx");
    assert!(lines[1]["response"].is_null());
}
