//! `krawall run`: one session in-process against a stored target or a URL, printed as a summary
//! table; the exit code says whether it completed (for CI).

use std::time::Duration;

use actors::commands::{ExecuteRequest, ExecutionOverrides};
use actors::domain::events::DomainEvent;
use actors::domain::scenario::Budget;
use actors::domain::scenario_input::parse_scenario;
use actors::domain::target::{
    AuthType, ConnectorType, RequestTemplate, ResponseTemplate, TargetSpec,
};
use actors::domain::thresholds::ThresholdResult;
use anyhow::{Context, bail};
use projections::queries::{self, SessionView};
use serde_json::json;
use uuid::Uuid;

use crate::cli::RunArgs;
use crate::config::Settings;
use crate::follow::follow_session;
use crate::junit::junit_report;
use crate::run_args::{overrides_from, thresholds_from};
use crate::startup::Core;

/// Runs the session; returns the process exit code.
pub async fn run(args: RunArgs) -> anyhow::Result<i32> {
    let mut settings = Settings::from_store_args(&args.store);
    settings.recover_sessions = false;
    settings.background_workers = false;
    settings.session_arbiters = 0;
    let budget = (args.max_tokens.is_some() || args.max_cost.is_some()).then_some(Budget {
        max_tokens: args.max_tokens,
        max_cost: args.max_cost,
    });
    let overrides = ExecutionOverrides {
        repetitions: args.repetitions,
        concurrency: args.concurrency,
        thresholds: thresholds_from(&args.thresholds)?,
        budget,
        ..overrides_from(&args.load)?
    };
    let core = Core::start(&settings).await?;
    let target_id = resolve_target(&core, &args).await?;
    let scenario_id = resolve_scenario(&core, &args.scenario).await?;
    let request = ExecuteRequest {
        target_id,
        scenario_id: Some(scenario_id),
        overrides,
    };
    let (session_id, position) = core
        .commands
        .execute(request)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    eprintln!("session {session_id} queued");
    let end = follow(&core, session_id, position - 1).await?;
    core.projections
        .wait_for(end, Duration::from_secs(30))
        .await;
    let view = queries::get_session(core.store.pool(), &session_id.to_string())
        .await?
        .context("session row missing")?;
    print_summary(&view);
    let verdicts = view
        .summary_metrics
        .as_ref()
        .and_then(|m| serde_json::from_value::<Vec<ThresholdResult>>(m["thresholds"].clone()).ok())
        .unwrap_or_default();
    print_thresholds(&verdicts);
    if let Some(path) = &args.junit {
        std::fs::write(path, junit_report(&view.id, &verdicts))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(exit_code(&view, args.max_error_rate, &verdicts))
}

async fn resolve_target(core: &Core, args: &RunArgs) -> anyhow::Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(&args.target) {
        return Ok(id);
    }
    if !args.target.starts_with("http://") && !args.target.starts_with("https://") {
        bail!(
            "--target must be a target id or an http(s) URL, got {:?}",
            args.target
        );
    }
    let (auth_type, auth) = match &args.token {
        Some(token) => (AuthType::BearerToken, json!({ "token": token })),
        None => (AuthType::None, json!({})),
    };
    let spec = TargetSpec {
        name: format!("cli: {}", args.target),
        description: Some("created by `krawall run`".into()),
        connector_type: ConnectorType::HttpRest,
        endpoint: args.target.clone(),
        auth_type,
        request_template: RequestTemplate {
            message_path: args.message_path.clone(),
            structure: Some(
                json!({ "model": "gpt-4o-mini", "messages": [{ "role": "user", "content": "{{message}}" }] }),
            ),
            history_path: (args.message_path == "messages.0.content").then(|| "messages".into()),
            history_item: (args.message_path == "messages.0.content")
                .then(|| json!({"role": "{{role}}", "content": "{{content}}"})),
            ..RequestTemplate::default()
        },
        response_template: ResponseTemplate {
            response_path: args.response_path.clone(),
            token_usage_path: None,
            error_path: Some("error.message".into()),
        },
        protocol_config: None,
        rate_limit: None,
    };
    let (id, _) = core
        .commands
        .create_target(spec, auth)
        .await
        .map_err(|e| anyhow::anyhow!("target rejected: {e:?}"))?;
    Ok(id)
}

