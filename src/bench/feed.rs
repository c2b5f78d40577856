//! Live-feed latency: from an event's append returning to an SSE client receiving its `id:` frame,
//! on `GET /api/sessions/{id}/stream` and on `GET /api/stream` (the command center's feed).
//! A full node on SQLite; one real session sits in a long delay step (so its stream is open and
//! not finished) while another task appends `ResponseReceived` events to it one at a time.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actors::commands::{ExecuteRequest, ExecutionOverrides};
use actors::domain::events::{
    DomainEvent, EventType, ExchangeRef, ResponseReceived, TokenCounts, session_stream,
};
use actors::domain::scenario_input::parse_scenario;
use actors::store::{AppendRequest, ExpectedVersion, NewEvent};
use anyhow::Context;
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::stats::Percentiles;
use super::support::tempfile_dir;
use crate::config::Settings;
use crate::startup::{Application, Core};

/// Runs the feed benchmark with `events` appends per measurement.
pub async fn bench_feed(events: usize) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let mut settings = Settings::new(dir.clone());
    settings.bind = "127.0.0.1:0".into();
    // A loopback node measured without authentication (no token lookup per request).
    settings.auth = crate::config::AuthMode::Off;
    settings.recover_sessions = false;
    settings.background_workers = false;
    let app = Application::build(&settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let core = app.core.clone();
    actix_web::rt::spawn(app.run_until_stopped());
    let session = idle_session(&core).await?;
    let session_path = format!("/api/sessions/{session}/stream");
    let mut index = 0u32;
    for (label, path, pace) in [
        ("session stream, back to back", session_path.as_str(), None),
        ("session stream, 1 per 2 ms", session_path.as_str(), Some(2)),
        ("global stream, back to back", "/api/stream", None),
        ("global stream, 1 per 2 ms", "/api/stream", Some(2)),
    ] {
        let head = core.store.head_position().await?;
        let (ready, received) = spawn_reader(format!("{base}{path}"), head, events);
        let status = ready.await.context("the SSE client thread failed")??;
        if !status.is_success() {
            println!("feed     {label:<30} GET {path} answered {status}: skipped");
            continue;
        }
        let started = Instant::now();
        let sent = append_events(&core, session, &mut index, events, pace).await?;
        let rate = events as f64 / started.elapsed().as_secs_f64();
        let received = tokio::time::timeout(Duration::from_secs(60), received)
            .await
            .context("the SSE client did not receive every event within 60 s")?
            .context("the SSE client thread failed")??;
        report(label, rate, &sent, &received);
    }
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

/// Queues a session whose plan is a long delay and waits until it started, so its stream exists
/// and stays open; returns its id.
async fn idle_session(core: &Core) -> anyhow::Result<Uuid> {
    let err = |e: actors::commands::CommandError| anyhow::anyhow!("{e:?}");
    let target = serde_json::from_value(json!({
        "name": "feed", "connectorType": "HTTP_REST", "endpoint": "http://127.0.0.1:9/v1/chat/completions", "authType": "NONE",
        "requestTemplate": {"messagePath": "messages.0.content", "structure": {"model": "m", "messages": [{"role": "user", "content": ""}]}},
        "responseTemplate": {"responsePath": "choices.0.message.content"}}))?;
    let (target_id, _) = core
        .commands
        .create_target(target, json!({}))
        .await
        .map_err(err)?;
    let wait = json!({"type": "loop", "config": {"iterations": 100, "steps": [{"type": "delay", "config": {"durationMs": 300_000}}]}});
    let spec = parse_scenario(&json!({"name": "feed", "flowConfig": [wait]}))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (scenario_id, _) = core.commands.create_scenario(spec).await.map_err(err)?;
    let req = ExecuteRequest {
        target_id,
        scenario_id: Some(scenario_id),
        overrides: ExecutionOverrides::default(),
    };
    let (session, _) = core.commands.execute(req).await.map_err(err)?;
    let stream = session_stream(session);
    for _ in 0..200 {
        let events = core.store.read_stream(&stream).await?;
        if events
            .iter()
            .any(|e| e.event_type == EventType::SessionStarted.as_str())
        {
            return Ok(session);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    anyhow::bail!("the feed session never started")
}

/// A reply as a session actor records it (about 300 bytes of text).
fn reply(session: Uuid, index: u32) -> anyhow::Result<NewEvent> {
    let event = DomainEvent::ResponseReceived(ResponseReceived {
        cost: None,
        repetition_score: None,
        quality_score: None,
        exchange: ExchangeRef {
            session_id: session,
            message_index: index,
            repetition_index: 0,
            attempt: 0,
        },
        content: format!(
            "Reply {index}: {}",
            "lorem ipsum dolor sit amet ".repeat(11)
        ),
        latency_ms: 150,
        status: Some(200),
        tokens: TokenCounts {
            input: 40,
            output: 75,
            estimated: false,
        },
        raw_size: 640,
        stream: None,
        sealed: None,
    });
    let (event_type, payload) = event.to_parts()?;
    Ok(NewEvent {
        event_id: Uuid::now_v7(),
        event_type,
        payload,
        metadata: json!({}),
    })
}

/// Appends `events` replies one at a time; returns (position, instant the append returned).
async fn append_events(
    core: &Core,
    session: Uuid,
    index: &mut u32,
    events: usize,
    pace_ms: Option<u64>,
) -> anyhow::Result<Vec<(i64, Instant)>> {
    let mut sent = Vec::with_capacity(events);
    for _ in 0..events {
        let req = AppendRequest {
            stream_id: session_stream(session),
            expected: ExpectedVersion::Any,
            events: vec![reply(session, *index)?],
        };
        *index += 1;
        let outcome = core.store.append(req).await?;
        sent.push((outcome.last_position, Instant::now()));
        if let Some(ms) = pace_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }
    Ok(sent)
}

type Received = anyhow::Result<Vec<(i64, Instant)>>;

/// An SSE client on its own thread and runtime (like a browser, it does not share a thread with
/// the node): the first channel answers the response status once the stream is open, the second
/// the frames received.
fn spawn_reader(
    url: String,
    head: i64,
    events: usize,
) -> (
    oneshot::Receiver<anyhow::Result<reqwest::StatusCode>>,
    oneshot::Receiver<Received>,
) {
    let (ready_tx, ready) = oneshot::channel();
    let (done_tx, done) = oneshot::channel();
    std::thread::spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => return drop(ready_tx.send(Err(e.into()))),
        };
        runtime.block_on(async move {
            let client = reqwest::Client::new();
            let sent = client
                .get(url)
                .header("last-event-id", head.to_string())
                .send()
                .await;
            let resp = match sent {
                Ok(resp) => resp,
                Err(e) => return drop(ready_tx.send(Err(e.into()))),
            };
            let ok = resp.status().is_success();
            let _ = ready_tx.send(Ok(resp.status()));
            if ok {
                let _ = done_tx.send(read_ids(resp, events).await);
            }
        });
    });
    (ready, done)
}

