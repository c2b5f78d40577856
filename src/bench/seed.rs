//! Bulk seeding of the `sessions` and `session_messages` read models for the page benchmark:
//! multi-row INSERTs (values are generated here, so they are written as literals) in large
//! transactions, with realistic distributions: statuses, 30 days of timestamps, errors, latency.

use std::fmt::Write;

use sqlx::AnyPool;
use uuid::Uuid;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Sessions per INSERT statement and per transaction.
const SESSIONS_PER_INSERT: usize = 500;
const SESSIONS_PER_TX: usize = 10_000;
const MESSAGES_PER_INSERT: usize = 2_000;
const ACTIVE: usize = 20;

const SESSION_COLUMNS: &str = "id, target_id, target_name, scenario_id, scenario_name, status, queued_at_ms, \
    started_at_ms, completed_at_ms, message_count, error_count, tokens_in, tokens_out, latency_total_ms, \
    summary, failure_reason, error, restarted_from, execution_config";
const MESSAGE_COLUMNS: &str = "session_id, message_index, attempt, repetition_index, request, response, outcome, \
    http_status, latency_ms, tokens_in, tokens_out, tokens_estimated, raw_size, error_kind, error, action, \
    injected, sent_at_ms, received_at_ms";

const WORDS: &[&str] = &[
    "order",
    "refund",
    "shipping",
    "account",
    "password",
    "invoice",
    "delivery",
    "warranty",
    "discount",
    "subscription",
    "upgrade",
    "cancel",
    "billing",
    "address",
    "tracking",
    "support",
];

/// A target or scenario the seeded sessions reference (they exist in the catalog).
#[derive(Debug, Clone)]
pub struct Ref {
    pub id: String,
    pub name: String,
}

/// What the seeder references: targets, scenarios and one scenario spec (execution config).
#[derive(Debug, Clone)]
pub struct Catalog {
    pub targets: Vec<Ref>,
    pub scenarios: Vec<Ref>,
    pub spec_json: String,
}

/// A SQL string literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "NULL".into(), |v| v.to_string())
}

/// Latency in ms: mostly 200–1200, a long tail to 8 s.
fn latency(rng: &mut fastrand::Rng) -> i64 {
    let base = rng.i64(200..1200);
    if rng.f64() < 0.05 {
        base * rng.i64(2..7)
    } else {
        base
    }
}

