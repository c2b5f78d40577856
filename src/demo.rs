//! `serve --demo`: the built-in mocks, a demo target per protocol and a few ready-to-run scenarios
//! (upstream's seed scenarios plus one with a loop and a conditional).

use std::net::TcpListener;

use actors::domain::presets::MOCK_PROTO;
use actors::domain::scenario_input::parse_scenario;
use actors::domain::target::TargetSpec;
use anyhow::Context;
use projections::queries;
use serde_json::{Value, json};

use crate::mock::{GrpcMock, MockServer, MockSettings, start_grpc_mock, start_mock};
use crate::startup::Core;

/// Demo targets, one per protocol, all served by the built-in mocks.
fn demo_targets(mock_url: &str, grpc_endpoint: &str) -> Vec<Value> {
    let ws = mock_url.replacen("http://", "ws://", 1);
    let item = json!({"role": "{{role}}", "content": "{{content}}"});
    let chat = json!({"messagePath": "messages.0.content", "historyPath": "messages", "historyItem": item,
        "structure": {"model": "mock-gpt-4", "messages": [{"role": "user", "content": "{{message}}"}]}});
    vec![
        json!({"name": "Demo mock chatbot (OpenAI-compatible)", "description": "The built-in mock chatbot started by `krawall serve --demo`",
            "connectorType": "HTTP_REST", "endpoint": format!("{mock_url}/v1/chat/completions"), "authType": "NONE", "requestTemplate": chat,
            "responseTemplate": {"responsePath": "choices.0.message.content", "tokenUsagePath": "usage", "errorPath": "error.message"}}),
        json!({"name": "Demo mock chatbot (SSE streaming)", "description": "OpenAI-style `stream: true` against the built-in mock",
            "connectorType": "SSE", "endpoint": format!("{mock_url}/v1/chat/completions"), "authType": "NONE",
            "requestTemplate": {"messagePath": "messages.0.content", "historyPath": "messages", "historyItem": item,
                "structure": {"model": "mock-gpt-4", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "{{message}}"}]}},
            "responseTemplate": {"responsePath": "choices.0.delta.content", "tokenUsagePath": "usage", "errorPath": "error.message"}}),
        json!({"name": "Demo mock chatbot (WebSocket)", "description": "JSON frames with id correlation against the built-in mock's /ws",
            "connectorType": "WEBSOCKET", "endpoint": format!("{ws}/ws"), "authType": "NONE",
            "requestTemplate": {"messagePath": "message", "structure": {"message": "{{message}}"}},
            "responseTemplate": {"responsePath": "data.content", "tokenUsagePath": "usage", "errorPath": "error.message"}, "protocolConfig": {"idPath": "id"}}),
        json!({"name": "Demo mock chatbot (gRPC)", "description": "ChatService/SendMessage of proto/krawall_mock.proto",
            "connectorType": "GRPC", "endpoint": grpc_endpoint, "authType": "NONE",
            "requestTemplate": {"messagePath": "message", "structure": {"message": "{{message}}"}},
            "responseTemplate": {"responsePath": "content", "tokenUsagePath": "usage"},
            "protocolConfig": {"protoContent": MOCK_PROTO, "packageName": "krawall.mock.v1", "serviceName": "ChatService", "methodName": "SendMessage"}}),
    ]
}

/// The mocks a demo node runs; dropping them stops nothing, they live as long as the process.
pub struct DemoMocks {
    pub http: MockServer,
    pub grpc: GrpcMock,
}

/// Starts the HTTP/SSE/WebSocket and gRPC mocks (falling back to free ports) and seeds the demo.
pub async fn start(core: &Core, http_bind: &str, grpc_bind: &str) -> anyhow::Result<DemoMocks> {
    let bind = |addr: &str| TcpListener::bind(addr).or_else(|_| TcpListener::bind("127.0.0.1:0"));
    let settings = MockSettings {
        latency_ms: 150,
        jitter_ms: 300,
        ..MockSettings::default()
    };
    let http = start_mock(
        bind(http_bind).context("cannot bind the mock")?,
        settings.clone(),
    )
    .await?;
    let grpc = start_grpc_mock(
        bind(grpc_bind).context("cannot bind the gRPC mock")?,
        settings,
    )
    .await?;
    seed(core, &http.url(), &grpc.endpoint()).await?;
    tracing::info!(url = %http.url(), grpc = %grpc.endpoint(), "demo mock chatbot running");
    Ok(DemoMocks { http, grpc })
}

fn msg(content: &str) -> Value {
    json!({"type": "message", "config": {"content": content}})
}

