//! Exports and the report: CSV, Parquet and NDJSON of a session read back give exactly the API's
//! message rows; the list export honours the session list's filters; the HTML and PDF reports
//! carry the summary's figures; bad formats are 400s naming `format`.

use export::{ExportFormat, read_rows};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};

/// Runs a session of `messages` against `path` of the mock; returns (session, target id).
async fn run(app: &TestApp, path: &str, messages: Value) -> (Value, String) {
    let target = app.create("/api/targets", &app.mock_target(path)).await;
    let config = json!({"customMessages": messages, "repetitions": 2,
        "thresholds": {"latency_p95_ms": "<60000", "error_rate": "<0.5"}});
    let id = app
        .execute(&json!({"targetId": target, "executionConfig": config}))
        .await;
    let session = app.wait_for_status(&id, &["COMPLETED", "FAILED"]).await;
    (session, target)
}

/// The API's message rows of a session with the session's ids: what an export must contain.
async fn expected_rows(app: &TestApp, session: &Value) -> Vec<Value> {
    let id = session["id"].as_str().unwrap();
    let (status, resp) = app.get(&format!("/api/sessions/{id}/messages")).await;
    assert_eq!(status, 200, "{resp}");
    let messages = resp["data"]["messages"].as_array().unwrap();
    assert!(!messages.is_empty());
    messages
        .iter()
        .map(|m| {
            let mut row = m.as_object().unwrap().clone();
            for key in ["targetId", "targetName", "scenarioId", "scenarioName"] {
                row.insert(key.into(), session[key].clone());
            }
            row.insert("sessionId".into(), session["id"].clone());
            rounded(Value::Object(row))
        })
        .collect()
}

async fn download(app: &TestApp, path: &str) -> (u16, String, String, Vec<u8>) {
    let r = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    (
        r.status().as_u16(),
        ct,
        cd,
        r.bytes().await.unwrap().to_vec(),
    )
}

/// Non-integer numbers to 13 significant digits: the API's JSON is read with serde_json's
/// default float parser, which may miss the last bit; exports carry the exact value.
fn rounded(v: Value) -> Value {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            let f = n.as_f64().unwrap();
            json!(format!("{f:.12e}").parse::<f64>().unwrap())
        }
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, rounded(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(rounded).collect()),
        other => other,
    }
}

fn as_values(format: ExportFormat, bytes: &[u8]) -> Vec<Value> {
    read_rows(format, bytes)
        .unwrap()
        .iter()
        .map(|r| rounded(serde_json::to_value(r).unwrap()))
        .collect()
}

async fn session_exports_round_trip(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (session, _) = run(
        &app,
        "/v1/chat/completions",
        json!(["hello, \"bot\"", "line\ntwo", "drei ✓"]),
    )
    .await;
    let expected = expected_rows(&app, &session).await;
    assert_eq!(expected.len(), 6);
    let id = session["id"].as_str().unwrap();
    for (format, content_type) in [
        (ExportFormat::Csv, "text/csv; charset=utf-8"),
        (ExportFormat::Parquet, "application/vnd.apache.parquet"),
        (ExportFormat::Ndjson, "application/x-ndjson"),
    ] {
        let path = format!("/api/sessions/{id}/export?format={format}");
        let (status, ct, cd, body) = download(&app, &path).await;
        assert_eq!(status, 200, "{format}");
        assert_eq!(ct, content_type);
        assert_eq!(
            cd,
            format!("attachment; filename=\"krawall-session-{id}.{format}\"")
        );
        assert_eq!(
            as_values(format, &body),
            expected,
            "{format} rows = API rows"
        );
    }
    let (_, _, _, ndjson) =
        download(&app, &format!("/api/sessions/{id}/export?format=ndjson")).await;
    let lines: Vec<Value> = String::from_utf8(ndjson)
        .unwrap()
        .lines()
        .map(|l| rounded(serde_json::from_str(l).unwrap()))
        .collect();
    assert_eq!(
        lines, expected,
        "NDJSON parses line by line into the API's rows"
    );
}

#[actix_web::test]
async fn session_exports_round_trip_on_sqlite() {
    session_exports_round_trip(Backend::Sqlite).await;
}

#[actix_web::test]
async fn session_exports_round_trip_on_postgres() {
    session_exports_round_trip(Backend::Postgres).await;
}