fn text(rng: &mut fastrand::Rng, words: usize) -> String {
    (0..words)
        .map(|_| WORDS[rng.usize(..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

/// Appends one session's messages to `out` (literal rows); returns (errors, tokens in, out, latency).
fn messages(
    rng: &mut fastrand::Rng,
    id: &str,
    start: i64,
    per: usize,
    out: &mut Vec<String>,
) -> [i64; 4] {
    let (mut at, mut sums) = (start, [0i64; 4]);
    for i in 0..per {
        let (lat, tin, tout) = (latency(rng), rng.i64(20..120), rng.i64(60..450));
        let request = lit(&format!("Question {i}: what about my {}?", text(rng, 6)));
        let row = if rng.f64() < 0.04 {
            sums[0] += 1;
            let (kind, status) = if rng.bool() {
                ("timeout", "NULL")
            } else {
                ("http_status", "500")
            };
            format!(
                "({}, {i}, 0, 0, {request}, NULL, 'error', {status}, {lat}, NULL, NULL, NULL, NULL, {}, 'upstream failed', 'skip', NULL, {at}, {})",
                lit(id),
                lit(kind),
                at + lat
            )
        } else {
            (sums[1], sums[2], sums[3]) = (sums[1] + tin, sums[2] + tout, sums[3] + lat);
            let response = lit(&format!(
                "Sure! About your {}: {}.",
                text(rng, 2),
                text(rng, 40)
            ));
            format!(
                "({}, {i}, 0, 0, {request}, {response}, 'ok', 200, {lat}, {tin}, {tout}, 0, {}, NULL, NULL, NULL, NULL, {at}, {})",
                lit(id),
                tout * 4 + 300,
                at + lat
            )
        };
        out.push(row);
        at += lat + rng.i64(5..50);
    }
    sums
}

/// Status of the `k`-th oldest of `n` sessions: the newest few are active, the rest finished.
fn status(rng: &mut fastrand::Rng, k: usize, n: usize) -> &'static str {
    match (n - k, rng.f64()) {
        (left, _) if left <= ACTIVE / 2 => "QUEUED",
        (left, _) if left <= ACTIVE => "RUNNING",
        (_, r) if r < 0.08 => "FAILED",
        (_, r) if r < 0.13 => "CANCELLED",
        _ => "COMPLETED",
    }
}

/// One session row (literal) plus its messages appended to `msgs`.
fn session(
    rng: &mut fastrand::Rng,
    cat: &Catalog,
    k: usize,
    n: usize,
    per: usize,
    now: i64,
    msgs: &mut Vec<String>,
) -> String {
    let id = Uuid::new_v4().to_string();
    let queued = now - 30 * DAY_MS + (30 * DAY_MS) * k as i64 / n as i64 + rng.i64(0..1000);
    let status = status(rng, k, n);
    let t = &cat.targets[rng.usize(..cat.targets.len())];
    let s = &cat.scenarios[rng.usize(..cat.scenarios.len())];
    let mut row = format!(
        "({}, {}, {}, {}, {}, '{status}', {queued}, ",
        lit(&id),
        lit(&t.id),
        lit(&t.name),
        lit(&s.id),
        lit(&s.name)
    );
    if status == "QUEUED" {
        let _ = write!(
            row,
            "NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, {})",
            lit(&cat.spec_json)
        );
        return row;
    }
    let started = queued + rng.i64(5..400);
    let sent = if status == "RUNNING" { per / 2 } else { per };
    let [errors, tin, tout, lat] = messages(rng, &id, started, sent, msgs);
    let completed = (status != "RUNNING").then(|| started + lat + 60 * sent as i64);
    let summary = completed.map(|_| {
        let avg = lat as f64 / (sent as i64 - errors).max(1) as f64;
        lit(&format!(r#"{{"messageCount":{sent},"errorCount":{errors},"tokensIn":{tin},"tokensOut":{tout},"avgLatencyMs":{avg:.1},"p50LatencyMs":{},"p95LatencyMs":{},"maxLatencyMs":{},"errorsByKind":{{}}}}"#,
            avg as i64, avg as i64 * 2, avg as i64 * 3))
    });
    let (reason, error) = if status == "FAILED" {
        (
            Some(lit("aborted")),
            Some(lit("error policy aborted after HTTP 500")),
        )
    } else {
        (None, None)
    };
    let _ = write!(
        row,
        "{started}, {}, {sent}, {errors}, {tin}, {tout}, {lat}, {}, {}, {}, NULL, {})",
        opt(completed),
        opt(summary),
        opt(reason),
        opt(error),
        lit(&cat.spec_json)
    );
    row
}

async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    table: &str,
    columns: &str,
    rows: &[String],
) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO {table} ({columns}) VALUES {}",
        rows.join(",\n")
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Inserts `n` sessions with `per` messages each (fewer for running, none for queued ones);
/// returns the number of message rows.
pub async fn seed(pool: &AnyPool, cat: &Catalog, n: usize, per: usize) -> anyhow::Result<usize> {
    let mut rng = fastrand::Rng::with_seed(42);
    let now = chrono::Utc::now().timestamp_millis();
    let mut total = 0;
    for first in (0..n).step_by(SESSIONS_PER_TX) {
        let mut tx = pool.begin().await?;
        let last = (first + SESSIONS_PER_TX).min(n);
        for chunk in (first..last).step_by(SESSIONS_PER_INSERT) {
            let mut msgs = Vec::new();
            let rows: Vec<String> = (chunk..(chunk + SESSIONS_PER_INSERT).min(last))
                .map(|k| session(&mut rng, cat, k, n, per, now, &mut msgs))
                .collect();
            insert(&mut tx, "sessions", SESSION_COLUMNS, &rows).await?;
            for part in msgs.chunks(MESSAGES_PER_INSERT) {
                insert(&mut tx, "session_messages", MESSAGE_COLUMNS, part).await?;
            }
            total += msgs.len();
        }
        tx.commit().await?;
    }
    Ok(total)
}