fn demo_scenarios() -> Vec<Value> {
    vec![
        json!({"name": "Stress Test: Repetitive Queries", "category": "stress", "repetitions": 5, "delayBetweenMs": 1000, "verbosityLevel": "verbose",
            "flowConfig": [msg("Explain how large language models work."), msg("Elaborate on that with more detail."),
                msg("Explain that again, but more thoroughly."), msg("Repeat your explanation with examples."),
                msg("Now give me the maximal verbosity version of everything above.")]}),
        json!({"name": "Format Test: XML Bomb", "category": "format", "repetitions": 3, "delayBetweenMs": 500, "verbosityLevel": "extreme",
            "flowConfig": [msg("Describe a product catalog as nested XML."), msg("Nest every element of that XML three levels deeper."),
                msg("Now add full XML attributes and comments to every node.")]}),
        json!({"name": "Context Test: Accumulation", "category": "context", "repetitions": 2, "delayBetweenMs": 1500, "verbosityLevel": "verbose",
            "flowConfig": [msg("Tell me about artificial intelligence."), msg("What is its history?"), msg("Who were the key researchers?"),
                msg("What are its applications today?"), msg("Describe the architecture of a modern model, referencing everything above.")]}),
        json!({"name": "Edge Case: Mixed Requests", "category": "edge-cases", "repetitions": 2, "delayBetweenMs": 800,
            "flowConfig": [msg("Hello"), msg("Repeat exactly what I said before."), msg("Answer as JSON."), msg("Now as YAML."), msg("Now as CSV.")]}),
        json!({"name": "Branching: loop and conditional", "category": "logic", "repetitions": 1, "delayBetweenMs": 0,
            "messageTemplates": {"greeting": "Hi, this is conversation {{conversationId}}."},
            "flowConfig": [msg("{{greeting}}"),
                {"type": "loop", "config": {"iterations": 3, "steps": [msg("Question {{index}}: explain that again in more detail.")]}},
                {"type": "conditional", "config": {"condition": "length>20",
                    "thenSteps": [msg("Summarize everything so far: {{lastResponse}}")],
                    "elseSteps": [msg("That was short. Please elaborate.")]}}]}),
    ]
}

/// Creates (or re-points) the demo targets and creates missing demo scenarios.
pub async fn seed(core: &Core, mock_url: &str, grpc_endpoint: &str) -> anyhow::Result<()> {
    let pool = core.store.pool();
    let err = |e: actors::commands::CommandError| anyhow::anyhow!("{e:?}");
    let existing = queries::list_targets(pool, None).await?;
    for body in demo_targets(mock_url, grpc_endpoint) {
        let spec: TargetSpec = serde_json::from_value(body)?;
        match existing.iter().find(|t| t.name == spec.name) {
            Some(t) => {
                let id = t.id.parse().context("stored target id is not a uuid")?;
                core.commands
                    .update_target(id, spec, None)
                    .await
                    .map_err(err)?;
            }
            None => {
                core.commands
                    .create_target(spec, json!({}))
                    .await
                    .map_err(err)?;
            }
        }
    }
    let names: Vec<String> = queries::list_scenarios(pool, None)
        .await?
        .into_iter()
        .filter_map(|s| s.spec["name"].as_str().map(str::to_string))
        .collect();
    for raw in demo_scenarios() {
        if names
            .iter()
            .any(|n| Some(n.as_str()) == raw["name"].as_str())
        {
            continue;
        }
        let spec =
            parse_scenario(&raw).map_err(|e| anyhow::anyhow!("demo scenario invalid: {e:?}"))?;
        core.commands.create_scenario(spec).await.map_err(err)?;
    }
    Ok(())
}

/// Prints how to log in. With `--demo`: a `demo` admin with a random password, printed once
/// (created at the first demo start of a data dir). Without: a hint while no user exists.
pub async fn announce_login(core: &Core, demo: bool) -> anyhow::Result<()> {
    let accounts = &core.accounts;
    if demo {
        if accounts.user("demo").await?.is_some() {
            tracing::info!(
                "demo login: user `demo` (its password was printed when it was created)"
            );
            return Ok(());
        }
        let password = actors::secrets::random_token("")[..20].to_string();
        accounts
            .create_user(
                "demo",
                &password,
                actors::domain::account::Role::Admin,
                "demo",
            )
            .await?;
        eprintln!(
            "\n  Demo login  ->  username: demo   password: {password}\n  (shown once; add users with `krawall users add`)\n"
        );
    } else if !accounts.has_users().await? {
        tracing::warn!(
            "no account yet: open /setup from this machine, or run `krawall users add --role admin`"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_data_is_valid() {
        for t in demo_targets("http://127.0.0.1:1", "127.0.0.1:2") {
            serde_json::from_value::<TargetSpec>(t).unwrap();
        }
        for s in demo_scenarios() {
            parse_scenario(&s).unwrap();
        }
    }
}
