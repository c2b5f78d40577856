//! Conversations and messages per second against the in-process mock (0 ms latency).

use std::time::Instant;

use actors::commands::{ExecuteRequest, ExecutionOverrides};
use actors::domain::events::EventType;
use actors::domain::presets::MOCK_PROTO;
use actors::domain::scenario_input::parse_scenario;
use anyhow::Context;
use futures_util::StreamExt;
use serde_json::json;
use uuid::Uuid;

use super::support::{cpu_seconds, tempfile_dir};
use crate::config::Settings;
use crate::mock::{MockSettings, start_grpc_mock, start_mock};
use crate::startup::Core;

/// The wire protocol a conversation benchmark drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    WebSocket,
    Sse,
    Grpc,
}

impl Protocol {
    fn label(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::WebSocket => "websocket",
            Self::Sse => "sse",
            Self::Grpc => "grpc",
        }
    }
}

/// A target body for `protocol` against the in-process mocks.
pub(super) fn target_body(
    protocol: Protocol,
    mock_url: &str,
    grpc_endpoint: &str,
) -> serde_json::Value {
    let openai = json!({"messagePath": "messages.0.content", "structure": {"model": "m", "messages": [{"role": "user", "content": ""}]}});
    match protocol {
        Protocol::Http => {
            json!({"name": "bench", "connectorType": "HTTP_REST", "endpoint": format!("{mock_url}/v1/chat/completions"), "authType": "NONE",
            "requestTemplate": openai, "responseTemplate": {"responsePath": "choices.0.message.content", "tokenUsagePath": "usage"}})
        }
        Protocol::Sse => {
            json!({"name": "bench", "connectorType": "SSE", "endpoint": format!("{mock_url}/v1/chat/completions"), "authType": "NONE",
            "requestTemplate": {"messagePath": "messages.0.content", "structure": {"model": "m", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": ""}]}},
            "responseTemplate": {"responsePath": "choices.0.delta.content", "tokenUsagePath": "usage"}})
        }
        Protocol::WebSocket => {
            json!({"name": "bench", "connectorType": "WEBSOCKET", "endpoint": format!("{}/ws", mock_url.replacen("http://", "ws://", 1)), "authType": "NONE",
            "requestTemplate": {"messagePath": "message", "structure": {"message": ""}},
            "responseTemplate": {"responsePath": "data.content", "tokenUsagePath": "usage"}, "protocolConfig": {"idPath": "id"}})
        }
        Protocol::Grpc => {
            json!({"name": "bench", "connectorType": "GRPC", "endpoint": grpc_endpoint, "authType": "NONE",
            "requestTemplate": {"messagePath": "message", "structure": {"message": ""}},
            "responseTemplate": {"responsePath": "content", "tokenUsagePath": "usage"},
            "protocolConfig": {"protoContent": MOCK_PROTO, "packageName": "krawall.mock.v1", "serviceName": "ChatService", "methodName": "SendMessage"}})
        }
    }
}

pub(super) fn command_error(e: actors::commands::CommandError) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

/// Creates the bench target and a scenario of `messages` questions chained on the last reply.
pub(super) async fn create_fixtures(
    core: &Core,
    target: serde_json::Value,
    messages: u32,
) -> anyhow::Result<(Uuid, Uuid)> {
    let target = serde_json::from_value(target)?;
    let (target_id, _) = core
        .commands
        .create_target(target, json!({}))
        .await
        .map_err(command_error)?;
    let steps: Vec<_> = (0..messages).map(|i| json!({"type": "message", "config": {"content": format!("Question {i}: {{{{lastResponse}}}}")}})).collect();
    let spec = parse_scenario(&json!({"name": "bench", "flowConfig": steps}))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (scenario_id, _) = core
        .commands
        .create_scenario(spec)
        .await
        .map_err(command_error)?;
    Ok((target_id, scenario_id))
}

/// What a run produced, read from the event log.
pub(super) struct Outcome {
    pub(super) completed: u32,
    /// Persisted successful exchanges (`ResponseReceived`), not planned messages.
    pub(super) replies: u64,
}

/// Follows the log from `from` until `conversations` sessions ended, counting completed sessions
/// and stored replies.
pub(super) async fn wait_for_sessions(
    core: &Core,
    from: i64,
    conversations: u32,
) -> anyhow::Result<Outcome> {
    let mut events = std::pin::pin!(core.store.subscribe(from));
    let (mut finished, mut completed, mut replies) = (0, 0, 0);
    while finished < conversations {
        let e = events.next().await.context("subscription ended")??;
        match EventType::parse(&e.event_type) {
            Some(EventType::ResponseReceived) => replies += 1,
            Some(EventType::SessionCompleted) => {
                (finished, completed) = (finished + 1, completed + 1);
            }
            Some(EventType::SessionFailed | EventType::SessionCancelled) => finished += 1,
            _ => {}
        }
    }
    Ok(Outcome { completed, replies })
}

pub async fn bench_conversations(
    conversations: u32,
    messages: u32,
    protocol: Protocol,
) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let mut settings = Settings::new(dir.clone());
    settings.recover_sessions = false;
    settings.background_workers = false;
    settings.max_concurrent_sessions = conversations as usize;
    let core = Core::start(&settings).await?;
    let mock = start_mock(
        std::net::TcpListener::bind("127.0.0.1:0")?,
        MockSettings::default(),
    )
    .await?;
    let grpc = start_grpc_mock(
        std::net::TcpListener::bind("127.0.0.1:0")?,
        MockSettings::default(),
    )
    .await?;
    let body = target_body(protocol, &mock.url(), &grpc.endpoint());
    let (target_id, scenario_id) = create_fixtures(&core, body, messages).await?;
    let from = core.store.head_position().await?;
    let (started, cpu) = (Instant::now(), cpu_seconds());
    for _ in 0..conversations {
        let req = ExecuteRequest {
            target_id,
            scenario_id: Some(scenario_id),
            overrides: ExecutionOverrides::default(),
        };
        core.commands.execute(req).await.map_err(command_error)?;
    }
    let outcome = wait_for_sessions(&core, from, conversations).await?;
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    // Events the read models have not applied yet when the last session ended.
    let lag = core.store.head_position().await? - core.projections.position();
    let (completed, replies) = (outcome.completed, outcome.replies);
    let planned = u64::from(conversations) * u64::from(messages);
    let per_reply = replies.max(1) as f64;
    println!(
        "sessions {:<9} {conversations:>5} concurrent × {messages} msgs: {completed}/{conversations} completed, {replies}/{planned} replies stored in {secs:.2} s = {:.1} conv/s, {:.0} replies/s, CPU {:.0} µs/reply (incl. in-process mock + SQLite), read-model lag {lag} events",
        protocol.label(),
        f64::from(conversations) / secs,
        replies as f64 / secs,
        cpu * 1e6 / per_reply
    );
    mock.stop().await;
    grpc.stop().await;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