/// Reads SSE frames until `events` `ResponseReceived` frames arrived; returns (id, instant of
/// receipt) of every frame with an `id:` (the caller matches them against what it appended).
async fn read_ids(resp: reqwest::Response, events: usize) -> anyhow::Result<Vec<(i64, Instant)>> {
    let mut body = resp.bytes_stream();
    let (mut buffer, mut ids) = (Vec::<u8>::new(), Vec::new());
    let mut matched = 0usize;
    while matched < events {
        let chunk = body.next().await.context("the SSE stream ended")??;
        let now = Instant::now();
        buffer.extend_from_slice(&chunk);
        while let Some(end) = find(&buffer, b"\n\n") {
            let frame: Vec<u8> = buffer.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&frame);
            let id = text.lines().find_map(|l| l.strip_prefix("id: "));
            if let Some(id) = id.and_then(|v| v.trim().parse::<i64>().ok()) {
                ids.push((id, now));
                if text.contains("\"ResponseReceived\"") {
                    matched += 1;
                }
            }
        }
    }
    Ok(ids)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn report(label: &str, rate: f64, sent: &[(i64, Instant)], received: &[(i64, Instant)]) {
    let at: HashMap<i64, Instant> = received.iter().copied().collect();
    let mut early = 0usize;
    let micros: Vec<f64> = sent
        .iter()
        .filter_map(|(position, sent_at)| {
            let got = at.get(position)?;
            if got < sent_at {
                early += 1;
            }
            Some(got.saturating_duration_since(*sent_at).as_secs_f64() * 1e6)
        })
        .collect();
    let p = Percentiles::of(micros.clone());
    println!(
        "feed     {label:<30} {}/{} events at {rate:.0}/s: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({early} arrived before append() returned: counted as 0)",
        micros.len(),
        sent.len(),
        p.p50 / 1e3,
        p.p95 / 1e3,
        p.p99 / 1e3,
        p.max / 1e3
    );
}
