//! Dashboard page times over a large history: a node on a database seeded with N sessions and
//! N × M `session_messages` rows (`seed.rs`, straight into the read models), then sequential GETs
//! of the command center, the sessions list (first page, a deep page, a status filter), a session
//! page and the JSON list; p50/p95/max per page. SQLite, and PostgreSQL with `--postgres-url`.

use std::time::{Duration, Instant};

use actors::commands::{ExecuteRequest, ExecutionOverrides};
use actors::domain::scenario_input::parse_scenario;
use anyhow::Context;
use serde_json::json;
use uuid::Uuid;

use super::seed::{Catalog, Ref, seed};
use super::stats::Percentiles;
use super::support::tempfile_dir;
use crate::config::Settings;
use crate::mock::{MockSettings, start_mock};
use crate::startup::{Application, Core};

/// Sizes of the page benchmark.
#[derive(Debug, Clone, Copy)]
pub struct PagesSize {
    pub sessions: usize,
    pub messages_per_session: usize,
    /// GETs per page.
    pub requests: usize,
}

/// Seeds a database (`database_url`, or SQLite in a scratch dir), starts a node on it and times
/// the dashboard's pages.
pub async fn bench_pages(
    label: &str,
    database_url: Option<String>,
    size: PagesSize,
) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let mut settings = Settings::new(dir.clone());
    settings.bind = "127.0.0.1:0".into();
    // A loopback node measured without authentication (no token lookup per request).
    settings.auth = crate::config::AuthMode::Off;
    settings.database_url = database_url;
    settings.recover_sessions = false;
    settings.background_workers = false;
    let app = Application::build(&settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let core = app.core.clone();
    actix_web::rt::spawn(app.run_until_stopped());
    let (catalog, session) = catalog(&core, size.messages_per_session).await?;
    let started = Instant::now();
    let rows = seed(
        core.store.pool(),
        &catalog,
        size.sessions,
        size.messages_per_session,
    )
    .await?;
    println!(
        "pages    {label:<9} seeded {} sessions + {rows} messages in {:.1} s",
        size.sessions,
        started.elapsed().as_secs_f64()
    );
    if label == "postgres" {
        // What autovacuum does shortly after such a load (statistics, visibility map for
        // index-only scans); SQLite gets nothing: the node never runs ANALYZE.
        for table in ["sessions", "session_messages"] {
            let sql = format!("VACUUM ANALYZE {table}");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(core.store.pool())
                .await?;
        }
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let paths = [
        "/".to_string(),
        "/sessions".into(),
        "/sessions?page=1000".into(),
        "/sessions?status=FAILED".into(),
        format!("/sessions/{session}"),
        "/metrics".into(),
        "/api/sessions?limit=50".into(),
    ];
    for path in paths {
        time_page(&client, &base, label, &path, size.requests).await?;
    }
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

/// GETs `path` once to warm up, then `n` times; prints p50/p95/max.
async fn time_page(
    client: &reqwest::Client,
    base: &str,
    label: &str,
    path: &str,
    n: usize,
) -> anyhow::Result<()> {
    let url = format!("{base}{path}");
    let warm = client.get(&url).send().await?;
    let status = warm.status();
    let bytes = warm.bytes().await?.len();
    if !status.is_success() {
        println!("pages    {label:<9} GET {path:<45} answered {status}: skipped");
        return Ok(());
    }
    let mut millis = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let resp = client.get(&url).send().await?;
        let ok = resp.status().is_success();
        resp.bytes().await?;
        millis.push(started.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(ok, "GET {path} failed during the run");
    }
    let p = Percentiles::of(millis);
    println!(
        "pages    {label:<9} GET {path:<45} p50 {:>7.2} ms  p95 {:>7.2} ms  max {:>7.2} ms  ({} KiB, {n} requests)",
        p.p50,
        p.p95,
        p.max,
        bytes / 1024
    );
    Ok(())
}

/// Creates 8 targets and 20 scenarios through the commands, and runs one real session of
/// `messages` exchanges against the in-process mock; returns the catalog and that session.
async fn catalog(core: &Core, messages: usize) -> anyhow::Result<(Catalog, Uuid)> {
    let err = |e: actors::commands::CommandError| anyhow::anyhow!("{e:?}");
    let mock = start_mock(
        std::net::TcpListener::bind("127.0.0.1:0")?,
        MockSettings::default(),
    )
    .await?;
    let mut targets = Vec::new();
    for i in 0..8 {
        let name = format!("Support bot {i}");
        let target = serde_json::from_value(json!({
            "name": name, "connectorType": "HTTP_REST", "endpoint": format!("{}/v1/chat/completions", mock.url()), "authType": "NONE",
            "requestTemplate": {"messagePath": "messages.0.content", "structure": {"model": "m", "messages": [{"role": "user", "content": ""}]}},
            "responseTemplate": {"responsePath": "choices.0.message.content", "tokenUsagePath": "usage"}}))?;
        let (id, _) = core
            .commands
            .create_target(target, json!({}))
            .await
            .map_err(err)?;
        targets.push(Ref {
            id: id.to_string(),
            name,
        });
    }
    let steps: Vec<_> = (0..messages)
        .map(|i| json!({"type": "message", "config": {"content": format!("Question {i}: {{{{lastResponse}}}}")}}))
        .collect();
    let (mut scenarios, mut spec_json) = (Vec::new(), String::new());
    for i in 0..20 {
        let name = format!("Scenario {i}");
        let spec = parse_scenario(&json!({"name": name, "flowConfig": steps}))
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        spec_json = serde_json::to_string(&spec)?;
        let (id, _) = core.commands.create_scenario(spec).await.map_err(err)?;
        scenarios.push(Ref {
            id: id.to_string(),
            name,
        });
    }
    let (target_id, scenario_id) = (targets[0].id.parse()?, scenarios[0].id.parse()?);
    let req = ExecuteRequest {
        target_id,
        scenario_id: Some(scenario_id),
        overrides: ExecutionOverrides::default(),
    };
    let (session, _) = core.commands.execute(req).await.map_err(err)?;
    wait_finished(core, session).await?;
    mock.stop().await;
    Ok((
        Catalog {
            targets,
            scenarios,
            spec_json,
        },
        session,
    ))
}

/// Waits until the session's row says COMPLETED (30 s at most).
async fn wait_finished(core: &Core, session: Uuid) -> anyhow::Result<()> {
    for _ in 0..600 {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM sessions WHERE id = $1")
                .bind(session.to_string())
                .fetch_optional(core.store.pool())
                .await?;
        if status.as_deref() == Some("COMPLETED") {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the pages benchmark's reference session did not complete")
}

/// Drops a scratch PostgreSQL database (its pool may still be open: FORCE).
pub async fn drop_scratch_postgres(base: &str, scratch: &str) -> anyhow::Result<()> {
    let name = scratch
        .rsplit_once('/')
        .map(|(_, n)| n)
        .context("no database name")?;
    let pool = sqlx::AnyPool::connect(base).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&pool)
    .await?;
    Ok(())
}
