//! `serve --demo`: a demo target pointing at the built-in mock and a few ready-to-run scenarios
//! (upstream's seed scenarios plus one with a loop and a conditional).

use actors::domain::scenario_input::parse_scenario;
use actors::domain::target::TargetSpec;
use anyhow::Context;
use projections::queries;
use serde_json::{Value, json};

use crate::startup::Core;

const DEMO_TARGET: &str = "Demo mock chatbot (OpenAI-compatible)";

fn demo_target(mock_url: &str) -> anyhow::Result<TargetSpec> {
    Ok(serde_json::from_value(json!({
        "name": DEMO_TARGET,
        "description": "The built-in mock chatbot started by `krawall serve --demo`",
        "connectorType": "HTTP_REST",
        "endpoint": format!("{mock_url}/v1/chat/completions"),
        "authType": "NONE",
        "requestTemplate": {"messagePath": "messages.0.content", "structure": {"model": "mock-gpt-4", "messages": [{"role": "user", "content": "{{message}}"}]}},
        "responseTemplate": {"responsePath": "choices.0.message.content", "tokenUsagePath": "usage", "errorPath": "error.message"},
    }))?)
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

/// Creates (or re-points) the demo target and creates missing demo scenarios.
pub async fn seed(core: &Core, mock_url: &str) -> anyhow::Result<()> {
    let pool = core.store.pool();
    let spec = demo_target(mock_url)?;
    let existing = queries::list_targets(pool, None)
        .await?
        .into_iter()
        .find(|t| t.name == DEMO_TARGET);
    let err = |e: actors::commands::CommandError| anyhow::anyhow!("{e:?}");
    match existing {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_data_is_valid() {
        demo_target("http://127.0.0.1:1").unwrap();
        for s in demo_scenarios() {
            parse_scenario(&s).unwrap();
        }
    }
}