async fn resolve_scenario(core: &Core, scenario: &str) -> anyhow::Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(scenario) {
        return Ok(id);
    }
    let text = std::fs::read_to_string(scenario)
        .with_context(|| format!("cannot read scenario file {scenario}"))?;
    let raw: serde_json::Value = serde_yaml::from_str(&text)
        .with_context(|| format!("{scenario} is not valid YAML/JSON"))?;
    let spec = parse_scenario(&raw).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "{scenario} is not a valid scenario:\n  {}",
            lines.join("\n  ")
        )
    })?;
    let (id, _) = core
        .commands
        .create_scenario(spec)
        .await
        .map_err(|e| anyhow::anyhow!("scenario rejected: {e:?}"))?;
    Ok(id)
}

/// Prints each exchange as it happens; returns the position of the session's terminal event.
async fn follow(core: &Core, session_id: Uuid, from: i64) -> anyhow::Result<i64> {
    let (_, position) = follow_session(core, session_id, from, |event| match event {
        DomainEvent::ResponseReceived(r) => eprintln!(
            "  #{:<4} ok    {:>6} ms  {:>5} tok",
            r.exchange.message_index,
            r.latency_ms,
            r.tokens.input + r.tokens.output
        ),
        DomainEvent::MessageFailed(f) => eprintln!(
            "  #{:<4} {:<5} {:>6} ms  {}",
            f.exchange.message_index,
            f.kind.as_str(),
            f.latency_ms,
            f.error
        ),
        _ => {}
    })
    .await?;
    Ok(position)
}

fn print_summary(v: &SessionView) {
    let rows = [
        ("session", v.id.clone()),
        ("target", v.target_name.clone()),
        ("scenario", v.scenario_name.clone()),
        ("status", v.status.clone()),
        ("messages", v.message_count.to_string()),
        ("errors", v.error_count.to_string()),
        (
            "tokens in / out",
            format!("{} / {}", v.tokens_in, v.tokens_out),
        ),
        ("avg latency", format!("{:.1} ms", v.avg_latency_ms)),
    ];
    println!("{:-<60}", "");
    for (k, val) in rows {
        println!("{k:<18}{val}");
    }
    if let Some(m) = &v.summary_metrics {
        println!(
            "{:<18}p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
            "latency", m["p50LatencyMs"], m["p95LatencyMs"], m["p99LatencyMs"], m["maxLatencyMs"]
        );
        print_load(m);
    }
    if let Some(reason) = &v.failure_reason {
        println!(
            "{:<18}{reason}: {}",
            "failure",
            v.error.clone().unwrap_or_default()
        );
    }
    println!("{:-<60}", "");
}

fn print_load(m: &serde_json::Value) {
    let load = &m["load"];
    if load.is_null() {
        return;
    }
    let intended = load["intendedConversations"]
        .as_u64()
        .map_or(String::new(), |n| format!(" of {n} intended"));
    println!(
        "{:<18}{} started{intended}, {} completed, {} dropped, peak {} at once",
        "conversations",
        load["startedConversations"],
        load["completedConversations"],
        load["droppedConversations"],
        load["peakConcurrent"]
    );
    println!(
        "{:<18}{} ({}), {} ms; waited {} ms (back-off {} ms); p99 from due {} ms",
        "load",
        load["executor"].as_str().unwrap_or_default(),
        load["stopReason"].as_str().unwrap_or_default(),
        load["durationMs"],
        m["waitMs"],
        m["backoffMs"],
        m["p99LatencyFromDueMs"]
    );
}

fn print_thresholds(verdicts: &[ThresholdResult]) {
    for t in verdicts {
        let mark = if t.passed { "ok  " } else { "FAIL" };
        println!("{mark} {} {} (actual {})", t.metric, t.condition, t.actual);
    }
}

/// Exit codes: 0 completed (and every threshold passed), 1 not completed, 2 above
/// `--max-error-rate`, 3 a threshold failed.
fn exit_code(v: &SessionView, max_error_rate: Option<f64>, verdicts: &[ThresholdResult]) -> i32 {
    if v.status != "COMPLETED" {
        return 1;
    }
    if verdicts.iter().any(|t| !t.passed) {
        return 3;
    }
    let rate = if v.message_count > 0 {
        100.0 * v.error_count as f64 / v.message_count as f64
    } else {
        0.0
    };
    match max_error_rate {
        Some(max) if rate > max => 2,
        _ => 0,
    }
}