async fn list_export_applies_the_filters(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ok, ok_target) = run(&app, "/v1/chat/completions", json!(["one", "two"])).await;
    let (failing, _) = run(&app, "/no/such/path", json!(["one"])).await;
    let ok_rows = expected_rows(&app, &ok).await;
    let failing_rows = expected_rows(&app, &failing).await;
    assert!(
        failing_rows.iter().all(|r| r["outcome"] == "error"),
        "{failing_rows:?}"
    );

    let (status, _, cd, body) = download(&app, "/api/export/sessions?format=parquet").await;
    assert_eq!(status, 200);
    assert_eq!(cd, "attachment; filename=\"krawall-sessions.parquet\"");
    let all = as_values(ExportFormat::Parquet, &body);
    let newest_first: Vec<Value> = failing_rows.iter().chain(&ok_rows).cloned().collect();
    assert_eq!(
        all, newest_first,
        "every session's rows, newest session first"
    );

    let path = format!("/api/export/sessions?format=csv&targetId={ok_target}");
    let (_, _, _, body) = download(&app, &path).await;
    assert_eq!(as_values(ExportFormat::Csv, &body), ok_rows);
    let status_filter = format!(
        "/api/export/sessions?format=ndjson&status={}",
        failing["status"].as_str().unwrap()
    );
    let (_, _, _, body) = download(&app, &status_filter).await;
    let ids: Vec<Value> = as_values(ExportFormat::Ndjson, &body)
        .iter()
        .map(|r| r["sessionId"].clone())
        .collect();
    let expected_ids: Vec<Value> = if failing["status"] == ok["status"] {
        newest_first
            .iter()
            .map(|r| r["sessionId"].clone())
            .collect()
    } else {
        failing_rows
            .iter()
            .map(|r| r["sessionId"].clone())
            .collect()
    };
    assert_eq!(ids, expected_ids);
}

#[actix_web::test]
async fn list_export_applies_the_filters_on_sqlite() {
    list_export_applies_the_filters(Backend::Sqlite).await;
}

#[actix_web::test]
async fn list_export_applies_the_filters_on_postgres() {
    list_export_applies_the_filters(Backend::Postgres).await;
}

#[actix_web::test]
async fn bad_formats_and_filters_are_400s_naming_the_field() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (session, _) = run(&app, "/v1/chat/completions", json!(["one"])).await;
    let id = session["id"].as_str().unwrap();
    for (path, field, rule) in [
        (
            format!("/api/sessions/{id}/export?format=xlsx"),
            "format",
            "must be one of csv, ndjson, parquet, got \"xlsx\"",
        ),
        (
            "/api/export/sessions?format=json".into(),
            "format",
            "must be one of csv, ndjson, parquet, got \"json\"",
        ),
        (
            "/api/export/sessions?format=csv&status=DONE".into(),
            "status",
            "must be one of",
        ),
        (
            format!("/api/sessions/{id}/report?format=docx"),
            "format",
            "must be one of html, pdf, got \"docx\"",
        ),
    ] {
        let (status, resp) = app.get(&path).await;
        assert_eq!(status, 400, "{path}: {resp}");
        let named =
            resp["details"].as_array().unwrap().iter().any(|d| {
                d["field"] == field && d["rule"].as_str().is_some_and(|r| r.contains(rule))
            });
        assert!(named, "{path}: {resp}");
    }
    let missing = "/api/sessions/00000000-0000-0000-0000-000000000000";
    for path in [
        format!("{missing}/export?format=csv"),
        format!("{missing}/report"),
    ] {
        assert_eq!(app.get(&path).await.0, 404, "{path}");
    }
}

/// `krawall export` on the node's data dir: one session to a Parquet file, then the filtered
/// list as CSV on stdout; both give the API's rows.
#[actix_web::test]
async fn the_cli_exports_a_session_and_the_filtered_list() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (session, target) = run(&app, "/v1/chat/completions", json!(["one", "two"])).await;
    let (other, _) = run(&app, "/no/such/path", json!(["one"])).await;
    let expected = expected_rows(&app, &session).await;
    assert_ne!(expected_rows(&app, &other).await, expected);
    let data_dir = app._dir.path();
    let krawall = |args: Vec<String>| {
        std::process::Command::new(env!("CARGO_BIN_EXE_krawall"))
            .arg("export")
            .args(args)
            .arg("--data-dir")
            .arg(data_dir)
            .env_remove("KRAWALL_DATABASE_URL")
            .output()
            .unwrap()
    };
    let file = data_dir.join("one.parquet");
    let id = session["id"].as_str().unwrap().to_string();
    let out = krawall(vec![
        "--session".into(),
        id,
        "--format".into(),
        "parquet".into(),
        "-o".into(),
        file.display().to_string(),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("exported 4 rows (parquet)"),
        "{out:?}"
    );
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(as_values(ExportFormat::Parquet, &bytes), expected);

    let out = krawall(vec![
        "--target-id".into(),
        target,
        "--format".into(),
        "csv".into(),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(as_values(ExportFormat::Csv, &out.stdout), expected);

    let out = krawall(vec!["--format".into(), "xlsx".into()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("must be one of csv, ndjson, parquet"),
        "{stderr}"
    );
}
